import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Int16, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeImagesArrow, encodeImagesArrow, readImagesArrow, writeImagesArrow } from '../../src/data/arrow-images.js';
import { DatasetError } from '../../src/data/errors.js';
import { tempDir } from './fixtures.js';

function sample(count: number, salt: number): { labels: Int8Array; pixels: Uint8Array } {
  const labels = new Int8Array(count);
  const pixels = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) {
    labels[i] = (i + salt) % 10;
    for (let k = 0; k < 784; k++) pixels[i * 784 + k] = (i * 13 + k + salt) % 256;
  }
  return { labels, pixels };
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('Arrow image files', () => {
  it('round-trips labels and pixels through an IPC file', () => {
    const { labels, pixels } = sample(7, 0);
    const path = join(tmp.dir, 'a.arrow');
    writeImagesArrow(path, labels, pixels);
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 6).toString()).toBe('ARROW1'); // file format, not stream
    const got = readImagesArrow(path);
    expect(got.count).toBe(7);
    expect(Array.from(got.labels)).toEqual(Array.from(labels));
    expect(Buffer.from(got.pixels).equals(Buffer.from(pixels))).toBe(true);
    // The schema other Arrow readers see.
    const table = tableFromIPC(bytes);
    expect(String(table.schema.fields[0].type)).toBe('Int8');
    expect(String(table.schema.fields[1].type)).toBe('FixedSizeList[784]<Uint8>');
  });

  it('round-trips an empty split', () => {
    const path = join(tmp.dir, 'empty.arrow');
    writeImagesArrow(path, new Int8Array(0), new Uint8Array(0));
    const got = readImagesArrow(path);
    expect(got.count).toBe(0);
    expect(got.labels.length).toBe(0);
    expect(got.pixels.length).toBe(0);
  });

  it('concatenates several record batches in order', () => {
    const a = sample(3, 0);
    const b = sample(4, 5);
    const table = tableFromIPC(encodeImagesArrow(a.labels, a.pixels)).concat(tableFromIPC(encodeImagesArrow(b.labels, b.pixels)));
    expect(table.batches.length).toBe(2);
    const got = decodeImagesArrow(tableToIPC(table, 'file'), 'two.arrow');
    expect(got.count).toBe(7);
    expect(Array.from(got.labels)).toEqual([...a.labels, ...b.labels]);
    expect(Array.from(got.pixels.subarray(3 * 784, 3 * 784 + 5))).toEqual(Array.from(b.pixels.subarray(0, 5)));
    expect(got.pixels[6 * 784 + 783]).toBe(b.pixels[3 * 784 + 783]);
  });

  it('reports a truncated file by name', () => {
    const { labels, pixels } = sample(5, 0);
    const path = join(tmp.dir, 'train.arrow');
    const bytes = encodeImagesArrow(labels, pixels);
    writeFileSync(path, bytes.subarray(0, 2000));
    expect(() => readImagesArrow(path)).toThrow(DatasetError);
    expect(() => readImagesArrow(path)).toThrow('train.arrow: incomplete Arrow IPC file of 2000 bytes (no ARROW1 magic at the end: truncated?)');
  });

  it('wraps apache-arrow failures on a damaged footer', () => {
    const { labels, pixels } = sample(5, 0);
    const bytes = encodeImagesArrow(labels, pixels).slice();
    // The int32 before the trailing magic is the footer length; point it past the file start.
    new DataView(bytes.buffer).setInt32(bytes.length - 10, 0x7fffff00, true);
    const err = (() => {
      try {
        decodeImagesArrow(bytes, '/d/valid.arrow');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe('/d/valid.arrow');
    expect((err as DatasetError).message).toMatch(/^valid\.arrow: damaged Arrow IPC file: /);
  });

  it('rejects a file that is not Arrow at all', () => {
    expect(() => decodeImagesArrow(new Uint8Array(100), 'x.arrow')).toThrow('x.arrow: not an Arrow IPC file (no ARROW1 magic at the start)');
  });

  it('rejects a file with other columns or types', () => {
    const label = vectorFromArray([1, 2], new Int16());
    const wrongType = new Table({ label, pixels: vectorFromArray([3, 4], new Int16()) });
    expect(() => decodeImagesArrow(tableToIPC(wrongType, 'file'), 'w.arrow')).toThrow('w.arrow: column label has type Int16, expected Int8');
    const wrongNames = new Table({ digit: label });
    expect(() => decodeImagesArrow(tableToIPC(wrongNames, 'file'), 'n.arrow')).toThrow('n.arrow: unexpected columns [digit], expected [label, pixels]');
  });

  it('rejects labels outside 0..9', () => {
    const { labels, pixels } = sample(3, 0);
    labels[1] = 11;
    expect(() => decodeImagesArrow(encodeImagesArrow(labels, pixels), 'l.arrow')).toThrow('l.arrow: label 11 at row 1 is outside 0..9');
  });
});
