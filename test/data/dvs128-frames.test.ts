// DVS128 Gesture's frames at batch time, on hand-placed events: tonic's slicing into 1.7 s
// windows, 68 frames of 25 ms, counts per pixel and polarity, EvNN's max-pool to frame_size and
// mean over polarity, its scaling; and the training augmentation: each map against its
// torchvision definition on known cases, the draw's ranges, determinism per (seed, epoch, sample).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { applyWarp, buildWarp, perspectiveCoefficients, sampleAugment, type AugmentParams } from '../../src/data/dvs128/augment.js';
import { GestureFrameSource, type FrameSourceOptions } from '../../src/data/dvs128/batches.js';
import { poolMerge, sliceCount } from '../../src/data/dvs128/frames.js';
import { EventSplitWriter, readEventSplitFile, type EventRow, type EventSplit } from '../../src/data/events/event-arrow.js';
import { tempDir } from './fixtures.js';

interface Ev { x: number; y: number; p: number; t: number }

/** Bitwise equality of two float arrays (vitest's toEqual walks millions of elements slowly). */
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('evnn-dvs128-frames-')));
afterEach(() => tmp.cleanup());

function splitOf(rows: { label: number; events: Ev[] }[]): EventSplit {
  const file = join(tmp.dir, 'split.arrow');
  const w = new EventSplitWriter(file, ['user', 'lighting']);
  for (const r of rows) {
    const row: EventRow = {
      label: r.label, extra: { user: 1, lighting: 0 },
      x: Int16Array.from(r.events, (e) => e.x), y: Int16Array.from(r.events, (e) => e.y),
      p: Int8Array.from(r.events, (e) => e.p), t: BigInt64Array.from(r.events, (e) => BigInt(e.t)),
    };
    w.add(row);
  }
  w.finish();
  return readEventSplitFile(file, ['user', 'lighting']);
}

const source = (sp: EventSplit, o: Partial<FrameSourceOptions> = {}): GestureFrameSource =>
  new GestureFrameSource(sp, { frameSize: 128, scale: 19, augment: false, seed: 1, ...o });

/** x[t, n, 0, y, x] of a batch. */
const at = (x: Float32Array, S: number, N: number, t: number, n: number, yy: number, xx: number): number => x[(t * N + n) * S * S + yy * S + xx];

describe('slicing (tonic SliceByTime, 1.7 s, include_incomplete=False)', () => {
  it('counts the complete windows from the first event, at least one', () => {
    expect(sliceCount(0, 0, 0)).toBe(0);
    expect(sliceCount(5, 100, 100 + 1_690_000)).toBe(1);
    expect(sliceCount(5, 0, 3_399_999)).toBe(1);
    expect(sliceCount(5, 0, 3_400_000)).toBe(2);
    expect(sliceCount(5, 7, 7 + 5_099_999)).toBe(2);
    expect(sliceCount(5, 7, 7 + 5_100_000)).toBe(3);
  });

  it('makes every slice of every gesture a sample, starting at the first event + k · 1.7 s', () => {
    const sp = splitOf([
      { label: 3, events: [{ x: 0, y: 0, p: 1, t: 500 }, { x: 0, y: 0, p: 1, t: 500 + 3_500_000 }] },
      { label: 7, events: [] },
      { label: 9, events: [{ x: 1, y: 1, p: 0, t: 0 }, { x: 1, y: 1, p: 0, t: 1_000_000 }] },
    ]);
    const src = source(sp);
    expect(src.count).toBe(3);
    expect(Array.from(src.rows)).toEqual([0, 0, 2]);
    expect(Array.from(src.slices)).toEqual([0, 1, 0]);
    expect(Array.from(src.starts)).toEqual([500, 1_700_500, 0]);
    expect(Array.from(src.batch(Int32Array.of(0, 2, 1)).labels)).toEqual([3, 9, 3]);
  });

  it('limit serves a seeded subset of the slices', () => {
    const sp = splitOf(Array.from({ length: 6 }, (_, i) => ({ label: i, events: [{ x: 0, y: 0, p: 1, t: 0 }, { x: 0, y: 0, p: 1, t: 1_800_000 }] })));
    const a = source(sp, { limit: 3, limitSeed: 4 });
    expect(a.count).toBe(3);
    expect(Array.from(source(sp, { limit: 3, limitSeed: 4 }).rows)).toEqual(Array.from(a.rows));
  });
});

describe('frames: 68 of 25 ms, counts, merge, scale, pooling', () => {
  const events: Ev[] = [
    { x: 10, y: 20, p: 1, t: 1000 }, // slice start = 1000
    { x: 10, y: 20, p: 1, t: 1000 + 24_999 }, // same frame: count 2 (ON)
    { x: 10, y: 20, p: 0, t: 1000 + 25_000 }, // frame 1, OFF
    { x: 11, y: 21, p: 1, t: 1000 + 25_001 }, // frame 1, ON
    { x: 127, y: 127, p: 0, t: 1000 + 1_699_999 }, // frame 67
    { x: 5, y: 6, p: 1, t: 1000 + 1_700_000 }, // the next slice's frame 0
    { x: 5, y: 6, p: 1, t: 1000 + 3_400_001 }, // so that there are two slices
  ];

  it('gives [68, N, 1, 128, 128] of (ON + OFF) / 2 / 19 per pixel and frame', () => {
    const sp = splitOf([{ label: 2, events }]);
    const src = source(sp);
    expect(src.count).toBe(2);
    const b = src.batch(Int32Array.of(0, 1));
    expect(b.x!.shape).toEqual([68, 2, 1, 128, 128]);
    const x = b.x!.data;
    const S = 128;
    const nonzero: string[] = [];
    for (let t = 0; t < 68; t++) for (let n = 0; n < 2; n++) for (let p = 0; p < S * S; p++) if (x[(t * 2 + n) * S * S + p] !== 0) nonzero.push(`${t},${n},${Math.floor(p / S)},${p % S}`);
    expect(nonzero.sort()).toEqual(['0,0,20,10', '0,1,6,5', '1,0,20,10', '1,0,21,11', '67,0,127,127'].sort());
    expect(at(x, S, 2, 0, 0, 20, 10)).toBeCloseTo(2 / 2 / 19, 7);
    expect(at(x, S, 2, 1, 0, 20, 10)).toBeCloseTo(1 / 2 / 19, 7);
    expect(at(x, S, 2, 67, 0, 127, 127)).toBeCloseTo(1 / 2 / 19, 7);
    expect(Array.from(b.labels)).toEqual([2, 2]);
  });

  it('max-pools each polarity plane by 128 / frame_size before the mean (EvNN\'s order)', () => {
    const ev: Ev[] = [
      { x: 10, y: 20, p: 1, t: 0 }, { x: 10, y: 20, p: 1, t: 1 }, { x: 11, y: 21, p: 1, t: 2 }, // ON max 2 in block (10, 5)
      { x: 11, y: 20, p: 0, t: 3 }, { x: 11, y: 20, p: 0, t: 4 }, { x: 11, y: 20, p: 0, t: 5 }, // OFF max 3
      { x: 127, y: 127, p: 1, t: 1_000_000 },
    ];
    const sp = splitOf([{ label: 0, events: ev }]);
    const b64 = source(sp, { frameSize: 64, scale: 18.5 }).batch(Int32Array.of(0));
    expect(b64.x!.shape).toEqual([68, 1, 1, 64, 64]);
    expect(at(b64.x!.data, 64, 1, 0, 0, 10, 5)).toBeCloseTo((2 + 3) / 2 / 18.5, 6);
    // pooled first, merged after: not the max of the merged plane (which would be (2 + 3)/2 at
    // (20, 11)? no: merged (20,10) = 1, (20,11) = 1.5, (21,11) = 0.5 → max 1.5)
    expect(at(b64.x!.data, 64, 1, 0, 0, 10, 5)).not.toBeCloseTo(1.5 / 18.5, 3);
    const b16 = source(sp, { frameSize: 16 }).batch(Int32Array.of(0));
    expect(at(b16.x!.data, 16, 1, 0, 0, 2, 1)).toBeCloseTo((2 + 3) / 2 / 19, 6);
    expect(at(b16.x!.data, 16, 1, 40, 0, 15, 15)).toBeCloseTo(1 / 2 / 19, 6);
    expect(() => source(sp, { frameSize: 48 })).toThrow(/frame_size must be a divisor of 128/);
  });

  it('poolMerge treats a missing plane as zeros', () => {
    const a = new Float32Array(128 * 128);
    a[0] = 4;
    const out = new Float32Array(4);
    poolMerge(a, null, 2, 1, out, 0);
    expect(Array.from(out)).toEqual([2, 0, 0, 0]);
  });
});

describe('augmentation maps (torchvision semantics)', () => {
  const full = { top: 0, left: 0, height: 128, width: 128 };
  const img = (): Float32Array => Float32Array.from({ length: 128 * 128 }, (_, i) => (i * 7919) % 1000);
  const warp = (p: AugmentParams, src = img()): Float32Array => {
    const out = new Float32Array(128 * 128);
    applyWarp(buildWarp(p), src, out);
    return out;
  };

  it('the identity parameters are the identity, including an identity perspective', () => {
    const src = img();
    expect(same(warp({ crop: full, perspective: null, angle: 0 }, src), src)).toBe(true);
    const corners = [[0, 0], [127, 0], [127, 127], [0, 127]];
    const id = perspectiveCoefficients(corners, corners);
    id.forEach((v, i) => expect(v).toBeCloseTo([1, 0, 0, 0, 1, 0, 0, 0][i], 12));
    const out = warp({ crop: full, perspective: id, angle: 0 }, src);
    for (let i = 0; i < src.length; i++) expect(out[i]).toBeCloseTo(src[i], 2);
  });

  it('resized crop: output (y, x) reads (top + ⌊y·h/128⌋, left + ⌊x·w/128⌋) (nearest)', () => {
    const src = img();
    const crop = { top: 10, left: 30, height: 90, width: 77 };
    const out = warp({ crop, perspective: null, angle: 0 }, src);
    for (const [y, x] of [[0, 0], [127, 127], [64, 3], [99, 120]]) {
      expect(out[y * 128 + x]).toBe(src[(10 + Math.floor((y * 90) / 128)) * 128 + 30 + Math.floor((x * 77) / 128)]);
    }
  });

  it('rotation by +90° turns counter-clockwise about the centre: output (y, x) = input (x, 127 − y)', () => {
    const src = img();
    const out = warp({ crop: full, perspective: null, angle: 90 }, src);
    for (let y = 0; y < 128; y += 9) for (let x = 0; x < 128; x += 11) expect(out[y * 128 + x]).toBe(src[x * 128 + (127 - y)]);
  });

  it('rotation fills with zeros outside the image', () => {
    const ones = new Float32Array(128 * 128).fill(1);
    const out = warp({ crop: full, perspective: null, angle: 25 }, ones);
    expect(out[0]).toBe(0); // a corner comes from outside
    expect(out[64 * 128 + 64]).toBe(1);
  });

  it('a perspective that moves the corners inwards shrinks the image, edges attenuated by the fill mask', () => {
    const start = [[0, 0], [127, 0], [127, 127], [0, 127]];
    const end = [[20, 20], [107, 20], [107, 107], [20, 107]];
    const ones = new Float32Array(128 * 128).fill(1);
    const out = warp({ crop: full, perspective: perspectiveCoefficients(start, end), angle: 0 }, ones);
    expect(out[5 * 128 + 5]).toBe(0);
    expect(out[64 * 128 + 64]).toBeCloseTo(1, 6);
    const edge = out[64 * 128 + 19];
    expect(edge).toBeGreaterThanOrEqual(0);
    expect(edge).toBeLessThan(1);
  });

  it('draws crops of 60-100 % of the area, angles in ±25°, the perspective about half of the time', () => {
    const rng = new Rng(9);
    let persp = 0;
    for (let i = 0; i < 1000; i++) {
      const p = sampleAugment(rng);
      const area = p.crop.height * p.crop.width;
      expect(area).toBeGreaterThanOrEqual(0.6 * 16384 - 300);
      expect(area).toBeLessThanOrEqual(16384);
      expect(p.crop.top + p.crop.height).toBeLessThanOrEqual(128);
      expect(p.crop.left + p.crop.width).toBeLessThanOrEqual(128);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(25);
      if (p.perspective) persp++;
    }
    expect(persp).toBeGreaterThan(420);
    expect(persp).toBeLessThan(580);
  });
});

describe('augmented batches', () => {
  const events: Ev[] = [];
  const r = new Rng(3);
  for (let i = 0; i < 4000; i++) events.push({ x: 30 + r.int(60), y: 30 + r.int(60), p: r.int(2), t: Math.floor(i * 900) });
  const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

  it('are the same for the same (seed, epoch, sample), different across epochs and seeds', () => {
    const sp = splitOf([{ label: 1, events }, { label: 4, events }]);
    const src = source(sp, { augment: true, seed: 7 });
    const a = src.batch(Int32Array.of(0, 1), { epoch: 3 }).x!.data;
    const again = source(sp, { augment: true, seed: 7 }).batch(Int32Array.of(0, 1), { epoch: 3 }).x!.data;
    expect(same(again, a)).toBe(true);
    // sample 1 in another batch position draws the same frames
    const alone = src.batch(Int32Array.of(1), { epoch: 3 }).x!.data;
    const S2 = 128 * 128;
    for (let t = 0; t < 68; t++) expect(same(alone.subarray(t * S2, (t + 1) * S2), a.subarray((t * 2 + 1) * S2, (t * 2 + 2) * S2))).toBe(true);
    const other = src.batch(Int32Array.of(0, 1), { epoch: 4 }).x!.data;
    expect(same(other, a)).toBe(false);
    expect(same(src.batch(Int32Array.of(0, 1), { epoch: 3, seed: 8 }).x!.data, a)).toBe(false);
    const plain = source(sp).batch(Int32Array.of(0, 1)).x!.data;
    expect(same(plain, a)).toBe(false);
    expect(a.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
    // augmentation moves events around; it neither creates nor destroys most of them
    expect(sum(a) / sum(plain)).toBeGreaterThan(0.5);
    expect(sum(a) / sum(plain)).toBeLessThan(2);
  });

  it('are the same batch after batch without augmentation (valid and test)', () => {
    const sp = splitOf([{ label: 1, events }]);
    const src = source(sp);
    expect(same(src.batch(Int32Array.of(0), { epoch: 1 }).x!.data, src.batch(Int32Array.of(0), { epoch: 2 }).x!.data)).toBe(true);
  });
});
