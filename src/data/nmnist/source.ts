// Where N-MNIST's Train and Test samples come from: a source folder holding each as the official
// folder (digit sub-folders 0…9 of .bin files, read in place) or as its zip (Train.zip, or
// train.zip as tonic names its download; members read one at a time), or the official download
// (kept under <dataDir>/nmnist/download/, MD5-checked). Samples are listed in a fixed order:
// by digit, then by file name, whatever the source, so folders and zips give identical splits.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DatasetError } from '../errors.js';
import { downloadChecked, hashFile } from '../events/download.js';
import type { EventInput } from '../events/event-meta.js';
import { ZipReader } from '../events/zip-reader.js';
import { archiveName, NMNIST_INPUTS, NMNIST_MD5, NMNIST_URLS, nmnistDownloadDir, type NmnistInput } from './layout.js';

export interface NmnistSampleRef {
  label: number;
  /** The file, or archive:member, for errors. */
  name: string;
  read(): Uint8Array;
}

export interface AcquiredNmnist {
  record: EventInput;
  samples: NmnistSampleRef[];
  /** Releases the archive (a no-op for a folder). */
  close(): void;
}

export interface NmnistSourceOptions {
  dataDir: string;
  /** A folder holding Train and Test (folders or zips), or `download`. */
  source: string;
  log: (m: string) => void;
  /** Download URLs (default: the official ones); for tests. */
  urls?: Readonly<Record<NmnistInput, string>>;
  /** Expected MD5s of the archives (default: the pinned ones); for tests. */
  md5?: Readonly<Record<NmnistInput, string>>;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const byLabelThenName = (a: NmnistSampleRef & { file: string }, b: NmnistSampleRef & { file: string }): number =>
  a.label - b.label || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);

function fromFolder(dir: string, log: (m: string) => void): AcquiredNmnist {
  const samples: (NmnistSampleRef & { file: string })[] = [];
  for (let d = 0; d <= 9; d++) {
    const sub = join(dir, String(d));
    if (!isDir(sub)) {
      log(`warning: ${sub} is missing; N-MNIST has no digit-${d} samples here`);
      continue;
    }
    for (const file of readdirSync(sub)) {
      // Hidden files (macOS ._ resource forks among them) are not samples.
      if (!file.toLowerCase().endsWith('.bin') || file.startsWith('.')) continue;
      const path = join(sub, file);
      samples.push({ label: d, file, name: path, read: () => readFileSync(path) });
    }
  }
  if (samples.length === 0) throw new DatasetError(dir, `${dir}: no .bin files in digit folders 0…9 (not an N-MNIST Train or Test folder)`);
  samples.sort(byLabelThenName);
  log(`reading ${samples.length} .bin files from ${dir}`);
  return { record: { kind: 'folder', location: dir, sha256: null, md5: null, official: null }, samples, close: () => {} };
}

const MEMBER = /(?:^|\/)([0-9])\/([^/]+\.bin)$/i;

async function fromZip(file: string, input: NmnistInput, record: Omit<EventInput, 'sha256' | 'md5' | 'official'>, hashes: { md5: string; sha256: string } | null, log: (m: string) => void): Promise<AcquiredNmnist> {
  const h = hashes ?? (await hashFile(file));
  const zip = new ZipReader(file);
  const samples: (NmnistSampleRef & { file: string })[] = [];
  for (const m of zip.members) {
    const got = MEMBER.exec(m.name);
    // Archives made on macOS carry __MACOSX/…/._name resource forks beside the real members.
    if (!got || got[2].startsWith('.') || m.name.split('/').includes('__MACOSX')) continue;
    samples.push({ label: Number(got[1]), file: got[2], name: `${basename(file)}:${m.name}`, read: () => zip.extract(m) });
  }
  if (samples.length === 0) {
    zip.close();
    throw new DatasetError(file, `${basename(file)}: no <digit>/*.bin members (not the N-MNIST ${input} archive)`);
  }
  samples.sort(byLabelThenName);
  log(`reading ${samples.length} .bin members of ${file}`);
  return { record: { ...record, md5: h.md5, sha256: h.sha256, official: h.md5 === NMNIST_MD5[input] }, samples, close: () => zip.close() };
}

async function fromDirectory(dir: string, input: NmnistInput, log: (m: string) => void): Promise<AcquiredNmnist> {
  const folder = join(dir, input);
  if (isDir(folder)) return fromFolder(folder, log);
  const candidates = [archiveName(input), `${input.toLowerCase()}.zip`];
  for (const name of candidates) {
    const file = join(dir, name);
    if (existsSync(file)) return fromZip(file, input, { kind: 'file', location: file }, null, log);
  }
  throw new DatasetError(folder, `N-MNIST ${input}: neither the folder ${folder} nor ${candidates.map((c) => join(dir, c)).join(' or ')} exists (the source folder must hold Train and Test, each unpacked or as the official zip)`);
}

async function fromDownload(o: NmnistSourceOptions, input: NmnistInput): Promise<AcquiredNmnist> {
  const url = (o.urls ?? NMNIST_URLS)[input];
  const target = join(nmnistDownloadDir(o.dataDir), archiveName(input));
  const hashes = await downloadChecked({ url, target, md5: (o.md5 ?? NMNIST_MD5)[input], log: o.log });
  return fromZip(target, input, { kind: 'download', location: url }, hashes, o.log);
}

/** Both inputs, ready to read (the caller closes them). */
export async function acquireNmnist(o: NmnistSourceOptions): Promise<Record<NmnistInput, AcquiredNmnist>> {
  const out = {} as Record<NmnistInput, AcquiredNmnist>;
  try {
    if (o.source === 'download') {
      for (const input of NMNIST_INPUTS) out[input] = await fromDownload(o, input);
      return out;
    }
    const dir = resolve(o.source);
    if (!isDir(dir)) throw new DatasetError(dir, `N-MNIST source ${dir} is not a folder (give the folder holding Train and Test, or "download")`);
    for (const input of NMNIST_INPUTS) out[input] = await fromDirectory(dir, input, o.log);
    return out;
  } catch (err) {
    for (const a of Object.values(out)) a.close();
    throw err;
  }
}
