// Reading members out of the archives the corpora are distributed in: tar (plain or gzipped, as
// Mikolov's simple-examples.tgz) through the `tar` package, zip (wikitext-2-v1.zip) through
// `fflate`. Archives are read from memory; a damaged one is a DatasetError naming it.
import { basename } from 'node:path';
import { unzipSync } from 'fflate';
import { Parser, type ReadEntry } from 'tar';
import { DatasetError } from './errors.js';

export type ArchiveFormat = 'zip' | 'tar';

/** The format by magic bytes (gzip is taken for a gzipped tar), or null for neither. */
export function archiveFormat(bytes: Uint8Array): ArchiveFormat | null {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05) && (bytes[3] === 0x04 || bytes[3] === 0x06)) return 'zip';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'tar';
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') return 'tar';
  return null;
}

/** A member path as compared against wanted paths: forward slashes, no leading `./` or `/`. */
export function normalizeMemberPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

function readTar(bytes: Uint8Array, wanted: (path: string) => boolean): Promise<Map<string, Uint8Array>> {
  return new Promise((resolve, reject) => {
    const found = new Map<string, Uint8Array>();
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const path = normalizeMemberPath(entry.path);
        if ((entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') || !wanted(path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => found.set(path, new Uint8Array(Buffer.concat(chunks))));
      },
    });
    parser.on('error', (err: Error) => reject(err));
    parser.on('end', () => resolve(found));
    parser.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

/**
 * The archive's regular-file members whose (normalised) path `wanted` accepts, by that path.
 * `file` names the archive in errors.
 */
export async function readArchiveMembers(bytes: Uint8Array, file: string, wanted: (path: string) => boolean): Promise<Map<string, Uint8Array>> {
  const name = basename(file);
  const format = archiveFormat(bytes);
  if (format === null) throw new DatasetError(file, `${name}: not a zip, tar or gzipped tar archive`);
  try {
    if (format === 'zip') {
      const found = new Map<string, Uint8Array>();
      const members = unzipSync(bytes, { filter: (f) => !f.name.endsWith('/') && wanted(normalizeMemberPath(f.name)) });
      for (const [path, data] of Object.entries(members)) found.set(normalizeMemberPath(path), data);
      return found;
    }
    return await readTar(bytes, wanted);
  } catch (err) {
    throw new DatasetError(file, `${name}: damaged ${format} archive: ${(err as Error).message}`, { cause: err });
  }
}
