// The engine's Philox4x32-10 against the published Random123 known-answer vectors
// (kat_vectors, philox4x32_10), and the uniform stream built on it.
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { firstDifference } from './helpers.js';

const addon = native();
const initialThreads = addon.info().threads;
afterAll(() => addon.setThreads(initialThreads));

const hex = (words: Uint32Array) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

describe('philoxBlock (Random123 known answers)', () => {
  const vectors: [number[], number[], string][] = [
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ];
  it.each(vectors)('counter %j key %j', (ctr, key, expected) => {
    expect(hex(addon.philoxBlock(Uint32Array.from(ctr), Uint32Array.from(key)))).toBe(expected);
  });
});

describe('philoxUniform', () => {
  const toUniform = (w: number) => (w >>> 8) / 16777216;

  it('element i is output word (offset+i) mod 4 of block (offset+i)/4, key = seed', () => {
    const seed = 0x0123456789abcdefn;
    const offset = 4n * 0x1_0000_0002n + 3n; // block counter above 2^32: both low counter words used
    const out = new Float32Array(9);
    addon.philoxUniform(out, seed, offset);
    const key = Uint32Array.from([Number(seed & 0xffffffffn), Number(seed >> 32n)]);
    for (let i = 0; i < out.length; i++) {
      const p = offset + BigInt(i);
      const block = p / 4n;
      const ctr = Uint32Array.from([Number(block & 0xffffffffn), Number(block >> 32n), 0, 0]);
      expect(out[i]).toBe(toUniform(addon.philoxBlock(ctr, key)[Number(p % 4n)]));
    }
  });

  it('values lie in [0, 1) with mean 1/2 and variance 1/12', () => {
    const out = new Float32Array(200_000);
    addon.philoxUniform(out, 42n, 0n);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (const v of out) {
      if (!(v >= 0 && v < 1)) outside++;
      sum += v;
      sq += v * v;
    }
    expect(outside).toBe(0);
    const mean = sum / out.length;
    const variance = sq / out.length - mean * mean;
    // Standard error of the mean is 0.289/sqrt(2e5) = 6.5e-4: these bounds are > 7 sigma.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('shifting the offset shifts the stream; another seed gives another stream', () => {
    const a = new Float32Array(1000);
    const b = new Float32Array(997);
    const c = new Float32Array(1000);
    addon.philoxUniform(a, 7n, 100n);
    addon.philoxUniform(b, 7n, 103n);
    addon.philoxUniform(c, 8n, 100n);
    expect(firstDifference(a.subarray(3), b)).toBeNull();
    expect(a.filter((v, i) => v === c[i]).length).toBeLessThan(5);
  });

  it('does not depend on the thread count', () => {
    const n = 100_003; // several parallel chunks, an odd tail
    const outs = [1, 2, 3].map((t) => {
      addon.setThreads(t);
      const o = new Float32Array(n);
      addon.philoxUniform(o, 2024n, 5n);
      return o;
    });
    expect(firstDifference(outs[0], outs[1])).toBeNull();
    expect(firstDifference(outs[0], outs[2])).toBeNull();
  });

  it('accepts the full 64-bit range of seed and offset (the position wraps modulo 2^64)', () => {
    const max = (1n << 64n) - 1n;
    const out = new Float32Array(2);
    addon.philoxUniform(out, max, max);
    const wrapped = new Float32Array(1);
    addon.philoxUniform(wrapped, max, 0n);
    expect(out[1]).toBe(wrapped[0]);
  });
});
