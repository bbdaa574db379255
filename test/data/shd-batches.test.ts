// SHD batches through the registry module: channel = unit, T = 500 steps of 2 ms by default,
// round(t / dt) half to even, steps ≥ T dropped, repeats clamped to 1, data.steps / data.dt_ms,
// and the class names from extra/keys once prepared.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { shdDataset } from '../../src/data/shd-dataset.js';
import { tempDir } from './fixtures.js';
import { spikeCells } from './spike-cells.js';
import { KEYS, shdContent, writeShdFile, type ShdContent } from './shd-fixtures.js';

const config = (o: Partial<DataConfig> = {}): DataConfig => ({
  dataset: 'shd', source: 'unused', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0, split_seed: 1, ...o,
});

// Test sample 0 (float64 times, so the µs are exact): repeats in one bin, half steps, the edge.
const edge = {
  times: [0.0, 0.0009, 0.001, 0.0011, 0.003, 0.003, 0.998999, 0.999, 1.3],
  units: [5, 5, 699, 5, 0, 0, 42, 43, 44],
  label: 13,
  speaker: 4,
};

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
let test: ShdContent;
beforeAll(async () => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'datasets');
  const src = join(tmp.dir, 'src');
  mkdirSync(src);
  writeShdFile(src, 'train', shdContent(0, 10));
  test = shdContent(1, 4, 'f64');
  test.samples[0] = edge;
  writeShdFile(src, 'test', test, 'gz');
  await shdDataset.prepare({ dataDir, data: config({ source: src }), force: false, log: () => {} });
});
afterAll(() => tmp.cleanup());

describe('shd batches', () => {
  it('bins with the reference grid: 500 steps of 2 ms over 700 channels', () => {
    const ds = shdDataset.open(dataDir, config());
    expect([ds.inputSize, ds.steps, ds.numClasses]).toEqual([700, 500, 20]);
    const batch = ds.split('test').batch(Int32Array.from([0, 1]));
    expect(batch.x).toBeUndefined();
    expect(Array.from(batch.labels)).toEqual([13, test.samples[1].label]);
    const ev = batch.events!;
    expect([ev.B, ev.T, ev.C]).toEqual([2, 500, 700]);
    // 0 → 0; 900 µs → 0.45 → 0; 1000 → 0.5 → 0 (even); 1100 → 1; 3000 → 1.5 → 2 (twice, once);
    // 998999 → 499.4995 → 499; 999000 → 499.5 → 500 (dropped); 1.3 s: dropped.
    expect(spikeCells(ev, 0)).toEqual([[0, 5], [0, 699], [1, 5], [2, 0], [499, 42]]);
    // The second sample's events all lie in the window and on its channels.
    const second = spikeCells(ev, 1);
    expect(second.length).toBeGreaterThan(0);
    expect(second.every(([t, c]) => t < 500 && test.samples[1].units.includes(c))).toBe(true);
  });

  it('follows data.steps and data.dt_ms', () => {
    const ds = shdDataset.open(dataDir, config({ steps: 2, dt_ms: 1 }));
    const ev = ds.split('test').batch(Int32Array.from([0])).events!;
    // 0 and 0.9 ms → 0 and 1; 1 ms → 1; 1.1 ms → 1; 3 ms → 3: dropped.
    expect(spikeCells(ev, 0)).toEqual([[0, 5], [1, 5], [1, 699]]);
  });

  it('names the classes by the files\' extra/keys once prepared', () => {
    expect(shdDataset.metadata(config(), dataDir).classes).toEqual(KEYS);
    expect(shdDataset.metadata(config()).classes).toHaveLength(20);
  });

  it('serves the whole training file as train when valid_fraction is 0', () => {
    const ds = shdDataset.open(dataDir, config());
    expect([ds.split('train').count, ds.split('valid').count, ds.split('test').count]).toEqual([10, 0, 4]);
  });
});
