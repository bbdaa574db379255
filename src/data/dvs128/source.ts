// Where the DvsGesture files come from: `--source` names the official folder (user*_*.aedat,
// *_labels.csv, trials_to_train.txt, trials_to_test.txt, gesture_mapping.csv), a folder holding
// it (DvsGesture/) or its archive (DvsGesture.tar.gz), or the archive itself. A folder is read in
// place, one recording at a time in name order. An archive is streamed twice and never unpacked
// to disk: once for the small text files (and its checksums), once for the recordings, each
// decoded as it passes, in archive order.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DatasetError } from '../errors.js';
import type { EventInput } from '../events/event-meta.js';
import { ARCHIVE_NAME, FOLDER_NAME, GESTURE_MAPPING, TEST_LIST, TRAIN_LIST } from './layout.js';
import { streamTarMembers } from './tar-stream.js';

/** The distribution's text files, by role; each with the name errors use. */
export interface Dvs128Texts {
  train: { name: string; text: string };
  test: { name: string; text: string };
  mapping: { name: string; text: string } | null;
  /** recording stem → its labels CSV */
  labels: Map<string, { name: string; text: string }>;
}

export interface Dvs128Source {
  /** What meta.json records of the input. */
  record: EventInput;
  /** The folder or archive read, for error messages. */
  location: string;
  texts: Dvs128Texts;
  /**
   * Hands each recording in `stems` to `visit` once (its bytes and the name errors use); fails
   * naming the input when one is missing.
   */
  forEachRecording(stems: ReadonlySet<string>, visit: (stem: string, bytes: Uint8Array, name: string) => void): Promise<void>;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const isArchive = (p: string): boolean => /\.(tar\.gz|tgz|tar)$/i.test(p);
const LABELS = /^(user\d+_[A-Za-z_]+)_labels\.csv$/;
const AEDAT = /^(user\d+_[A-Za-z_]+)\.aedat$/;

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(path, `${path}: cannot read it: ${(err as Error).message}`, { cause: err });
  }
}

function required<T>(v: T | undefined, where: string, name: string): T {
  if (v === undefined) throw new DatasetError(where, `${where}: ${name} is missing (the official DvsGesture distribution has it)`);
  return v;
}

function fromFolder(dir: string): Dvs128Source {
  const listed = (name: string): { name: string; text: string } | undefined => {
    const p = join(dir, name);
    return existsSync(p) ? { name: p, text: readText(p) } : undefined;
  };
  const labels = new Map<string, { name: string; text: string }>();
  for (const entry of listNames(dir)) {
    const m = LABELS.exec(entry);
    if (m) labels.set(m[1], { name: join(dir, entry), text: readText(join(dir, entry)) });
  }
  return {
    record: { kind: 'folder', location: dir, sha256: null, md5: null, official: null },
    location: dir,
    texts: {
      train: required(listed(TRAIN_LIST), dir, TRAIN_LIST),
      test: required(listed(TEST_LIST), dir, TEST_LIST),
      mapping: listed(GESTURE_MAPPING) ?? null,
      labels,
    },
    async forEachRecording(stems, visit) {
      for (const stem of [...stems].sort()) {
        const path = join(dir, `${stem}.aedat`);
        if (!existsSync(path)) throw new DatasetError(path, `${path}: the recording is listed in the trials lists but missing`);
        visit(stem, readFileSync(path), path);
      }
    },
  };
}

/** The folder's entry names; the official files all lie at its top level. */
function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new DatasetError(dir, `${dir}: cannot list it: ${(err as Error).message}`, { cause: err });
  }
}

async function fromArchive(archive: string, log: (m: string) => void): Promise<Dvs128Source> {
  const name = basename(archive);
  const damaged = (err: unknown): never => {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(archive, `${name}: damaged or unreadable archive: ${(err as Error).message}`, { cause: err });
  };
  const found = new Map<string, { name: string; text: string }>();
  const labels = new Map<string, { name: string; text: string }>();
  const isText = (p: string): boolean => {
    const b = basename(p);
    return b === TRAIN_LIST || b === TEST_LIST || b === GESTURE_MAPPING || LABELS.test(b);
  };
  log(`reading the text files of ${archive}`);
  const pass = await streamTarMembers(archive, isText, (m) => {
    const b = basename(m.path);
    const entry = { name: `${name}:${m.path}`, text: Buffer.from(m.bytes).toString('utf8') };
    const lm = LABELS.exec(b);
    const key = lm ? lm[1] : b;
    const into = lm ? labels : found;
    if (into.has(key)) throw new DatasetError(archive, `${name}: holds ${b} twice (${into.get(key)!.name.slice(name.length + 1)} and ${m.path})`);
    into.set(key, entry);
  }).catch(damaged);
  return {
    record: { kind: 'file', location: archive, sha256: pass.sha256, md5: pass.md5, official: null },
    location: archive,
    texts: {
      train: required(found.get(TRAIN_LIST), archive, TRAIN_LIST),
      test: required(found.get(TEST_LIST), archive, TEST_LIST),
      mapping: found.get(GESTURE_MAPPING) ?? null,
      labels,
    },
    async forEachRecording(stems, visit) {
      const seen = new Set<string>();
      log(`decoding the recordings of ${archive}`);
      await streamTarMembers(archive, (p) => {
        const m = AEDAT.exec(basename(p));
        return m !== null && stems.has(m[1]);
      }, (m) => {
        const stem = AEDAT.exec(basename(m.path))![1];
        if (seen.has(stem)) throw new DatasetError(archive, `${name}: holds ${stem}.aedat twice`);
        seen.add(stem);
        visit(stem, m.bytes, `${name}:${m.path}`);
      }).catch(damaged);
      const missing = [...stems].filter((s) => !seen.has(s)).sort();
      if (missing.length > 0) throw new DatasetError(archive, `${name}: the recordings ${missing.map((s) => `${s}.aedat`).join(', ')} are listed in the trials lists but missing`);
    },
  };
}

/** Where --source points: the DvsGesture folder or its archive (found without reading either). */
export interface Dvs128Location {
  kind: 'folder' | 'archive';
  path: string;
}

/** Resolves --source; fails naming it when it holds no DvsGesture distribution. */
export function locateDvs128Source(source: string): Dvs128Location {
  const path = resolve(source);
  if (!existsSync(path)) throw new DatasetError(path, `DVS128 Gesture source ${path} does not exist (give the DvsGesture folder, a folder holding it, or ${ARCHIVE_NAME})`);
  if (!isDir(path)) {
    if (!isArchive(path)) throw new DatasetError(path, `${path}: not a folder nor a .tar.gz archive (give the DvsGesture folder or ${ARCHIVE_NAME})`);
    return { kind: 'archive', path };
  }
  if (existsSync(join(path, TRAIN_LIST))) return { kind: 'folder', path };
  if (existsSync(join(path, FOLDER_NAME, TRAIN_LIST))) return { kind: 'folder', path: join(path, FOLDER_NAME) };
  if (existsSync(join(path, ARCHIVE_NAME))) return { kind: 'archive', path: join(path, ARCHIVE_NAME) };
  throw new DatasetError(path, `${path}: holds neither ${TRAIN_LIST} (the DvsGesture folder), nor ${FOLDER_NAME}/, nor ${ARCHIVE_NAME}`);
}

/** Opens the located input (an archive's text files are read here, its recordings later). */
export async function openDvs128Source(at: Dvs128Location, log: (m: string) => void): Promise<Dvs128Source> {
  return at.kind === 'folder' ? fromFolder(at.path) : fromArchive(at.path, log);
}
