// Downloads one file to disk as a stream, verified against a pinned digest (Fashion-MNIST
// publishes MD5s of its .gz files): the body goes to `<target>.part` while it is hashed, and the
// part file becomes the target only once the digest matches. An interrupted download keeps the
// part file and the next attempt asks for the rest (an HTTP range request), starting over when the
// server sends the whole file instead. A mismatch removes the part file: nothing half-written is
// ever taken for the file.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DatasetError } from '../errors.js';

export type DigestAlgorithm = 'md5' | 'sha256';
export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const DIGEST_NAME: Record<DigestAlgorithm, string> = { md5: 'MD5', sha256: 'SHA-256' };

export interface StreamDownloadOptions {
  url: string;
  /** Where the verified file ends up. */
  target: string;
  expected: Digest;
  log: (msg: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
}

const MIB = 1 << 20;

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
}

/** The hex digest of a file on disk, read as a stream. */
export async function digestOfFile(file: string, algorithm: DigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  await hashFile(file, hash);
  return hash.digest('hex');
}

/** The first byte position of a `Content-Range: bytes a-b/n` header, or null. */
function rangeStart(header: string | null): number | null {
  const m = header === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim());
  return m ? Number(m[1]) : null;
}

function mismatch(o: StreamDownloadOptions, actual: string): DatasetError {
  const what = DIGEST_NAME[o.expected.algorithm];
  return new DatasetError(
    o.url,
    `${basename(o.target)}: ${what} mismatch: expected ${o.expected.hex}, got ${actual} (damaged download or a different file, from ${o.url}); the download was removed, so the next attempt starts afresh`,
  );
}

/**
 * Downloads `o.url` to `o.target` unless a verified copy is there already; returns whether it
 * downloaded. Failures are DatasetErrors whose message starts with the file's name.
 */
export async function downloadVerifiedFile(o: StreamDownloadOptions): Promise<boolean> {
  const name = basename(o.target);
  const what = DIGEST_NAME[o.expected.algorithm];
  if (existsSync(o.target)) {
    const actual = await digestOfFile(o.target, o.expected.algorithm);
    if (actual === o.expected.hex) {
      o.log(`using ${o.target} (downloaded before, ${what} verified)`);
      return false;
    }
    o.log(`${o.target} does not verify (${what} ${actual}); downloading it again`);
    rmSync(o.target, { force: true });
  }
  const part = `${o.target}.part`;
  mkdirSync(dirname(o.target), { recursive: true });
  const idleMs = o.idleTimeoutMs ?? 120_000;
  let have = existsSync(part) ? statSync(part).size : 0;

  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(new Error(`no data received for ${Math.round(idleMs / 1000)} s`)), idleMs);
  };
  const fail = (msg: string, err?: unknown): DatasetError =>
    new DatasetError(o.url, `${name}: download from ${o.url} ${msg}${err === undefined ? '' : `: ${(err as Error).message}`}`, err === undefined ? undefined : { cause: err });
  const request = async (from: number): Promise<Response> => {
    arm();
    try {
      return await fetch(o.url, { signal: ctrl.signal, headers: from > 0 ? { range: `bytes=${from}-` } : {} });
    } catch (err) {
      clearTimeout(timer);
      throw fail('failed', err);
    }
  };

  let response = await request(have);
  if (have > 0) {
    if (response.status === 206 && rangeStart(response.headers.get('content-range')) === have) {
      o.log(`resuming the download of ${name} at byte ${have}`);
    } else {
      // A server that does not resume (200), has nothing left (416) or sends another range: start over.
      await response.body?.cancel();
      rmSync(part, { force: true });
      o.log(`the server did not resume ${name} (HTTP ${response.status}); downloading it from the start`);
      have = 0;
      response = await request(0);
    }
  }
  if (!response.ok || response.body === null) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw fail(`failed: HTTP ${response.status} ${response.statusText}`.trim());
  }

  const hash = createHash(o.expected.algorithm);
  if (have > 0) {
    clearTimeout(timer); // hashing the bytes already on disk is not the server being idle
    await hashFile(part, hash);
    arm();
  }
  if (have === 0) o.log(`downloading ${o.url}`);
  const fh = await open(part, have > 0 ? 'a' : 'w');
  let written = have;
  let shown = Math.floor(have / (8 * MIB));
  try {
    for await (const chunk of response.body) {
      arm();
      const bytes = chunk as Uint8Array;
      hash.update(bytes);
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      written += bytes.length;
      const step = Math.floor(written / (8 * MIB));
      if (step > shown) {
        shown = step;
        o.log(`  ${name}: ${(written / MIB).toFixed(0)} MiB`);
      }
    }
    await fh.sync();
  } catch (err) {
    throw fail(`was interrupted after ${written} bytes (run again to resume)`, err);
  } finally {
    clearTimeout(timer);
    await fh.close();
  }

  const actual = hash.digest('hex');
  if (actual !== o.expected.hex) {
    rmSync(part, { force: true });
    throw mismatch(o, actual);
  }
  renameSync(part, o.target);
  o.log(`downloaded ${name} (${written} bytes, ${what} verified)`);
  return true;
}
