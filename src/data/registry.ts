// The dataset registry: one module per dataset, each with its preparation, the Arrow schema of its
// prepared splits, the sequence views a config may ask for, its metadata (number of classes or
// vocabulary) and, for datasets that have one (speech), a feature-extraction step. The pipeline
// and `evnn prepare <name>` reach datasets only through here; a new dataset is a module beside
// mnist-dataset.ts added to DATASETS below.
import type { Schema } from 'apache-arrow';
import type { DataConfig } from '../config/data.js';
import type { BatchSource } from '../train/batches.js';
import { mnistDataset } from './mnist-dataset.js';

export type SplitName = 'train' | 'valid' | 'test';

/** The prepared splits of a dataset as a model sees them, through the config's view. */
export interface DatasetSplits {
  /** Channels per time step. */
  inputSize: number;
  /** Sequence length. */
  steps: number;
  numClasses: number;
  /** Opens a split (once; later calls return the same source). */
  split(name: SplitName): BatchSource;
}

export interface DatasetMetadata {
  /** What a model predicts: one class per sequence, or the next token. */
  task: 'classification' | 'language-model';
  /** Classes of a classifier (the vocabulary size of a language model). */
  numClasses: number;
  /** Class names, when the dataset has them. */
  classes?: readonly string[];
  /** Tokens of a language-model dataset, by id (read from the prepared meta.json). */
  vocabulary?: readonly string[];
}

/** `evnn prepare <name>`: the options a dataset name takes on the command line. */
export interface PrepareByNameOptions {
  dataDir: string;
  source?: string;
  validFraction?: number;
  splitSeed?: number;
  force: boolean;
  log: (msg: string) => void;
}

/** Preparing (or checking) what a config's data section needs. */
export interface PrepareForConfigOptions {
  dataDir: string;
  data: DataConfig;
  force: boolean;
  log: (msg: string) => void;
}

/** A feature-extraction step (log-mel filterbanks, spike encodings) run after prepare. */
export interface FeatureExtraction {
  description: string;
  run(o: PrepareForConfigOptions): Promise<void>;
}

export interface DatasetModule {
  readonly name: string;
  readonly description: string;
  /** Sequence views a config's data.view may name. */
  readonly views: readonly string[];
  /** The Arrow schema of each prepared split file. */
  arrowSchema(): Schema;
  metadata(data: DataConfig): DatasetMetadata;
  /** Prepares `<dataDir>/<name>/` for a config (reusing a prepared directory unless forced). */
  prepare(o: PrepareForConfigOptions): Promise<void>;
  prepareByName(o: PrepareByNameOptions): Promise<void>;
  /** The prepared splits through the config's view; fails naming the file when one is damaged. */
  open(dataDir: string, data: DataConfig): DatasetSplits;
  /** Absent when the dataset has no feature-extraction step (a `feature` step is then a config error). */
  readonly feature?: FeatureExtraction;
  /** Dataset-specific checks of the data section; paths are relative to `data`. */
  checkConfig?(data: DataConfig): { path: string; message: string }[];
}

const DATASETS: readonly DatasetModule[] = [mnistDataset];

/** Names of the registered datasets, in registration order. */
export function datasetNames(): [string, ...string[]] {
  return DATASETS.map((d) => d.name) as [string, ...string[]];
}

export function findDataset(name: string): DatasetModule | undefined {
  return DATASETS.find((d) => d.name === name);
}

/** The dataset module of `name`; an unknown name is an error listing the known ones. */
export function getDataset(name: string): DatasetModule {
  const d = findDataset(name);
  if (!d) throw new Error(`unknown dataset "${name}" (known datasets: ${datasetNames().join(', ')})`);
  return d;
}
