// Downloads one dataset file to disk without holding it in memory, checked against the checksum
// the dataset pins (Fashion-MNIST and tonic's event datasets pin MD5s, GSCv2 SHA-256s): the body
// goes to `<target>.part` while it is hashed, and the part file becomes the target only once the
// digest matches, so nothing half-written is ever taken for the file. Where a dataset asks for it
// (`resume`), an interrupted download keeps its part file and the next attempt asks for the rest
// with an HTTP range request, starting over when the server sends something else. A mismatch
// removes the part file. Every failure is a DatasetError whose message starts with the file's name.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DatasetError } from './errors.js';

export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256';
export interface Digest<A extends DigestAlgorithm = DigestAlgorithm> {
  algorithm: A;
  hex: string;
}
export const DIGEST_NAMES: Record<DigestAlgorithm, string> = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256' };

/** Hex digests of one file, by algorithm. */
export type Digests<A extends DigestAlgorithm> = Record<A, string>;

const MIB = 1 << 20;

async function hashInto(file: string, hashes: readonly Hash[], onBytes?: (n: number) => void): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) {
    const bytes = chunk as Buffer;
    for (const h of hashes) h.update(bytes);
    onBytes?.(bytes.length);
  }
}

/** The hex digests of a file on disk, read once as a stream; `onBytes` hears each chunk's length. */
export async function digestsOfFile<A extends DigestAlgorithm>(file: string, algorithms: readonly A[], onBytes?: (n: number) => void): Promise<Digests<A>> {
  const hashes = algorithms.map((a) => createHash(a));
  await hashInto(file, hashes, onBytes);
  return hexOf(algorithms, hashes);
}

function hexOf<A extends DigestAlgorithm>(algorithms: readonly A[], hashes: readonly Hash[]): Digests<A> {
  const out = {} as Digests<A>;
  algorithms.forEach((a, i) => (out[a] = hashes[i].digest('hex')));
  return out;
}

/** Shows one download's progress: made with the bytes already there and the total (0: unknown). */
export type DownloadProgress = (name: string, have: number, total: number) => { update(written: number): void; done(): void };

export interface DownloadFileOptions<E extends DigestAlgorithm, A extends DigestAlgorithm> {
  url: string;
  /** Where the verified file ends up; a file already there is reused when it verifies. */
  target: string;
  expected: Digest<E>;
  /** Further digests of the whole file to compute on the way (e.g. a SHA-256 to record). */
  alsoDigest?: readonly A[];
  /** Keep the part file of an interrupted download and ask for the rest next time (default: no). */
  resume?: boolean;
  log: (msg: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
  /** The file's size, when known, for the progress before the server sends a length. */
  sizeHint?: number;
  progress?: DownloadProgress;
}

export interface DownloadedFile<A extends DigestAlgorithm> {
  /** False when a verified copy was there already. */
  downloaded: boolean;
  digests: Digests<A>;
}

/** The first byte position of a `Content-Range: bytes a-b/n` header, or null. */
function rangeStart(header: string | null): number | null {
  const m = header === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim());
  return m ? Number(m[1]) : null;
}

/** An abort that fires when nothing happened for `ms`; `arm` restarts the wait. */
function idleAbort(ms: number): { signal: AbortSignal; arm(): void; stop(): void } {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return {
    signal: ctrl.signal,
    arm: () => {
      clearTimeout(timer);
      timer = setTimeout(() => ctrl.abort(new Error(`no data received for ${Math.round(ms / 1000)} s`)), ms);
    },
    stop: () => clearTimeout(timer),
  };
}

/**
 * Downloads `o.url` to `o.target` unless a verified copy is there already; returns whether it
 * downloaded and the file's digests (the expected one and `alsoDigest`).
 */
export async function downloadFile<E extends DigestAlgorithm, A extends DigestAlgorithm = E>(o: DownloadFileOptions<E, A>): Promise<DownloadedFile<E | A>> {
  const name = basename(o.target);
  const what = DIGEST_NAMES[o.expected.algorithm];
  const algorithms: (E | A)[] = [...new Set<E | A>([o.expected.algorithm, ...(o.alsoDigest ?? [])])];
  const verifies = (d: Digests<E | A>): boolean => d[o.expected.algorithm] === o.expected.hex;
  if (existsSync(o.target)) {
    const d = await digestsOfFile(o.target, algorithms);
    if (verifies(d)) {
      o.log(`using ${o.target} (downloaded before, ${what} verified)`);
      return { downloaded: false, digests: d };
    }
    o.log(`${o.target} does not verify (${what} ${d[o.expected.algorithm]}, expected ${o.expected.hex}); downloading it again`);
    rmSync(o.target, { force: true });
  }
  const part = `${o.target}.part`;
  mkdirSync(dirname(o.target), { recursive: true });
  const idle = idleAbort(o.idleTimeoutMs ?? 120_000);
  const fail = (msg: string, err?: unknown): DatasetError =>
    new DatasetError(o.url, `${name}: download from ${o.url} ${msg}${err === undefined ? '' : `: ${(err as Error).message}`}`, err === undefined ? undefined : { cause: err });
  const request = async (from: number): Promise<Response> => {
    idle.arm();
    try {
      return await fetch(o.url, { signal: idle.signal, headers: from > 0 ? { range: `bytes=${from}-` } : {} });
    } catch (err) {
      idle.stop();
      throw fail('failed', err);
    }
  };

  let have = o.resume === true && existsSync(part) ? statSync(part).size : 0;
  let response = await request(have);
  if (have > 0 && response.status === 206 && rangeStart(response.headers.get('content-range')) === have) {
    o.log(`resuming the download of ${name} at byte ${have}`);
  } else if (have > 0 && response.status === 416) {
    // Nothing left to send: the part file may already hold the whole file (interrupted before the rename).
    idle.stop();
    await response.body?.cancel();
    const d = await digestsOfFile(part, algorithms);
    if (verifies(d)) {
      renameSync(part, o.target);
      o.log(`${name}: the part file from before held the whole file (${what} verified)`);
      return { downloaded: true, digests: d };
    }
    o.log(`${part} is as long as the file but does not verify (${what} ${d[o.expected.algorithm]}); downloading it again`);
    rmSync(part, { force: true });
    have = 0;
    response = await request(0);
  } else if (have > 0 && response.ok) {
    // The whole file (200) or another range: either way the part file cannot be continued.
    await response.body?.cancel();
    o.log(`the server does not resume downloads here (HTTP ${response.status}); downloading ${name} from the start`);
    rmSync(part, { force: true });
    have = 0;
    response = await request(0);
  }
  // An error status keeps the part file: the server may resume it on a later attempt.
  if (!response.ok || response.body === null) {
    idle.stop();
    await response.body?.cancel();
    throw fail(`failed: HTTP ${response.status} ${response.statusText}`.trim());
  }

  const hashes = algorithms.map((a) => createHash(a));
  if (have > 0) {
    idle.stop(); // hashing a large part file is not the server being idle
    await hashInto(part, hashes);
    idle.arm();
  }
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? have + length : (o.sizeHint ?? 0);
  if (have === 0) o.log(`downloading ${o.url}${total > 0 ? ` (${(total / MIB).toFixed(1)} MiB)` : ''}`);
  const shown = o.progress?.(name, have, total);
  const fh = await open(part, have > 0 ? 'a' : 'w');
  let written = have;
  let interrupted: { err: unknown } | null = null;
  try {
    for await (const chunk of response.body) {
      idle.arm();
      const bytes = chunk as Uint8Array;
      for (const h of hashes) h.update(bytes);
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      written += bytes.length;
      shown?.update(written);
    }
    await fh.sync();
  } catch (err) {
    interrupted = { err };
  } finally {
    idle.stop();
    await fh.close();
    shown?.done();
  }
  if (interrupted) {
    if (o.resume !== true) rmSync(part, { force: true });
    throw fail(`was interrupted after ${written} bytes${o.resume === true ? ' (run again to resume)' : ''}`, interrupted.err);
  }

  const d = hexOf(algorithms, hashes);
  if (!verifies(d)) {
    rmSync(part, { force: true });
    throw new DatasetError(
      o.url,
      `${name}: ${what} mismatch: expected ${o.expected.hex}, got ${d[o.expected.algorithm]} (damaged download or a different file, from ${o.url}); the download was removed${o.resume === true ? ', so the next attempt starts afresh' : ''}`,
    );
  }
  renameSync(part, o.target);
  o.log(`downloaded ${name} (${written} bytes, ${what} verified)`);
  return { downloaded: true, digests: d };
}
