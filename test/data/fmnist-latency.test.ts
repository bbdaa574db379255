import { describe, expect, it } from 'vitest';
import { latencyBatchSource } from '../../src/data/fmnist/batches.js';
import { encodeImages, firingStep, firingTable } from '../../src/data/fmnist/latency.js';

// The reference's current2firing_time(x = arange(256)/255, tau = 20e-3/1e-3, tmax = 100), cast with
// np.array(..., dtype=int) as its generator does, run with numpy for pixel values 51..255
// (0..50 give tmax). 51/255 == 0.2 is not < thr, so the clip makes it 290.
const NUMPY_TAU20_FROM_51 =
  '290,79,65,57,52,48,45,42,39,37,36,34,33,31,30,29,28,27,26,26,25,24,23,23,22,22,21,21,20,20,19,19,19,18,18,17,17,17,17,16,16,16,15,15,15,15,14,14,14,14,14,13,13,13,13,13,12,12,12,12,12,12,12,11,11,11,11,11,11,11,10,10,10,10,10,10,10,10,10,9,9,9,9,9,9,9,9,9,9,9,8,8,8,8,8,8,8,8,8,8,8,8,8,8,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4'
    .split(',')
    .map(Number);
// The same with tau = 20e-3/2e-3 (dt = 2 ms), pixel values 51..60.
const NUMPY_TAU10_51_TO_60 = [145, 39, 32, 28, 26, 24, 22, 21, 19, 18];

describe('latency code', () => {
  it('fires pixel 255 at step 4, 52/255 at 79 and ≤ 51/255 never (T = 100, τ = 20 steps)', () => {
    expect(firingStep(255, 20, 100)).toBe(4);
    expect(firingStep(52, 20, 100)).toBe(79);
    for (let p = 0; p <= 51; p++) expect(firingStep(p, 20, 100)).toBe(-1);
  });

  it('matches the reference computed with numpy for every pixel value', () => {
    const table = firingTable(20, 1000);
    expect(Array.from(table.subarray(0, 51))).toEqual(new Array(51).fill(-1));
    expect(Array.from(table.subarray(51))).toEqual(NUMPY_TAU20_FROM_51);
    expect(Array.from(firingTable(10, 1000).subarray(51, 61))).toEqual(NUMPY_TAU10_51_TO_60);
  });

  it('drops spikes at steps ≥ T, keeping those below', () => {
    expect(firingStep(51, 20, 291)).toBe(290);
    expect(firingStep(51, 20, 290)).toBe(-1);
    expect(firingStep(52, 20, 80)).toBe(79);
    expect(firingStep(52, 20, 79)).toBe(-1);
  });
});

/** Two images with known bright pixels; everything else 0. */
function images(): Uint8Array {
  const px = new Uint8Array(2 * 784);
  px[10] = 255; // step 4
  px[3] = 255; // step 4, lower channel
  px[700] = 52; // step 79
  px[5] = 51; // never (T = 100)
  px[784 + 0] = 60; // step 37
  px[784 + 783] = 200; // step 5
  return px;
}

describe('latency batches', () => {
  it('encodes each image once, by step then channel', () => {
    const s = encodeImages(images(), 2, 20, 100);
    expect(Array.from(s.start)).toEqual([0, 3, 5]);
    expect(Array.from(s.keys)).toEqual([4 * 784 + 3, 4 * 784 + 10, 79 * 784 + 700, 5 * 784 + 783, 37 * 784 + 0]);
    expect(() => encodeImages(new Uint8Array(10), 1, 20, 100)).toThrow('1 images need 784 pixels, got 10');
  });

  it('serves SpikeEvents rows b·T + t that match the latency code', () => {
    const src = latencyBatchSource(Int8Array.from([3, 7]), encodeImages(images(), 2, 20, 100), 100);
    expect(src.count).toBe(2);
    const batch = src.batch(Int32Array.from([1, 0, 1]));
    expect(batch.x).toBeUndefined();
    expect(Array.from(batch.labels)).toEqual([7, 3, 7]);
    const e = batch.events!;
    expect([e.B, e.T, e.C]).toEqual([3, 100, 784]);
    expect(e.offsets.length).toBe(301);
    const rows = new Map<number, number[]>();
    for (let r = 0; r < 300; r++) if (e.offsets[r + 1] > e.offsets[r]) rows.set(r, Array.from(e.index.subarray(e.offsets[r], e.offsets[r + 1])));
    expect([...rows.entries()]).toEqual([
      [5, [783]],
      [37, [0]],
      [100 + 4, [3, 10]],
      [100 + 79, [700]],
      [200 + 5, [783]],
      [200 + 37, [0]],
    ]);
  });

  it('agrees with a dense recomputation on random images', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const n = 5;
    const px = Uint8Array.from({ length: n * 784 }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 256)));
    const T = 30;
    const src = latencyBatchSource(new Int8Array(n), encodeImages(px, n, 20, T), T);
    const idx = Int32Array.from([4, 2, 0]);
    const e = src.batch(idx).events!;
    for (let b = 0; b < idx.length; b++) {
      for (let t = 0; t < T; t++) {
        const want: number[] = [];
        for (let k = 0; k < 784; k++) if (firingStep(px[idx[b] * 784 + k], 20, T) === t) want.push(k);
        const r = b * T + t;
        expect(Array.from(e.index.subarray(e.offsets[r], e.offsets[r + 1]))).toEqual(want);
      }
    }
  });

  it('rejects indices outside the split', () => {
    const src = latencyBatchSource(Int8Array.from([1, 2]), encodeImages(images(), 2, 20, 100), 100);
    expect(() => src.batch(Int32Array.from([2]))).toThrow('sample index 2 is outside 0..1');
  });
});
