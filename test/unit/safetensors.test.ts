import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';

describe('safetensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evnn-st-'));

  it('round-trips tensors of several dtypes with metadata', () => {
    const file = join(dir, 'a.safetensors');
    const a = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    const b = Int32Array.from([7, -8]);
    const c = Uint8Array.from([1, 2, 3]);
    writeSafetensors(file, { 'rnn.weight_ih_l0': { shape: [2, 3], data: a }, b: { shape: [2], data: b }, c: { shape: [3], data: c } }, { epoch: '3' });
    const r = readSafetensors(file);
    expect(r.metadata).toEqual({ epoch: '3' });
    expect(r.tensors.get('rnn.weight_ih_l0')).toEqual({ dtype: 'F32', shape: [2, 3], data: a });
    expect(r.tensors.get('b')).toEqual({ dtype: 'I32', shape: [2], data: b });
    expect(r.tensors.get('c')).toEqual({ dtype: 'U8', shape: [3], data: c });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lays the file out as the format specifies: u64 header length, JSON header, aligned data', () => {
    const bytes = Buffer.concat(encodeSafetensors({ x: { shape: [1], data: Float32Array.from([1]) } }));
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.x).toEqual({ dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    expect(bytes.readFloatLE(8 + n)).toBe(1);
  });

  it('names the file and the problem for a truncated file', () => {
    const file = join(dir, 'b.safetensors');
    writeSafetensors(file, { x: { shape: [4], data: new Float32Array(4) } });
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 3));
    expect(() => readSafetensors(file)).toThrow(`${file}: truncated: tensor x ends at byte ${whole.length} but the file has ${whole.length - 3}`);
    writeFileSync(file, whole.subarray(0, 5));
    expect(() => readSafetensors(file)).toThrow(`${file}: truncated: 5 bytes, too short for a header`);
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(4) } })).toThrow('tensor x has 4 elements but shape [3]');
  });
});
