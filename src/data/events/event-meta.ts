// meta.json of a prepared event dataset (N-MNIST, SHD; DVS128 Gesture later): the tonic facts a
// reader needs beside the split files (sensor_size [W, H, P], the ordering of tonic's event
// tuple, µs timestamps), the classes, how the validation split was carved, the inputs and their
// checksums, and counts. Validated on read (a missing or invalid file means "not prepared");
// written atomically and last.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { readMetaJson } from '../meta-file.js';

export const EVENT_FORMAT = 'evnn-events';
/** Bumped whenever the split files or meta.json change meaning. */
export const EVENT_FORMAT_VERSION = 1;
export const EVENT_META_FILE = 'meta.json';
export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

const count = z.number().int().nonnegative();
const perSplit = <T extends z.ZodType>(v: T) => z.object({ train: v, valid: v, test: v });
const arrowName = z.string().regex(/^[A-Za-z0-9_.-]+\.arrow$/, 'a plain *.arrow file name');

const inputSchema = z.object({
  /** A folder read in place, an archive or file in the source folder, or a download. */
  kind: z.enum(['folder', 'file', 'download']),
  /** The folder, the file or the URL. */
  location: z.string(),
  /** Checksums of the file as given or downloaded (null for a folder). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  md5: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
  /** Whether the MD5 is the one tonic pins for the official file (null: no pinned checksum applies). */
  official: z.boolean().nullable(),
});
export type EventInput = z.infer<typeof inputSchema>;

const metaSchema = z.object({
  dataset: z.string(),
  format: z.literal(EVENT_FORMAT),
  format_version: z.literal(EVENT_FORMAT_VERSION),
  created_at: z.string(),
  source: z.object({ kind: z.enum(['directory', 'download']), location: z.string(), inputs: z.record(z.string(), inputSchema) }),
  /** tonic's sensor_size: [width, height, polarities]. */
  sensor_size: z.tuple([count, count, count]),
  /** tonic's field order of one event ("xytp" for N-MNIST, "txp" for SHD); the files always hold x, y, t, p columns. */
  ordering: z.string(),
  time_unit: z.literal('us'),
  /** The int32 columns between label and the events (SHD: speaker). */
  extra_columns: z.array(z.string()),
  classes: z.array(z.string()),
  valid_fraction: z.number().min(0).max(1),
  split_seed: z.number().int(),
  sizes: perSplit(count),
  events: perSplit(count),
  files: perSplit(arrowName),
  /** How the official files were read (overflow events, time conversion, sample order). */
  notes: z.array(z.string()),
});
export type EventMeta = z.infer<typeof metaSchema>;

export const eventMetaPath = (dir: string): string => join(dir, EVENT_META_FILE);

/** The meta of a prepared directory `dir` of `dataset`, or why it does not count as prepared. */
export function readEventMeta(dir: string, dataset: string): { meta: EventMeta } | { problem: string } {
  const path = eventMetaPath(dir);
  const r = readMetaJson(path, metaSchema, `${dataset} event`);
  if ('problem' in r) return r;
  if (r.meta.dataset !== dataset) return { problem: `${path} describes dataset ${r.meta.dataset}, not ${dataset}` };
  return { meta: r.meta };
}

/** The meta of a prepared directory; a DatasetError naming meta.json (and the command) otherwise. */
export function requireEventMeta(dir: string, dataset: string): EventMeta {
  const r = readEventMeta(dir, dataset);
  if ('problem' in r) throw new DatasetError(eventMetaPath(dir), `${dataset} is not prepared in ${dir}: ${r.problem}; run \`evnn prepare ${dataset}\``);
  return r.meta;
}

export function writeEventMeta(dir: string, meta: EventMeta): void {
  writeJsonAtomic(eventMetaPath(dir), metaSchema.parse(meta));
}
