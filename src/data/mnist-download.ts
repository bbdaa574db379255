// Downloads the four MNIST files from a list of mirrors, verifies each against a pinned SHA-256
// of its decompressed content, and only then stores them (gzipped, as served) atomically in
// the target directory: a failed or damaged download leaves nothing behind.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { DatasetError } from './errors.js';
import { fetchBytes, joinUrl } from './http.js';
import { gunzipIfNeeded, MNIST_INPUTS } from './mnist-files.js';
import type { MnistInputName } from './types.js';

export interface DownloadMnistOptions {
  /** Where the `.gz` files are kept (reused when they are already there and verify). */
  targetDir: string;
  /** Base URLs serving `<name>.gz`, tried in order. */
  baseUrls: readonly string[];
  /** Expected SHA-256 (hex) of each decompressed file. */
  checksums: Readonly<Record<MnistInputName, string>>;
  log?: (msg: string) => void;
  /** Per-file request timeout (default 5 minutes). */
  timeoutMs?: number;
}

export interface DownloadedInput {
  /** The URL it came from, or the cached file's path. */
  origin: string;
  /** Decompressed idx content. */
  bytes: Uint8Array;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}


/** Tries each mirror for one file; returns the gzipped bytes and their verified content. */
async function downloadOne(
  input: MnistInputName,
  opts: DownloadMnistOptions,
): Promise<{ gz: Uint8Array; result: DownloadedInput }> {
  const gzName = `${input}.gz`;
  const expected = opts.checksums[input];
  const failures: string[] = [];
  for (const base of opts.baseUrls) {
    const url = joinUrl(base, gzName);
    opts.log?.(`downloading ${url}`);
    let gz: Uint8Array;
    try {
      gz = await fetchBytes(url, opts.timeoutMs ?? 300_000);
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = gunzipIfNeeded(gz, gzName, url);
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
      continue;
    }
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      failures.push(`${url}: SHA-256 mismatch of the decompressed content: expected ${expected}, got ${actual} (damaged download or a different file)`);
      continue;
    }
    return { gz, result: { origin: url, bytes, sha256: actual } };
  }
  throw new DatasetError(gzName, `${gzName}: download failed from every mirror:\n  ${failures.join('\n  ')}`);
}

/** A previously downloaded copy, if it is there and still verifies. */
function cachedCopy(input: MnistInputName, opts: DownloadMnistOptions): DownloadedInput | null {
  const path = join(opts.targetDir, `${input}.gz`);
  if (!existsSync(path)) return null;
  try {
    const bytes = gunzipIfNeeded(readFileSync(path), `${input}.gz`, path);
    const sha256 = sha256Hex(bytes);
    if (sha256 === opts.checksums[input]) return { origin: path, bytes, sha256 };
  } catch {
    // A damaged cached copy is simply downloaded again (and replaced only once that verifies).
  }
  opts.log?.(`${path} does not verify; downloading it again`);
  return null;
}

/** Downloads (or reuses) all four files; nothing is written unless all four verify. */
export async function downloadMnist(opts: DownloadMnistOptions): Promise<Record<MnistInputName, DownloadedInput>> {
  if (opts.baseUrls.length === 0) throw new Error('downloadMnist: no base URL given');
  const results = {} as Record<MnistInputName, DownloadedInput>;
  const toWrite: { input: MnistInputName; gz: Uint8Array }[] = [];
  for (const input of MNIST_INPUTS) {
    const cached = cachedCopy(input, opts);
    if (cached) {
      opts.log?.(`using downloaded ${cached.origin}`);
      results[input] = cached;
      continue;
    }
    const { gz, result } = await downloadOne(input, opts);
    results[input] = result;
    toWrite.push({ input, gz });
  }
  for (const { input, gz } of toWrite) writeFileAtomic(join(opts.targetDir, `${input}.gz`), gz);
  return results;
}
