// MNIST in the dataset registry: the official idx files → Arrow (mnist.ts), the sequence views
// sMNIST (784×1), row-wise sMNIST (28×28) and psMNIST (784×1, permuted), 10 classes.
import type { BatchSource } from './batch-source.js';
import { imageSchema } from './arrow-images.js';
import { MNIST_CLASSES } from './idx.js';
import { loadMnistSplit, prepareMnist } from './mnist.js';
import { resolvePermutation } from './permutations.js';
import type { DataConfig, DatasetModule, DatasetSplits, SplitName } from './dataset-module.js';
import { checkView, makeBatch, viewShape } from './views.js';
import type { MnistSplit, SequenceView } from './types.js';

const permutationOf = (data: DataConfig) => ({ permutation: data.permutation, seed: data.permutation_seed });

/** The config's view (validated by the config schema; checked again at this boundary). */
function viewOf(data: DataConfig): SequenceView {
  const view = data.view;
  if (view === undefined) throw new RangeError('mnist needs a view (data.view: smnist, smnist-rows or psmnist)');
  checkView(view);
  return view;
}

export const mnistDataset: DatasetModule = {
  name: 'mnist',
  description: 'MNIST handwritten digits (official idx files), read as pixel or row sequences',
  modelTypes: ['sequence-classifier'],
  views: ['smnist', 'smnist-rows', 'psmnist'],
  arrowSchema: imageSchema,
  metadata: () => ({ task: 'classification', numClasses: MNIST_CLASSES, classes: Array.from({ length: MNIST_CLASSES }, (_, i) => String(i)) }),

  async prepare({ dataDir, data, force, log }) {
    await prepareMnist({ dataDir, source: data.source, validFraction: data.valid_fraction, splitSeed: data.split_seed, force, log });
    // Records the permutation a psMNIST config uses in meta.json.
    resolvePermutation(dataDir, viewOf(data), permutationOf(data));
  },

  async prepareByName({ dataDir, source, validFraction, splitSeed, allowOtherVocab, force, log }) {
    if (allowOtherVocab) throw new Error('--allow-other-vocab: for the language-model corpora (ptb, wikitext2) only, not mnist');
    await prepareMnist({ dataDir, source, validFraction, splitSeed, force, log });
  },

  checkConfig(data) {
    return data.allow_other_vocab === undefined ? [] : [{ path: 'allow_other_vocab', message: 'for the language-model corpora (ptb, wikitext2) only, not mnist' }];
  },

  open(dataDir, data): DatasetSplits {
    const view = viewOf(data);
    const { T, C } = viewShape(view);
    const permutation = resolvePermutation(dataDir, view, permutationOf(data));
    const cache = new Map<SplitName, BatchSource>();
    return {
      inputSize: C,
      steps: T,
      numClasses: MNIST_CLASSES,
      split(name) {
        let s = cache.get(name);
        if (!s) {
          s = imageSource(loadMnistSplit(dataDir, name), data.limit?.[name], (split, idx) => makeBatch(split, idx, view, permutation), T, C);
          cache.set(name, s);
        }
        return s;
      },
    };
  },
};

function imageSource(
  split: MnistSplit,
  limit: number | undefined,
  build: (s: MnistSplit, idx: Int32Array) => { x: Float32Array; labels: Int32Array },
  T: number,
  C: number,
): BatchSource {
  const count = limit !== undefined ? Math.min(limit, split.count) : split.count;
  return {
    count,
    batch(indices) {
      const { x, labels } = build(split, indices);
      return { x: { data: x, shape: [T, indices.length, C] }, labels };
    },
  };
}
