// Extracting a GSCv2 archive by streaming it through the `tar` package into a temporary folder
// that is renamed into place only once every member is written, so an interrupted or failed
// extraction never looks complete. A stamp in the folder records which archive (path, size,
// modification time, SHA-256 computed while extracting) it came from; a later prepare reuses the
// folder only when the archive is still the same file.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Unpack, type ReadEntry } from 'tar';
import { writeJsonAtomic } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';
import { loopProgress } from './progress.js';

const STAMP = '.evnn-extracted.json';
const MIB = 1 << 20;

interface Stamp {
  archive: string;
  size: number;
  mtime_ms: number;
  sha256: string;
}

export interface Extracted {
  /** The folder holding the archive's members. */
  dir: string;
  /** SHA-256 (hex) of the archive. */
  sha256: string;
  /** True when an earlier extraction of the same archive was reused. */
  reused: boolean;
}

function readStamp(dir: string): Stamp | null {
  try {
    const s = JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as Partial<Stamp>;
    if (typeof s.archive === 'string' && typeof s.size === 'number' && typeof s.mtime_ms === 'number' && typeof s.sha256 === 'string') return s as Stamp;
  } catch {
    // missing or unreadable: not a finished extraction
  }
  return null;
}

/** The SHA-256 recorded by a finished extraction in `dir` of exactly this archive file, or null. */
export function extractedFrom(dir: string, archive: string): string | null {
  const stamp = readStamp(dir);
  if (stamp === null || !existsSync(archive)) return null;
  const st = statSync(archive);
  return stamp.archive === resolve(archive) && stamp.size === st.size && stamp.mtime_ms === st.mtimeMs ? stamp.sha256 : null;
}

/** The SHA-256 recorded by any finished extraction in `dir` (whatever archive it came from), or null. */
export function extractedSha256(dir: string): string | null {
  return readStamp(dir)?.sha256 ?? null;
}

// Regular files and folders only: links in a downloaded archive could point outside the target.
const wanted = (_path: string, entry: ReadEntry | { isFile(): boolean }): boolean =>
  !('type' in entry) || entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile' || entry.type === 'Directory';

function unpackInto(archive: string, tmp: string): Promise<string> {
  const size = statSync(archive).size;
  const bar = loopProgress(`extracting ${basename(archive)}`, Math.ceil(size / MIB), 'MiB');
  return new Promise<string>((ok, fail) => {
    const hash = createHash('sha256');
    let read = 0;
    let shown = 0;
    const unpack = new Unpack({ cwd: tmp, strict: true, preserveOwner: false, filter: wanted });
    const input = createReadStream(archive, { highWaterMark: 4 * MIB });
    let failed = false;
    const stop = (err: Error): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      bar.done();
      fail(err);
    };
    input.on('data', (chunk) => {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      read += bytes.length;
      const mib = Math.floor(read / MIB);
      if (mib > shown) {
        bar.tick(mib - shown);
        shown = mib;
      }
    });
    // Two zero blocks end every tar archive. A tar cut at a member boundary (and gzipped again)
    // unpacks without any other complaint, so a missing marker is the only sign of lost members.
    let sawEnd = false;
    unpack.on('eof', () => (sawEnd = true));
    input.on('error', stop);
    unpack.on('error', stop);
    unpack.on('close', () => {
      if (failed) return;
      bar.done();
      if (read !== size) fail(new Error(`read ${read} of ${size} bytes`));
      else if (!sawEnd) fail(new Error('the tar archive ends without its end-of-archive marker (truncated?)'));
      else ok(hash.digest('hex'));
    });
    input.pipe(unpack);
  });
}

/**
 * Extracts `archive` into `dest` (which must not be inside the archive's own folder tree) unless a
 * finished extraction of the same file is there and `force` is false. A damaged archive is a
 * DatasetError naming it, and leaves `dest` absent.
 */
export async function extractArchive(o: { archive: string; dest: string; force: boolean; log: (m: string) => void }): Promise<Extracted> {
  const name = basename(o.archive);
  if (!o.force) {
    const sha256 = extractedFrom(o.dest, o.archive);
    if (sha256 !== null) {
      o.log(`using ${o.dest} (extracted from ${name} before)`);
      return { dir: o.dest, sha256, reused: true };
    }
  }
  const parent = dirname(o.dest);
  mkdirSync(parent, { recursive: true });
  // Left-overs of an interrupted extraction are never reused.
  const prefix = `.${basename(o.dest)}.tmp-`;
  for (const e of readdirSync(parent)) if (e.startsWith(prefix)) rmSync(join(parent, e), { recursive: true, force: true });
  const tmp = join(parent, `${prefix}${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  o.log(`extracting ${o.archive} into ${o.dest}`);
  let sha256: string;
  try {
    const st = statSync(o.archive);
    sha256 = await unpackInto(o.archive, tmp);
    writeJsonAtomic(join(tmp, STAMP), { archive: resolve(o.archive), size: st.size, mtime_ms: st.mtimeMs, sha256 } satisfies Stamp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new DatasetError(o.archive, `${name}: damaged or unreadable archive: ${(err as Error).message}`, { cause: err });
  }
  rmSync(o.dest, { recursive: true, force: true });
  renameSync(tmp, o.dest);
  return { dir: o.dest, sha256, reused: false };
}
