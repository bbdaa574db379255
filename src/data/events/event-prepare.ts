// The common frame of an event dataset's prepare step: reuse a directory prepared for the same
// source and split, or else remove meta.json and the old split files first, let the dataset
// write its three splits through EventSplitWriters, and write meta.json last. When anything
// fails, every split file of this run (finished or not) is removed too, so a failed prepare
// leaves neither split files nor meta.json behind.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitName } from '../dataset-module.js';
import { EventSplitWriter } from './event-arrow.js';
import { EVENT_FORMAT, EVENT_FORMAT_VERSION, eventMetaPath, readEventMeta, SPLITS, writeEventMeta, type EventInput, type EventMeta } from './event-meta.js';

export interface EventPrepareOptions {
  /** The registry name ("nmnist"), also meta.json's `dataset`. */
  dataset: string;
  /** For log lines ("N-MNIST"). */
  title: string;
  /** <dataDir>/<dataset> */
  dir: string;
  source: { kind: 'directory' | 'download'; location: string };
  validFraction: number;
  splitSeed: number;
  extraColumns: readonly string[];
  force: boolean;
  log: (m: string) => void;
}

/** What the dataset's writer reports besides the counts the writers keep. */
export interface WrittenSplits {
  inputs: Record<string, EventInput>;
  sensor_size: [number, number, number];
  ordering: string;
  classes: string[];
  notes: string[];
}

export const splitFileName = (s: SplitName): string => `${s}.arrow`;

function staleReason(meta: EventMeta, o: EventPrepareOptions): string | null {
  if (meta.source.kind !== o.source.kind || meta.source.location !== o.source.location) {
    return `it was prepared from ${meta.source.kind} ${meta.source.location}; asked for ${o.source.kind} ${o.source.location}`;
  }
  if (meta.valid_fraction !== o.validFraction || meta.split_seed !== o.splitSeed) {
    return `it was prepared with valid_fraction ${meta.valid_fraction}, split_seed ${meta.split_seed}; asked for ${o.validFraction}, ${o.splitSeed}`;
  }
  for (const s of SPLITS) if (!existsSync(join(o.dir, meta.files[s]))) return `${join(o.dir, meta.files[s])} is missing`;
  return null;
}

/**
 * Prepares `o.dir` unless it is prepared already for these options (returns its meta either way).
 * `write` fills the three writers and says what meta.json records of the inputs.
 */
export async function prepareEventSplits(
  o: EventPrepareOptions,
  write: (writers: Record<SplitName, EventSplitWriter>) => Promise<WrittenSplits>,
): Promise<EventMeta> {
  const status = readEventMeta(o.dir, o.dataset);
  if ('meta' in status) {
    const reason = staleReason(status.meta, o);
    if (reason === null && !o.force) {
      const z = status.meta.sizes;
      o.log(`${o.title} already prepared in ${o.dir} (${z.train}/${z.valid}/${z.test} train/valid/test samples); reusing it`);
      return status.meta;
    }
    o.log(o.force ? `re-preparing ${o.title} in ${o.dir} (forced)` : `re-preparing ${o.title} in ${o.dir}: ${reason}`);
  } else {
    o.log(existsSync(o.dir) ? `preparing ${o.title} in ${o.dir} (${status.problem})` : `preparing ${o.title} in ${o.dir}`);
  }
  // From here on the directory does not count as prepared until the new meta.json is written.
  const files = Object.fromEntries(SPLITS.map((s) => [s, join(o.dir, splitFileName(s))])) as Record<SplitName, string>;
  rmSync(eventMetaPath(o.dir), { force: true });
  for (const s of SPLITS) rmSync(files[s], { force: true });
  // Temp files of a run that was killed mid-write (atomic.ts names them .<file>.<pid>.<time>.tmp).
  if (existsSync(o.dir)) {
    for (const f of readdirSync(o.dir)) if (/^\.(train|valid|test)\.arrow\..*\.tmp$/.test(f)) rmSync(join(o.dir, f), { force: true });
  }

  const writers = {} as Record<SplitName, EventSplitWriter>;
  let written: WrittenSplits;
  try {
    for (const s of SPLITS) writers[s] = new EventSplitWriter(files[s], o.extraColumns);
    written = await write(writers);
    for (const s of SPLITS) writers[s].finish();
  } catch (err) {
    for (const s of SPLITS) {
      writers[s]?.abort();
      rmSync(files[s], { force: true });
    }
    throw err;
  }
  const meta: EventMeta = {
    dataset: o.dataset,
    format: EVENT_FORMAT,
    format_version: EVENT_FORMAT_VERSION,
    created_at: new Date().toISOString(),
    source: { ...o.source, inputs: written.inputs },
    sensor_size: written.sensor_size,
    ordering: written.ordering,
    time_unit: 'us',
    extra_columns: [...o.extraColumns],
    classes: written.classes,
    valid_fraction: o.validFraction,
    split_seed: o.splitSeed,
    sizes: { train: writers.train.rows, valid: writers.valid.rows, test: writers.test.rows },
    events: { train: writers.train.events, valid: writers.valid.events, test: writers.test.events },
    files: { train: splitFileName('train'), valid: splitFileName('valid'), test: splitFileName('test') },
    notes: written.notes,
  };
  try {
    writeEventMeta(o.dir, meta);
  } catch (err) {
    for (const s of SPLITS) rmSync(files[s], { force: true });
    throw err;
  }
  for (const s of SPLITS) o.log(`${s}: ${meta.sizes[s]} samples, ${meta.events[s]} events`);
  o.log(`${o.title} prepared in ${o.dir}`);
  return meta;
}
