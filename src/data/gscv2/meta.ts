// meta.json of a prepared GSCv2 directory: written last (atomically), so its presence means
// clips.arrow and every file it lists are complete; removed first when a prepare starts.
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { CLIPS_FILE, type GscInput, metaPath } from './layout.js';

export const GSCV2_FORMAT = 'evnn-gscv2';
export const GSCV2_VERSION = 1;

export interface InputRecord {
  /** An unpacked folder in the source, an archive in the source (extracted), or a download. */
  kind: 'folder' | 'archive' | 'download';
  /** The folder, the archive or the URL. */
  location: string;
  /** The folder the clips were read from (absolute). */
  root: string;
  /** SHA-256 of the archive (null for a folder). */
  sha256: string | null;
  /** Whether that is the pinned official SHA-256 (null for a folder, which has none). */
  official: boolean | null;
}

export interface SplitCounts {
  total: number;
  /** Clips per class name, every class present (0 when none). */
  per_class: Record<string, number>;
}

export interface Gscv2Meta {
  format: typeof GSCV2_FORMAT;
  version: typeof GSCV2_VERSION;
  created_at: string;
  classes: string[];
  /** `directory` (location: the resolved source folder) or `download` (location: the base URL). */
  source: { kind: 'directory' | 'download'; location: string; inputs: Record<GscInput, InputRecord> };
  seed: number;
  rules: {
    keyword_split: string;
    unknown: { words: string[]; n_yes: number; train_per_word: number; valid_per_word: number; valid_target: number; sampled_from: string };
    silence: { per_gain: number; gains_db: number[]; samples: number; noise_files: string[]; valid: number; unused: number; valid_rule: string };
  };
  counts: Record<SplitName, SplitCounts>;
  files: { clips: typeof CLIPS_FILE };
}

/** The meta of a prepared directory, or why it does not count as prepared. */
export function readGscv2Meta(dataDir: string): { meta: Gscv2Meta } | { problem: string } {
  const file = metaPath(dataDir);
  if (!existsSync(file)) return { problem: `${file} is missing` };
  let meta: Partial<Gscv2Meta>;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as Partial<Gscv2Meta>;
  } catch (err) {
    return { problem: `${file} is not valid JSON (${(err as Error).message})` };
  }
  if (meta.format !== GSCV2_FORMAT || meta.version !== GSCV2_VERSION) {
    return { problem: `${file} is not an ${GSCV2_FORMAT} version ${GSCV2_VERSION} meta file (format ${String(meta.format)}, version ${String(meta.version)})` };
  }
  if (typeof meta.seed !== 'number' || !meta.source || !meta.counts || !meta.files) return { problem: `${file} lacks seed, source, counts or files` };
  return { meta: meta as Gscv2Meta };
}

/** The meta of a prepared directory; a DatasetError naming meta.json when it is not prepared. */
export function requireGscv2Meta(dataDir: string): Gscv2Meta {
  const got = readGscv2Meta(dataDir);
  if ('problem' in got) throw new DatasetError(metaPath(dataDir), `GSCv2 is not prepared: ${got.problem}; run \`evnn prepare\` first`);
  return got.meta;
}

export function writeGscv2Meta(dataDir: string, meta: Gscv2Meta): void {
  writeJsonAtomic(metaPath(dataDir), meta);
}
