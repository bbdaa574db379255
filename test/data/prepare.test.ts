import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { loadMnistSplit, prepareMnist } from '../../src/data/mnist.js';
import type { MnistMeta } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { idxImages, idxLabels, labelValue, pixelValue, tempDir, TEST_SALT, TRAIN_SALT, writeSourceDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let src: string;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir();
  src = join(tmp.dir, 'src');
  dataDir = join(tmp.dir, 'datasets');
});
afterEach(() => tmp.cleanup());

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const readMeta = (): MnistMeta => JSON.parse(readFileSync(join(dataDir, 'mnist', 'meta.json'), 'utf8')) as MnistMeta;

/** The image pixels loaded at `row` equal synthetic image `orig`. */
function expectImage(pixels: Uint8Array, row: number, orig: number, salt: number): void {
  for (const k of [0, 1, 100, 391, 783]) expect(pixels[row * 784 + k]).toBe(pixelValue(orig, k, salt));
}

async function expectDatasetError(p: Promise<unknown>, message: string): Promise<DatasetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toBe(message);
  return err as DatasetError;
}

describe('prepareMnist from a source directory', () => {
  it('writes train/valid/test Arrow files and meta.json with the seeded split', async () => {
    writeSourceDir(src, { trainCount: 20, testCount: 10 });
    const logs: string[] = [];
    const meta = await prepareMnist({ dataDir, source: src, log: (m) => logs.push(m) });
    expect(readdirSync(join(dataDir, 'mnist')).sort()).toEqual(['meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
    expect(meta).toEqual(readMeta());
    expect(meta.sizes).toEqual({ train: 16, valid: 4, test: 10 });
    expect(meta.valid_fraction).toBe(0.2);
    expect(meta.split_seed).toBe(42);
    expect(meta.source).toEqual({ kind: 'directory', location: resolve(src) });
    expect(meta.official_mnist).toBe(false);
    expect(meta.image_shape).toEqual([28, 28]);
    expect(meta.num_classes).toBe(10);
    expect(meta.format_version).toBe(1);
    expect(meta.permutations).toEqual({});
    expect(Number.isNaN(Date.parse(meta.created_at))).toBe(false);
    expect(meta.input_sha256['train-images-idx3-ubyte']).toBe(sha(idxImages(20, TRAIN_SALT)));
    expect(meta.input_sha256['t10k-labels-idx1-ubyte']).toBe(sha(idxLabels(10, TEST_SALT)));
    expect(meta.input_files['train-labels-idx1-ubyte']).toBe(join(resolve(src), 'train-labels-idx1-ubyte'));
    expect(logs.some((l) => l.includes('custom data'))).toBe(true);

    // Membership from Rng(42).permutation(20): first round(0.8·20) = 16 train, the rest valid,
    // each in ascending original order.
    const perm = new Rng(42).permutation(20);
    const trainIdx = Array.from(perm.slice(0, 16)).sort((a, b) => a - b);
    const validIdx = Array.from(perm.slice(16)).sort((a, b) => a - b);
    const train = loadMnistSplit(dataDir, 'train');
    const valid = loadMnistSplit(dataDir, 'valid');
    expect(train.count).toBe(16);
    expect(Array.from(train.labels)).toEqual(trainIdx.map((i) => labelValue(i, TRAIN_SALT)));
    trainIdx.forEach((orig, row) => expectImage(train.pixels, row, orig, TRAIN_SALT));
    expect(Array.from(valid.labels)).toEqual(validIdx.map((i) => labelValue(i, TRAIN_SALT)));
    validIdx.forEach((orig, row) => expectImage(valid.pixels, row, orig, TRAIN_SALT));
    expect([...trainIdx, ...validIdx].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);

    const test = loadMnistSplit(dataDir, 'test');
    expect(test.count).toBe(10);
    expect(Array.from(test.labels)).toEqual([...Array(10).keys()].map((i) => labelValue(i, TEST_SALT)));
    for (let i = 0; i < 10; i++) expectImage(test.pixels, i, i, TEST_SALT);
  });

  it('reads gzipped files under the dotted names the same way', async () => {
    writeSourceDir(join(tmp.dir, 'plain'), { trainCount: 20 });
    writeSourceDir(src, { trainCount: 20, gzip: true, dotted: true });
    expect(readdirSync(src)).toContain('train-images.idx3-ubyte.gz');
    const plainDir = join(tmp.dir, 'd1');
    await prepareMnist({ dataDir: plainDir, source: join(tmp.dir, 'plain') });
    const meta = await prepareMnist({ dataDir, source: src });
    expect(meta.input_files['train-images-idx3-ubyte']).toBe(join(resolve(src), 'train-images.idx3-ubyte.gz'));
    expect(meta.input_sha256).toEqual(readMetaOf(plainDir).input_sha256); // of the decompressed content
    for (const f of ['train.arrow', 'valid.arrow', 'test.arrow']) {
      expect(readFileSync(join(dataDir, 'mnist', f)).equals(readFileSync(join(plainDir, 'mnist', f)))).toBe(true);
    }
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    writeSourceDir(src, { trainCount: 50 });
    await prepareMnist({ dataDir, source: src, splitSeed: 7 });
    await prepareMnist({ dataDir: join(tmp.dir, 'again'), source: src, splitSeed: 7 });
    await prepareMnist({ dataDir: join(tmp.dir, 'other'), source: src, splitSeed: 8 });
    const a = loadMnistSplit(dataDir, 'valid');
    const b = loadMnistSplit(join(tmp.dir, 'again'), 'valid');
    const c = loadMnistSplit(join(tmp.dir, 'other'), 'valid');
    expect(a.count).toBe(10);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(a.pixels).equals(Buffer.from(c.pixels))).toBe(false);
  });

  it('allows valid_fraction 0 (empty valid split)', async () => {
    writeSourceDir(src, { trainCount: 20 });
    const meta = await prepareMnist({ dataDir, source: src, validFraction: 0 });
    expect(meta.sizes).toEqual({ train: 20, valid: 0, test: 10 });
    expect(loadMnistSplit(dataDir, 'valid').count).toBe(0);
    expect(Array.from(loadMnistSplit(dataDir, 'train').labels)).toEqual([...Array(20).keys()].map((i) => labelValue(i)));
  });

  it('reuses a prepared dataset, re-prepares when forced or when the split settings change', async () => {
    writeSourceDir(src, { trainCount: 20 });
    const first = await prepareMnist({ dataDir, source: src });
    const logs: string[] = [];
    const again = await prepareMnist({ dataDir, source: src, log: (m) => logs.push(m) });
    expect(again).toEqual(first);
    expect(logs.join('\n')).toMatch(/already prepared .*reusing it/);

    logs.length = 0;
    const changed = await prepareMnist({ dataDir, source: src, validFraction: 0.5, log: (m) => logs.push(m) });
    expect(changed.sizes).toEqual({ train: 10, valid: 10, test: 10 });
    expect(logs[0]).toBe(
      `re-preparing MNIST in ${join(dataDir, 'mnist')}: it was prepared with valid_fraction 0.2, split_seed 42; asked for 0.5, 42`,
    );

    logs.length = 0;
    await prepareMnist({ dataDir, source: src, validFraction: 0.5, force: true, log: (m) => logs.push(m) });
    expect(logs[0]).toBe(`re-preparing MNIST in ${join(dataDir, 'mnist')} (forced)`);
  });

  it('re-prepares when meta.json is missing or damaged', async () => {
    writeSourceDir(src, { trainCount: 20 });
    await prepareMnist({ dataDir, source: src });
    writeFileSync(join(dataDir, 'mnist', 'meta.json'), '{"dataset": "mnist"');
    const logs: string[] = [];
    const meta = await prepareMnist({ dataDir, source: src, log: (m) => logs.push(m) });
    expect(logs[0]).toMatch(/^preparing MNIST in .* \(.*meta\.json is not readable JSON/);
    expect(readMeta()).toEqual(meta);
  });

  it('rejects bad options before doing anything', async () => {
    await expect(prepareMnist({ dataDir, source: src, validFraction: 1 })).rejects.toThrow('validFraction must be a number in [0, 1), got 1');
    await expect(prepareMnist({ dataDir, source: src, splitSeed: 1.5 })).rejects.toThrow('splitSeed must be an integer, got 1.5');
    expect(existsSync(dataDir)).toBe(false);
  });
});

function readMetaOf(dir: string): MnistMeta {
  return JSON.parse(readFileSync(join(dir, 'mnist', 'meta.json'), 'utf8')) as MnistMeta;
}

describe('prepareMnist with damaged inputs writes nothing', () => {
  const nothingWritten = (): void => expect(existsSync(dataDir)).toBe(false);

  it('truncated images file', async () => {
    writeSourceDir(src, { trainCount: 20, replace: { 'train-images-idx3-ubyte': idxImages(20).subarray(0, 1000) } });
    const err = await expectDatasetError(
      prepareMnist({ dataDir, source: src }),
      'train-images-idx3-ubyte: truncated: header says 20 images of 28x28 (15696 bytes) but the file has 1000 bytes',
    );
    expect(err.file).toBe(join(resolve(src), 'train-images-idx3-ubyte'));
    nothingWritten();
  });

  it('truncated gzip file', async () => {
    writeSourceDir(src, { trainCount: 20, gzip: true });
    const gz = gzipSync(idxImages(10, TEST_SALT));
    writeFileSync(join(src, 't10k-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 20));
    await expectDatasetError(prepareMnist({ dataDir, source: src }), 't10k-images-idx3-ubyte.gz: cannot decompress gzip data: unexpected end of file');
    nothingWritten();
  });

  it('wrong magic number', async () => {
    writeSourceDir(src, { replace: { 't10k-labels-idx1-ubyte': idxImages(10, TEST_SALT) } });
    await expectDatasetError(
      prepareMnist({ dataDir, source: src }),
      't10k-labels-idx1-ubyte: wrong magic number 0x00000803, expected 0x00000801 for idx1 labels (that is an idx3 images file)',
    );
    nothingWritten();
  });

  it('image and label counts that disagree', async () => {
    writeSourceDir(src, { trainCount: 20, replace: { 'train-labels-idx1-ubyte': idxLabels(19) } });
    const err = await expectDatasetError(
      prepareMnist({ dataDir, source: src }),
      'train-labels-idx1-ubyte: has 19 labels but train-images-idx3-ubyte has 20 images; the two files do not belong together',
    );
    expect(err.file).toBe(join(resolve(src), 'train-labels-idx1-ubyte'));
    nothingWritten();
  });

  it('a missing file', async () => {
    writeSourceDir(src);
    rmSync(join(src, 't10k-images-idx3-ubyte'));
    await expectDatasetError(
      prepareMnist({ dataDir, source: src }),
      `t10k-images-idx3-ubyte: not found in ${resolve(src)} (looked for t10k-images-idx3-ubyte, t10k-images-idx3-ubyte.gz, t10k-images.idx3-ubyte, t10k-images.idx3-ubyte.gz)`,
    );
    nothingWritten();
  });

  it('a missing source directory', async () => {
    await expectDatasetError(prepareMnist({ dataDir, source: src }), `MNIST source directory ${resolve(src)} does not exist or is not a directory`);
    nothingWritten();
  });

  it('keeps an existing dataset intact when a forced re-prepare meets bad input', async () => {
    writeSourceDir(src, { trainCount: 20 });
    const before = await prepareMnist({ dataDir, source: src });
    const trainBytes = readFileSync(join(dataDir, 'mnist', 'train.arrow'));
    writeFileSync(join(src, 'train-images-idx3-ubyte'), idxImages(20).subarray(0, 500));
    await expect(prepareMnist({ dataDir, source: src, force: true })).rejects.toThrow(DatasetError);
    expect(readMeta()).toEqual(before);
    expect(readFileSync(join(dataDir, 'mnist', 'train.arrow')).equals(trainBytes)).toBe(true);
  });
});

describe('loadMnistSplit', () => {
  it('says the dataset is not prepared', () => {
    expect(() => loadMnistSplit(dataDir, 'train')).toThrow(DatasetError);
    expect(() => loadMnistSplit(dataDir, 'train')).toThrow(/^MNIST is not prepared in .*meta\.json does not exist; run `evnn prepare mnist`$/);
  });

  it('reports a truncated split file by name', async () => {
    writeSourceDir(src, { trainCount: 20 });
    await prepareMnist({ dataDir, source: src });
    const path = join(dataDir, 'mnist', 'test.arrow');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    expect(() => loadMnistSplit(dataDir, 'test')).toThrow(`test.arrow: incomplete Arrow IPC file of ${bytes.length - 100} bytes (no ARROW1 magic at the end: truncated?)`);
  });

  it('reports a split file that does not match meta.json', async () => {
    writeSourceDir(src, { trainCount: 20 });
    await prepareMnist({ dataDir, source: src });
    writeFileSync(join(dataDir, 'mnist', 'valid.arrow'), readFileSync(join(dataDir, 'mnist', 'test.arrow')));
    expect(() => loadMnistSplit(dataDir, 'valid')).toThrow('valid.arrow: has 10 rows but meta.json says 4; re-prepare with --force');
  });

  it('rejects an unknown split name', () => {
    expect(() => loadMnistSplit(dataDir, 'dev' as never)).toThrow('unknown split "dev" (expected train, valid or test)');
  });
});
