import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadVerifiedFile } from '../../src/data/fmnist/download.js';
import { FMNIST_BASE_URL, FMNIST_MD5 } from '../../src/data/fmnist/files.js';
import { loadFmnistSplit, prepareFmnist } from '../../src/data/fmnist/prepare.js';
import { MNIST_INPUTS } from '../../src/data/mnist-files.js';
import type { MnistInputName } from '../../src/data/types.js';
import { failure } from './failure.js';
import { md5Hex, md5Table, useRangeServer } from './fmnist-fixtures.js';
import { idxImages, idxLabels, labelValue, tempDir } from './fixtures.js';

// Synthetic idx files served gzipped under the official names. The published MD5s cannot match
// them, so the tests inject the fixtures' own table (prepareFmnist's `md5`).
const gz: Record<MnistInputName, Uint8Array> = {
  'train-images-idx3-ubyte': gzipSync(idxImages(12, 0)),
  'train-labels-idx1-ubyte': gzipSync(idxLabels(12, 0)),
  't10k-images-idx3-ubyte': gzipSync(idxImages(5, 1)),
  't10k-labels-idx1-ubyte': gzipSync(idxLabels(5, 1)),
};
const md5 = md5Table(gz);
const srv = useRangeServer(new Map(MNIST_INPUTS.map((i) => [`/fm/${i}.gz`, gz[i]])));

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
let raw: string;
beforeEach(() => {
  tmp = tempDir('evnn-fmnist-dl-');
  dataDir = join(tmp.dir, 'datasets');
  raw = join(dataDir, 'fmnist', 'raw');
  srv.requests.length = 0;
  srv.ignoreRanges = false;
});
afterEach(() => tmp.cleanup());

const base = (): string => `${srv.base}/fm/`;

describe('the pinned Fashion-MNIST location', () => {
  it('is the official one with the README\'s MD5s', () => {
    expect(FMNIST_BASE_URL).toBe('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
    expect(FMNIST_MD5['train-images-idx3-ubyte']).toBe('8d4fb7e6c68d591d4c3dfef9ec88bf0d');
    expect(FMNIST_MD5['t10k-labels-idx1-ubyte']).toBe('bb300cfdad3c16e7a12a480ee83cd310');
  });
});

describe('prepareFmnist --source download', () => {
  it('downloads, verifies, keeps the .gz files and prepares', async () => {
    const meta = await prepareFmnist({ dataDir, source: 'download', baseUrl: base(), md5, validFraction: 0.25 });
    expect(readdirSync(raw).sort()).toEqual(MNIST_INPUTS.map((i) => `${i}.gz`).sort());
    for (const i of MNIST_INPUTS) expect(md5Hex(readFileSync(join(raw, `${i}.gz`)))).toBe(md5[i]);
    expect(meta.source).toEqual({ kind: 'download', location: base() });
    expect(meta.sizes).toEqual({ train: 9, valid: 3, test: 5 });
    // checked against the injected table, but judged official only by the published MD5s
    expect(meta.official_md5).toBe(false);
    expect(Array.from(loadFmnistSplit(dataDir, 'test').labels)).toEqual([0, 1, 2, 3, 4].map((i) => labelValue(i, 1)));
    expect(srv.requests.length).toBe(4);
  });

  it('reuses verified downloads and replaces one that does not verify', async () => {
    await prepareFmnist({ dataDir, source: 'download', baseUrl: base(), md5 });
    writeFileSync(join(raw, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxLabels(5, 3)));
    srv.requests.length = 0;
    const logs: string[] = [];
    await prepareFmnist({ dataDir, source: 'download', baseUrl: base(), md5, force: true, log: (m) => logs.push(m) });
    expect(srv.requests).toEqual(['/fm/t10k-labels-idx1-ubyte.gz']);
    expect(logs.some((l) => l.includes('t10k-labels-idx1-ubyte.gz does not verify (MD5'))).toBe(true);
    expect(md5Hex(readFileSync(join(raw, 't10k-labels-idx1-ubyte.gz')))).toBe(md5['t10k-labels-idx1-ubyte']);
  });

  it('fails on an MD5 mismatch naming the file, and leaves nothing half-written', async () => {
    const wrong = { ...md5, 't10k-images-idx3-ubyte': '0'.repeat(32) };
    const err = await failure(prepareFmnist({ dataDir, source: 'download', baseUrl: base(), md5: wrong }));
    expect(err.message).toBe(
      `t10k-images-idx3-ubyte.gz: MD5 mismatch: expected ${'0'.repeat(32)}, got ${md5['t10k-images-idx3-ubyte']} ` +
        `(damaged download or a different file, from ${base()}t10k-images-idx3-ubyte.gz); the download was removed, so the next attempt starts afresh`,
    );
    expect(err.file).toBe(`${base()}t10k-images-idx3-ubyte.gz`);
    // the files before it verified and stay; the damaged one left neither a file nor a part file
    expect(readdirSync(raw).sort()).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    expect(readdirSync(join(dataDir, 'fmnist'))).toEqual(['raw']);
  });

  it('fails on a 404 naming the file and the URL', async () => {
    const err = await failure(prepareFmnist({ dataDir, source: 'download', baseUrl: `${srv.base}/gone/`, md5 }));
    expect(err.message).toBe(`train-images-idx3-ubyte.gz: download from ${srv.base}/gone/train-images-idx3-ubyte.gz failed: HTTP 404 Not Found`);
    expect(existsSync(join(raw, 'train-images-idx3-ubyte.gz'))).toBe(false);
  });
});

describe('downloadVerifiedFile', () => {
  const name = 'train-images-idx3-ubyte';
  const url = (): string => `${base()}${name}.gz`;
  const file = gz[name];

  it('resumes an interrupted download with a range request', async () => {
    const target = join(tmp.dir, 'dl', `${name}.gz`);
    mkdirSync(join(tmp.dir, 'dl'));
    const half = Math.floor(file.length / 2);
    writeFileSync(`${target}.part`, file.subarray(0, half));
    const logs: string[] = [];
    expect(await downloadVerifiedFile({ url: url(), target, expected: { algorithm: 'md5', hex: md5[name] }, log: (m) => logs.push(m) })).toBe(true);
    expect(srv.requests).toEqual([`/fm/${name}.gz bytes=${half}-`]);
    expect(logs).toContain(`resuming the download of ${name}.gz at byte ${half}`);
    expect(Buffer.from(readFileSync(target)).equals(Buffer.from(file))).toBe(true);
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it('starts over when the server ignores the range', async () => {
    const target = join(tmp.dir, `${name}.gz`);
    writeFileSync(`${target}.part`, file.subarray(0, 100));
    srv.ignoreRanges = true;
    await downloadVerifiedFile({ url: url(), target, expected: { algorithm: 'md5', hex: md5[name] }, log: () => {} });
    expect(srv.requests).toEqual([`/fm/${name}.gz bytes=100-`, `/fm/${name}.gz`]);
    expect(Buffer.from(readFileSync(target)).equals(Buffer.from(file))).toBe(true);
  });

  it('removes a resumed part whose whole does not verify', async () => {
    const target = join(tmp.dir, `${name}.gz`);
    writeFileSync(`${target}.part`, new Uint8Array(100).fill(7)); // not the file's first 100 bytes
    const err = await failure(downloadVerifiedFile({ url: url(), target, expected: { algorithm: 'md5', hex: md5[name] }, log: () => {} }));
    expect(err.message).toMatch(new RegExp(`^${name}\\.gz: MD5 mismatch: expected ${md5[name]}, got [0-9a-f]{32} `));
    expect(existsSync(`${target}.part`)).toBe(false);
    expect(existsSync(target)).toBe(false);
    // the next attempt starts afresh and succeeds
    await downloadVerifiedFile({ url: url(), target, expected: { algorithm: 'md5', hex: md5[name] }, log: () => {} });
    expect(md5Hex(readFileSync(target))).toBe(md5[name]);
  });
});
