// Where SHD's two HDF5 files come from: a source folder holding each as shd_<split>.h5, .h5.gz or
// .h5.zip (the first found), or the official zips downloaded (kept under <dataDir>/shd/download/,
// MD5-checked as tonic pins them). A compressed file is unpacked to <dataDir>/shd/unpacked/ for
// h5wasm to open (it reads files, not streams) and removed once read; errors name the file the
// user gave.
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { tempPathFor } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';
import { downloadChecked, hashFile, type Hashes } from '../events/download.js';
import type { EventInput } from '../events/event-meta.js';
import { ZipReader } from '../events/zip-reader.js';
import { openShdFile, type ShdFile } from './hdf5.js';
import { gzName, h5Name, SHD_DOWNLOAD_BASE, SHD_ZIP_MD5, shdDownloadDir, shdWorkDir, zipName, type ShdInput } from './layout.js';

export interface ShdSourceOptions {
  dataDir: string;
  /** A folder holding shd_train.h5 and shd_test.h5 (plain, .gz or .zip), or `download`. */
  source: string;
  log: (m: string) => void;
  /** Base URL serving shd_train.h5.zip and shd_test.h5.zip (default: the official one); for tests. */
  downloadBase?: string;
  /** Expected MD5s of the zips (default: tonic's); for tests. */
  md5?: Readonly<Record<ShdInput, string>>;
}

export interface AcquiredShd {
  record: EventInput;
  file: ShdFile;
  /** Closes the file and removes its unpacked copy. */
  close(): void;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Unpacks into the work folder via a temp name, so a failed unpack leaves no .h5 that looks whole. */
async function unpacked(dataDir: string, input: ShdInput, fill: (tmp: string) => Promise<void>): Promise<string> {
  const target = join(shdWorkDir(dataDir), h5Name(input));
  mkdirSync(shdWorkDir(dataDir), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    await fill(tmp);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return target;
}

async function gunzipTo(gz: string, tmp: string): Promise<void> {
  try {
    await pipeline(createReadStream(gz), createGunzip(), createWriteStream(tmp));
  } catch (err) {
    throw new DatasetError(gz, `${basename(gz)}: damaged gzip file: ${(err as Error).message}`, { cause: err });
  }
}

function unzipTo(zipFile: string, input: ShdInput, tmp: string): Promise<void> {
  const zip = new ZipReader(zipFile);
  try {
    const want = h5Name(input);
    const members = zip.members.filter((m) => basename(m.name) === want);
    if (members.length !== 1) throw new DatasetError(zipFile, `${basename(zipFile)}: holds ${members.length === 0 ? 'no' : members.length} ${want}${members.length > 1 ? ' members' : ''} (not the SHD ${input} archive?)`);
    writeFileSync(tmp, zip.extract(members[0]));
  } finally {
    zip.close();
  }
  return Promise.resolve();
}

async function openFrom(o: ShdSourceOptions, input: ShdInput, file: string, record: Omit<EventInput, 'md5' | 'sha256' | 'official'>, hashes: Hashes | null): Promise<AcquiredShd> {
  const h = hashes ?? (await hashFile(file));
  const official = file.endsWith('.zip') ? h.md5 === SHD_ZIP_MD5[input] : null;
  let h5 = file;
  if (file.endsWith('.gz')) {
    o.log(`unpacking ${file}`);
    h5 = await unpacked(o.dataDir, input, (tmp) => gunzipTo(file, tmp));
  } else if (file.endsWith('.zip')) {
    o.log(`unpacking ${file}`);
    h5 = await unpacked(o.dataDir, input, (tmp) => unzipTo(file, input, tmp));
  }
  const dropCopy = (): void => {
    if (h5 !== file) rmSync(h5, { force: true });
  };
  try {
    o.log(`reading ${file}`);
    const data = await openShdFile(h5, file);
    return {
      record: { ...record, md5: h.md5, sha256: h.sha256, official },
      file: data,
      close: () => {
        data.close();
        dropCopy();
      },
    };
  } catch (err) {
    dropCopy();
    throw err;
  }
}

async function fromDirectory(o: ShdSourceOptions, dir: string, input: ShdInput): Promise<AcquiredShd> {
  const names = [h5Name(input), gzName(input), zipName(input)];
  for (const n of names) {
    const file = join(dir, n);
    if (existsSync(file)) return openFrom(o, input, file, { kind: 'file', location: file }, null);
  }
  throw new DatasetError(join(dir, names[0]), `SHD ${input}: none of ${names.join(', ')} is in ${dir}`);
}

async function fromDownload(o: ShdSourceOptions, input: ShdInput): Promise<AcquiredShd> {
  const base = o.downloadBase ?? SHD_DOWNLOAD_BASE;
  const url = new URL(zipName(input), base.endsWith('/') ? base : `${base}/`).toString();
  const target = join(shdDownloadDir(o.dataDir), zipName(input));
  const hashes = await downloadChecked({ url, target, md5: (o.md5 ?? SHD_ZIP_MD5)[input], log: o.log });
  return openFrom(o, input, target, { kind: 'download', location: url }, hashes);
}

/** One of the two files, opened and its layout checked (the caller closes it). */
export async function openShdInput(o: ShdSourceOptions, input: ShdInput): Promise<AcquiredShd> {
  if (o.source === 'download') return fromDownload(o, input);
  const dir = resolve(o.source);
  if (!isDir(dir)) throw new DatasetError(dir, `SHD source ${dir} is not a folder (give the folder holding shd_train.h5 and shd_test.h5, plain, .gz or .zip, or "download")`);
  return fromDirectory(o, dir, input);
}
