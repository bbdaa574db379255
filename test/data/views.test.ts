import { describe, expect, it } from 'vitest';
import { bitReversalPermutation } from '../../src/data/permutations.js';
import type { MnistSplit } from '../../src/data/types.js';
import { makeBatch, viewShape } from '../../src/data/views.js';

// Two images whose pixel values reveal their position: image 0 has k mod 251 at pixel k,
// image 1 has 250 − (k mod 251). Labels 3 and 8.
function tinySplit(): MnistSplit {
  const pixels = new Uint8Array(2 * 784);
  for (let k = 0; k < 784; k++) {
    pixels[k] = k % 251;
    pixels[784 + k] = 250 - (k % 251);
  }
  return { labels: Int8Array.from([3, 8]), pixels, count: 2 };
}

const f32 = (v: number): number => Math.fround(v);

describe('sequence views', () => {
  it('has the documented shapes', () => {
    expect(viewShape('smnist')).toEqual({ T: 784, C: 1 });
    expect(viewShape('smnist-rows')).toEqual({ T: 28, C: 28 });
    expect(viewShape('psmnist')).toEqual({ T: 784, C: 1 });
    expect(() => viewShape('rows' as never)).toThrow('unknown view "rows" (expected smnist, smnist-rows, psmnist)');
  });

  it('smnist: x[t, n, 0] = pixel t of sample n, ÷255', () => {
    const { x, labels } = makeBatch(tinySplit(), Int32Array.from([1, 0]), 'smnist', null);
    expect(x.length).toBe(784 * 2);
    expect(Array.from(labels)).toEqual([8, 3]);
    // x index = t·N + n with N = 2.
    expect(x[0]).toBe(f32(250 / 255)); // t=0, n=0 → image 1, pixel 0
    expect(x[1]).toBe(0); // t=0, n=1 → image 0, pixel 0
    expect(x[2 * 300 + 1]).toBe(f32(49 / 255)); // t=300, image 0: 300 mod 251 = 49
    expect(x[2 * 300 + 0]).toBe(f32(201 / 255)); // t=300, image 1: 250 − 49
    expect(x[2 * 783 + 1]).toBe(f32(30 / 255)); // t=783: 783 mod 251 = 30
  });

  it('smnist-rows: x[t, n, c] = pixel (row t, column c)', () => {
    const { x } = makeBatch(tinySplit(), Int32Array.from([0, 1]), 'smnist-rows', null);
    expect(x.length).toBe(28 * 2 * 28);
    // x index = (t·N + n)·28 + c.
    expect(x[(0 * 2 + 0) * 28 + 5]).toBe(f32(5 / 255)); // image 0, pixel 5
    expect(x[(1 * 2 + 0) * 28 + 2]).toBe(f32(30 / 255)); // image 0, row 1 col 2 = pixel 30
    expect(x[(1 * 2 + 1) * 28 + 2]).toBe(f32(220 / 255)); // image 1, pixel 30 → 250 − 30
    expect(x[(27 * 2 + 1) * 28 + 27]).toBe(f32((250 - 30) / 255)); // image 1, pixel 783 (783 mod 251 = 30)
  });

  it('psmnist: x[t, n, 0] = pixel perm[t]', () => {
    const perm = bitReversalPermutation(784);
    const { x } = makeBatch(tinySplit(), Int32Array.from([0, 1]), 'psmnist', perm);
    expect(x[0]).toBe(0); // t=0 → pixel 0
    expect(x[2 * 1 + 0]).toBe(f32(10 / 255)); // t=1 → pixel 512; 512 mod 251 = 10
    expect(x[2 * 1 + 1]).toBe(f32(240 / 255)); // image 1 at pixel 512
    expect(x[2 * 7 + 0]).toBe(f32(64 / 255)); // t=7 → pixel 64
    expect(x[2 * 783 + 0]).toBe(f32(9 / 255)); // t=783 → pixel 511; 511 mod 251 = 9
  });

  it('scales every byte exactly as float32(byte) / 255', () => {
    const pixels = new Uint8Array(784);
    for (let k = 0; k < 256; k++) pixels[k] = k;
    const { x } = makeBatch({ labels: Int8Array.from([0]), pixels, count: 1 }, Int32Array.from([0]), 'smnist', null);
    for (let k = 0; k < 256; k++) expect(x[k]).toBe(f32(f32(k) / f32(255)));
    expect(x[255]).toBe(1);
  });

  it('reuses out buffers and checks their sizes', () => {
    const out = { x: new Float32Array(784 * 2).fill(-1), labels: new Int32Array(2) };
    const res = makeBatch(tinySplit(), Int32Array.from([1, 1]), 'smnist', null, out);
    expect(res.x).toBe(out.x);
    expect(res.labels).toBe(out.labels);
    expect(Array.from(out.labels)).toEqual([8, 8]);
    expect(out.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(() => makeBatch(tinySplit(), Int32Array.from([0]), 'smnist', null, out)).toThrow('makeBatch: out.x has 1568 values, expected T·N·C = 784·1·1 = 784');
  });

  it('rejects bad indices and permutation arguments', () => {
    expect(() => makeBatch(tinySplit(), Int32Array.from([0, 2]), 'smnist', null)).toThrow('makeBatch: sample index 2 (position 1) is outside 0..1');
    expect(() => makeBatch(tinySplit(), Int32Array.from([0]), 'psmnist', null)).toThrow('view psmnist needs a permutation');
    expect(() => makeBatch(tinySplit(), Int32Array.from([0]), 'smnist', bitReversalPermutation(784))).toThrow('only psmnist takes a permutation');
    const bad = bitReversalPermutation(784);
    bad[5] = 900;
    expect(() => makeBatch(tinySplit(), Int32Array.from([0]), 'psmnist', bad)).toThrow('makeBatch: permutation[5] = 900 is outside 0..783');
  });
});
