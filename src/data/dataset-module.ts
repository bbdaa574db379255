// What a dataset module provides (the registry, registry.ts, lists the modules): preparation,
// the Arrow schema of its prepared splits, its sequence views, its metadata and, for datasets that
// have one, a feature-extraction step. A classification dataset (MNIST) serves batches through
// open(); a language-model corpus (PTB, WikiText-2) serves its token stream through tokens(), which
// the LM training step batchifies (token-stream.ts).
import type { Schema } from 'apache-arrow';
import type { BatchSource } from './batch-source.js';

export type SplitName = 'train' | 'valid' | 'test';

/** The model types (config model.type) a dataset's batches can feed. */
export type ModelType = 'sequence-classifier' | 'frame-classifier' | 'language-model' | 'spiking-classifier' | 'gesture-classifier';

/**
 * A config's data section as the datasets read it. src/config/data.ts validates it (its zod
 * schema's type must conform to this one, which it checks), so the datasets need nothing from the
 * config layer above them.
 */
export interface DataConfig {
  dataset: string;
  source: string;
  /** Required by a dataset with views (MNIST), refused by one without (the language-model corpora). */
  view?: string;
  permutation: 'bit-reversal' | 'random';
  permutation_seed: number;
  valid_fraction: number;
  split_seed: number;
  limit?: { train?: number; valid?: number; test?: number };
  /** Language-model corpora: accept files whose vocabulary is not the official size. */
  allow_other_vocab?: boolean;
  /** Datasets with a feature step (gscv2): normalise by one global mean and std (absent = global) or per channel. */
  feature_norm?: 'global' | 'channel';
  /** Spike-event datasets (fmnist, nmnist, shd): time steps per sample (absent = the dataset's own: 100, 300, 500). */
  steps?: number;
  /** Spike-event datasets: the time step in ms that events are binned to (absent = the dataset's own: 1, 1, 2). */
  dt_ms?: number;
  /** DVS128 Gesture: the side of the frame after max-pooling the 128×128 sensor (a divisor of 128; absent = 128, EvNN's recipe). */
  frame_size?: number;
  /** DVS128 Gesture: augment the training frames as EvNN's --augment-data (absent = true, EvNN's recipe). */
  augment?: boolean;
}

/** The prepared splits of a dataset as a model sees them, through the config's view. */
export interface DatasetSplits {
  /** Channels per time step. */
  inputSize: number;
  /** Sequence length. */
  steps: number;
  numClasses: number;
  /** Spike-event datasets: the time step in ms (data.dt_ms or the dataset's own), which the LIF layers' β = exp(−dt/τ) needs. */
  dtMs?: number;
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
  /** Language-model corpora: accept files whose vocabulary is not the official size. */
  allowOtherVocab?: boolean;
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
  /** The model types (config model.type) its data serves: sequence classifiers read labels per
   * sequence, frame classifiers per frame, language models a token stream. */
  readonly modelTypes: readonly ModelType[];
  /** Sequence views a config's data.view may name; empty for a dataset without views (a config
   * then names none). */
  readonly views: readonly string[];
  /** The Arrow schema of each prepared split file. */
  arrowSchema(): Schema;
  /** What the dataset's models predict. A language-model corpus reads its vocabulary from the
   * prepared meta.json and needs `dataDir` (it throws without one). */
  metadata(data: DataConfig, dataDir?: string): DatasetMetadata;
  /** Prepares `<dataDir>/<name>/` for a config (reusing a prepared directory unless forced). */
  prepare(o: PrepareForConfigOptions): Promise<void>;
  prepareByName(o: PrepareByNameOptions): Promise<void>;
  /** The prepared splits through the config's view; fails naming the file when one is damaged. A
   * language-model corpus throws here: it has no classification batches (use tokens()). */
  open(dataDir: string, data: DataConfig): DatasetSplits;
  /**
   * Language-model corpora only: the token ids of a prepared split in corpus order (ids index
   * metadata().vocabulary), the first `limit` of them when given (a config's data.limit[split]).
   * The LM training step cuts this stream into batch_size columns with token-stream.ts's
   * batchify() and walks it in BPTT segments with segment(), in order, carrying the state.
   * Fails naming the file when the split is damaged or the corpus is not prepared.
   */
  tokens?(dataDir: string, split: SplitName, limit?: number): Int32Array;
  /** Absent when the dataset has no feature-extraction step (a `feature` step is then a config error). */
  readonly feature?: FeatureExtraction;
  /** Dataset-specific checks of the data section; paths are relative to `data`. */
  checkConfig?(data: DataConfig): { path: string; message: string }[];
}

