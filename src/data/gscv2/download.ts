// Downloading one large archive (the main GSCv2 archive is 2.4 GB) to disk without holding it in
// memory: the body is streamed into `<target>.part` while its SHA-256 is computed, and the part
// file is renamed to the target only once the hash matches the pinned one. An interrupted
// download leaves the part file; the next attempt asks the server for the rest (an HTTP range
// request) and, when the server answers with the whole file instead, starts over cleanly.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DatasetError } from '../errors.js';
import { loopProgress } from './progress.js';

export interface DownloadOptions {
  url: string;
  /** Where the verified file ends up. */
  target: string;
  /** Expected SHA-256 (hex) of the whole file. */
  sha256: string;
  log: (msg: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
  /** The file's size, when known, for the progress bar before the server sends a length. */
  sizeHint?: number;
}

const MIB = 1 << 20;

/** Feeds a file's bytes into `hash`; returns how many there were. */
async function hashInto(file: string, hash: Hash, onBytes?: (n: number) => void): Promise<number> {
  let total = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    total += bytes.length;
    onBytes?.(bytes.length);
  }
  return total;
}

/** SHA-256 (hex) of a file, read as a stream. */
export async function sha256OfFile(file: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(file, hash, onBytes);
  return hash.digest('hex');
}

/** The first byte position of a `Content-Range: bytes a-b/n` header, or null. */
function rangeStart(header: string | null): number | null {
  const m = header === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim());
  return m ? Number(m[1]) : null;
}

function mismatch(o: DownloadOptions, actual: string): DatasetError {
  const name = basename(o.target);
  return new DatasetError(
    o.url,
    `${name}: SHA-256 mismatch: expected ${o.sha256}, got ${actual} (damaged download or a different file, from ${o.url}); the download was removed, so the next attempt starts afresh`,
  );
}

/** A part file that is already the whole file (interrupted after the last byte, before the rename). */
async function partIsComplete(part: string, o: DownloadOptions): Promise<boolean> {
  const actual = await sha256OfFile(part);
  if (actual === o.sha256) return true;
  o.log(`${part} is as long as the file but does not verify (SHA-256 ${actual}); downloading it again`);
  rmSync(part, { force: true });
  return false;
}

/**
 * Downloads `o.url` to `o.target`, verified. Failures are DatasetErrors naming the URL; a checksum
 * mismatch names the file and both hashes and removes the download.
 */
export async function downloadVerified(o: DownloadOptions): Promise<void> {
  const name = basename(o.target);
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
  const fail = (what: string, err?: unknown): DatasetError =>
    new DatasetError(o.url, `${name}: download from ${o.url} ${what}${err === undefined ? '' : `: ${(err as Error).message}`}`, err === undefined ? undefined : { cause: err });

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
      o.log(`resuming the download of ${name} at ${(have / MIB).toFixed(1)} MiB`);
    } else if (response.status === 416) {
      // Nothing left to send: the part file may already hold the whole file.
      clearTimeout(timer);
      await response.body?.cancel();
      if (await partIsComplete(part, o)) {
        renameSync(part, o.target);
        return;
      }
      have = 0;
      response = await request(0);
    } else {
      if (response.ok) o.log(`the server does not resume downloads here (HTTP ${response.status}); downloading ${name} from the start`);
      have = 0;
      if (response.status === 206) {
        // A range other than the one asked for: its bytes cannot start the file either.
        await response.body?.cancel();
        response = await request(0);
      }
    }
  }
  if (!response.ok || response.body === null) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw fail(`failed: HTTP ${response.status} ${response.statusText}`.trim());
  }

  const hash = createHash('sha256');
  // The bytes already on disk are hashed first so that the digest covers the whole file.
  if (have > 0) {
    clearTimeout(timer); // hashing a large part file is not the server being idle
    await hashInto(part, hash);
    arm();
  }
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? have + length : (o.sizeHint ?? 0);
  if (have === 0) o.log(`downloading ${o.url}${total > 0 ? ` (${(total / MIB).toFixed(1)} MiB)` : ''}`);
  const bar = loopProgress(`downloading ${name}`, Math.ceil(total / MIB), 'MiB');
  bar.tick(Math.floor(have / MIB));
  const fh = await open(part, have > 0 ? 'a' : 'w');
  let written = have;
  let shown = Math.floor(have / MIB);
  try {
    for await (const chunk of response.body) {
      arm();
      const bytes = chunk as Uint8Array;
      hash.update(bytes);
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      written += bytes.length;
      const mib = Math.floor(written / MIB);
      if (mib > shown) {
        bar.tick(mib - shown);
        shown = mib;
      }
    }
    await fh.sync();
  } catch (err) {
    throw fail(`was interrupted after ${written} bytes (run again to resume)`, err);
  } finally {
    clearTimeout(timer);
    await fh.close();
    bar.done();
  }

  const actual = hash.digest('hex');
  if (actual !== o.sha256) {
    rmSync(part, { force: true });
    throw mismatch(o, actual);
  }
  renameSync(part, o.target);
  o.log(`downloaded ${name} (${written} bytes, SHA-256 verified)`);
}
