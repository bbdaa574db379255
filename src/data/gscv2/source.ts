// Where the two GSCv2 trees come from: a source folder holding each as an unpacked folder (read in
// place, never written to) or as its .tar.gz (extracted under <dataDir>/gscv2/audio/), or the
// official download (kept under <dataDir>/gscv2/download/, verified, then extracted).
import { existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetError } from '../errors.js';
import { joinUrl } from '../http.js';
import { downloadVerified, sha256OfFile } from './download.js';
import { extractArchive, extractedFrom } from './extract.js';
import { archiveName, audioDir, downloadDir, GSC_ARCHIVE_BYTES, GSC_DOWNLOAD_BASE, GSC_INPUTS, GSC_SHA256, type GscInput } from './layout.js';
import type { InputRecord } from './meta.js';
import { loopProgress } from './progress.js';

const MIB = 1 << 20;

/** Where the trees come from and how; prepare's options extend these (the same fields, documented once). */
export interface AcquireOptions {
  dataDir: string;
  /** A folder holding speech_commands_v0.02 and speech_commands_test_set_v0.02 (each a folder or a .tar.gz), or `download`. */
  source: string;
  force: boolean;
  log: (m: string) => void;
  /** Base URL serving the two archives (default: the official one). */
  downloadBase?: string;
  /** Expected SHA-256 of the two archives (default: the pinned official ones); for tests. */
  checksums?: Readonly<Record<GscInput, string>>;
}

export interface AcquiredInput extends InputRecord {
  /** Whether its files lie under <dataDir>/gscv2/ (stored relative there) or in the user's source. */
  inDataDir: boolean;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

async function fromArchive(o: AcquireOptions, input: GscInput, archive: string, kind: 'archive' | 'download', location: string): Promise<AcquiredInput> {
  const got = await extractArchive({ archive, dest: join(audioDir(o.dataDir), input), force: o.force, log: o.log });
  return { kind, location, root: got.dir, sha256: got.sha256, official: got.sha256 === GSC_SHA256[input], inDataDir: true };
}

async function fromDirectory(o: AcquireOptions, dir: string, input: GscInput): Promise<AcquiredInput> {
  const folder = join(dir, input);
  if (isDir(folder)) {
    o.log(`reading ${folder}`);
    return { kind: 'folder', location: folder, root: folder, sha256: null, official: null, inDataDir: false };
  }
  const archive = join(dir, archiveName(input));
  if (existsSync(archive)) return fromArchive(o, input, archive, 'archive', archive);
  throw new DatasetError(folder, `${input}: neither the folder ${folder} nor the archive ${archive} exists (the GSCv2 source folder must hold both ${GSC_INPUTS.join(' and ')}, each unpacked or as .tar.gz)`);
}

async function fromDownload(o: AcquireOptions, input: GscInput): Promise<AcquiredInput> {
  const expected = (o.checksums ?? GSC_SHA256)[input];
  const url = joinUrl(o.downloadBase ?? GSC_DOWNLOAD_BASE, archiveName(input));
  const archive = join(downloadDir(o.dataDir), archiveName(input));
  const dest = join(audioDir(o.dataDir), input);
  const record = (root: string): AcquiredInput => ({ kind: 'download', location: url, root, sha256: expected, official: expected === GSC_SHA256[input], inDataDir: true });
  // An extraction of this very archive, made after it verified, needs no second look at 2.4 GB.
  if (!o.force && extractedFrom(dest, archive) === expected) {
    o.log(`using ${dest} (extracted from the verified download before)`);
    return record(dest);
  }
  if (existsSync(archive)) {
    o.log(`verifying the downloaded ${archive}`);
    const bar = loopProgress(`verifying ${archiveName(input)}`, Math.ceil(statSync(archive).size / MIB), 'MiB');
    let bytes = 0;
    const actual = await sha256OfFile(archive, (n) => {
      const before = Math.floor(bytes / MIB);
      bytes += n;
      bar.tick(Math.floor(bytes / MIB) - before);
    }).finally(() => bar.done());
    if (actual !== expected) {
      o.log(`${archive} does not verify (SHA-256 ${actual}, expected ${expected}); downloading it again`);
      rmSync(archive, { force: true });
    }
  }
  if (!existsSync(archive)) await downloadVerified({ url, target: archive, sha256: expected, log: o.log, sizeHint: GSC_ARCHIVE_BYTES[input] });
  const got = await extractArchive({ archive, dest, force: o.force, log: o.log });
  return record(got.dir);
}

/** Both trees, ready to read, with what meta.json records of them. */
export async function acquireInputs(o: AcquireOptions): Promise<Record<GscInput, AcquiredInput>> {
  const out = {} as Record<GscInput, AcquiredInput>;
  if (o.source === 'download') {
    for (const input of GSC_INPUTS) out[input] = await fromDownload(o, input);
    return out;
  }
  const dir = resolve(o.source);
  if (!isDir(dir)) throw new DatasetError(dir, `GSCv2 source ${dir} is not a folder (give the folder holding ${GSC_INPUTS.join(' and ')}, or "download")`);
  for (const input of GSC_INPUTS) out[input] = await fromDirectory(o, dir, input);
  return out;
}
