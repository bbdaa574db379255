// Turns the config's data section into batch sources over the prepared Arrow files.
import type { Config } from '../config/index.js';
import { loadMnistSplit, makeBatch, prepareMnist, resolvePermutation, viewShape } from '../data/index.js';
import type { MnistSplit } from '../data/types.js';
import type { BatchSource } from '../train/batches.js';

export type SplitName = 'train' | 'valid' | 'test';

export interface DataSources {
  inputSize: number;
  steps: number;
  numClasses: number;
  split(name: SplitName): BatchSource;
}

export async function prepareData(cfg: Config, dataDir: string, force: boolean, log: (m: string) => void): Promise<void> {
  await prepareMnist({
    dataDir, source: cfg.data.source, validFraction: cfg.data.valid_fraction, splitSeed: cfg.data.split_seed, force, log,
  });
}

export function openData(cfg: Config, dataDir: string): DataSources {
  const view = cfg.data.view;
  const { T, C } = viewShape(view);
  const permutation = resolvePermutation(dataDir, view, { permutation: cfg.data.permutation, seed: cfg.data.permutation_seed });
  const cache = new Map<SplitName, BatchSource>();
  return {
    inputSize: C,
    steps: T,
    numClasses: 10,
    split(name) {
      let s = cache.get(name);
      if (!s) {
        s = mnistSource(loadMnistSplit(dataDir, name), cfg.data.limit?.[name], (split, idx) => makeBatch(split, idx, view, permutation), T, C);
        cache.set(name, s);
      }
      return s;
    },
  };
}

function mnistSource(
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
