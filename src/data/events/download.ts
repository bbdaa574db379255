// Downloading an event dataset's official archive (N-MNIST's Train.zip/Test.zip, SHD's
// shd_*.h5.zip) to disk, checked against the MD5 that tonic pins for it: the body is streamed
// into `<target>.part` while MD5 and SHA-256 are computed, and renamed to the target only when
// the MD5 matches. A file already at the target is reused when it verifies. A mismatch removes
// the download and names the file and both hashes.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DatasetError } from '../errors.js';

export interface CheckedDownload {
  url: string;
  target: string;
  md5: string;
  log: (m: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
}

export interface Hashes {
  md5: string;
  sha256: string;
}

/** MD5 and SHA-256 (hex) of a file, read as a stream. */
export async function hashFile(file: string): Promise<Hashes> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

/** Downloads `o.url` to `o.target` (or reuses a verified file there); returns its hashes. */
export async function downloadChecked(o: CheckedDownload): Promise<Hashes> {
  const name = basename(o.target);
  if (existsSync(o.target)) {
    const have = await hashFile(o.target);
    if (have.md5 === o.md5) {
      o.log(`using ${o.target} (downloaded before, MD5 verified)`);
      return have;
    }
    o.log(`${o.target} does not verify (MD5 ${have.md5}, expected ${o.md5}); downloading it again`);
    rmSync(o.target, { force: true });
  }
  mkdirSync(dirname(o.target), { recursive: true });
  const part = `${o.target}.part`;
  const idleMs = o.idleTimeoutMs ?? 120_000;
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(new Error(`no data received for ${Math.round(idleMs / 1000)} s`)), idleMs);
  };
  const fail = (what: string, err?: unknown): DatasetError =>
    new DatasetError(o.url, `${name}: download from ${o.url} ${what}${err === undefined ? '' : `: ${(err as Error).message}`}`, err === undefined ? undefined : { cause: err });

  o.log(`downloading ${o.url}`);
  let response: Response;
  arm();
  try {
    response = await fetch(o.url, { signal: ctrl.signal });
  } catch (err) {
    clearTimeout(timer);
    throw fail('failed', err);
  }
  if (!response.ok || response.body === null) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw fail(`failed: HTTP ${response.status} ${response.statusText}`.trim());
  }
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const fh = await open(part, 'w');
  let written = 0;
  try {
    for await (const chunk of response.body) {
      arm();
      const bytes = chunk as Uint8Array;
      md5.update(bytes);
      sha.update(bytes);
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      written += bytes.length;
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    rmSync(part, { force: true });
    throw fail(`was interrupted after ${written} bytes`, err);
  } finally {
    clearTimeout(timer);
  }
  await fh.close();
  const got = { md5: md5.digest('hex'), sha256: sha.digest('hex') };
  if (got.md5 !== o.md5) {
    rmSync(part, { force: true });
    throw new DatasetError(o.url, `${name}: MD5 mismatch: expected ${o.md5}, got ${got.md5} (damaged download or a different file, from ${o.url}); the download was removed`);
  }
  renameSync(part, o.target);
  o.log(`downloaded ${name} (${written} bytes, MD5 verified)`);
  return got;
}
