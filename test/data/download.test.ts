import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadMnist } from '../../src/data/mnist-download.js';
import type { MnistInputName } from '../../src/data/types.js';
import { failure } from './failure.js';
import { idxImages, idxLabels, tempDir } from './fixtures.js';
import { useLocalServer } from './local-server.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// Synthetic idx files, served gzipped under the official names by a local server.
const content: Record<MnistInputName, Uint8Array> = {
  'train-images-idx3-ubyte': idxImages(12, 0),
  'train-labels-idx1-ubyte': idxLabels(12, 0),
  't10k-images-idx3-ubyte': idxImages(5, 1),
  't10k-labels-idx1-ubyte': idxLabels(5, 1),
};
const checksums = Object.fromEntries(Object.entries(content).map(([k, v]) => [k, sha(v)])) as Record<MnistInputName, string>;
const served = new Map<string, Uint8Array>(Object.entries(content).map(([k, v]) => [`/mnist/${k}.gz`, gzipSync(v)]));

const srv = useLocalServer('application/gzip', served);

let tmp: ReturnType<typeof tempDir>;
let target: string;
beforeEach(() => {
  tmp = tempDir();
  target = join(tmp.dir, 'raw');
  srv.requests.length = 0;
});
afterEach(() => tmp.cleanup());

describe('downloadMnist', () => {
  it('downloads, verifies and stores the gzipped files', async () => {
    const got = await downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist/`], checksums });
    expect(readdirSync(target).sort()).toEqual([
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]);
    for (const [name, bytes] of Object.entries(content) as [MnistInputName, Uint8Array][]) {
      expect(Buffer.from(got[name].bytes).equals(Buffer.from(bytes))).toBe(true);
      expect(got[name].sha256).toBe(checksums[name]);
      expect(got[name].origin).toBe(`${srv.base}/mnist/${name}.gz`);
      expect(gunzipSync(readFileSync(join(target, `${name}.gz`))).equals(Buffer.from(bytes))).toBe(true);
    }
    expect(srv.requests.length).toBe(4);
  });

  it('reuses verified files and replaces a damaged one', async () => {
    await downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist`], checksums });
    writeFileSync(join(target, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(12, 3)));
    srv.requests.length = 0;
    const logs: string[] = [];
    const got = await downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist`], checksums, log: (m) => logs.push(m) });
    expect(srv.requests).toEqual(['/mnist/train-labels-idx1-ubyte.gz']);
    expect(got['train-images-idx3-ubyte'].origin).toBe(join(target, 'train-images-idx3-ubyte.gz'));
    expect(logs.some((l) => l.endsWith('train-labels-idx1-ubyte.gz does not verify; downloading it again'))).toBe(true);
    expect(gunzipSync(readFileSync(join(target, 'train-labels-idx1-ubyte.gz'))).equals(Buffer.from(content['train-labels-idx1-ubyte']))).toBe(true);
  });

  it('fails on a checksum mismatch, naming the file, and writes nothing', async () => {
    const wrong = { ...checksums, 't10k-images-idx3-ubyte': '0'.repeat(64) };
    const err = await failure(downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist/`], checksums: wrong }));
    expect(err.file).toBe('t10k-images-idx3-ubyte.gz');
    expect(err.message).toBe(
      't10k-images-idx3-ubyte.gz: download failed from every mirror:\n' +
        `  ${srv.base}/mnist/t10k-images-idx3-ubyte.gz: SHA-256 mismatch of the decompressed content: expected ${'0'.repeat(64)}, ` +
        `got ${checksums['t10k-images-idx3-ubyte']} (damaged download or a different file)`,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('leaves files already in the target dir untouched on failure', async () => {
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'x');
    const wrong = { ...checksums, 't10k-labels-idx1-ubyte': '1'.repeat(64) };
    await failure(downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist/`], checksums: wrong }));
    expect(readdirSync(target)).toEqual(['keep.txt']);
  });

  it('fails on a 404, naming the file and the URL', async () => {
    served.delete('/mnist/t10k-labels-idx1-ubyte.gz');
    try {
      const err = await failure(downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/mnist/`], checksums }));
      expect(err.file).toBe('t10k-labels-idx1-ubyte.gz');
      expect(err.message).toBe(`t10k-labels-idx1-ubyte.gz: download failed from every mirror:\n  ${srv.base}/mnist/t10k-labels-idx1-ubyte.gz: HTTP 404 Not Found`);
      expect(existsSync(target)).toBe(false);
    } finally {
      served.set('/mnist/t10k-labels-idx1-ubyte.gz', gzipSync(content['t10k-labels-idx1-ubyte']));
    }
  });

  it('falls back to the next mirror', async () => {
    const got = await downloadMnist({ targetDir: target, baseUrls: [`${srv.base}/gone/`, `${srv.base}/mnist/`], checksums });
    expect(got['train-images-idx3-ubyte'].origin).toBe(`${srv.base}/mnist/train-images-idx3-ubyte.gz`);
    expect(srv.requests.filter((r) => r.startsWith('/gone/')).length).toBe(4);
  });
});
