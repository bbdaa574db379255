// GSCv2 batches for the frame classifier, from feature files written by the real writer
// (FeatureSplitWriter, writeFeatureMeta) into a temporary data directory: each batch padded at the
// tail to its longest clip with zeros in normalised space and silence targets, time-major
// x [T, N, 16] and targets [T, N], clip labels in batch order; one global mean and std or one per
// channel; and gscv2Dataset.open's seeded subset for data.limit (the same on every call, another
// for another split_seed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataConfig } from '../../src/data/dataset-module.js';
import { DatasetError } from '../../src/data/errors.js';
import { GSC_CLASSES, SILENCE } from '../../src/data/gscv2/clips.js';
import { FeatureSplitWriter } from '../../src/data/gscv2/feature-arrow.js';
import { FEATURE_FORMAT, FEATURE_FORMAT_VERSION, featureMetaPath, featuresDir, featureSplitPath, SPLITS, writeFeatureMeta } from '../../src/data/gscv2/feature-meta.js';
import { openFeatureSplit } from '../../src/data/gscv2/feature-split.js';
import { frameBatchSource, type Normalisation } from '../../src/data/gscv2/frame-batches.js';
import { FEATURE_SETTINGS, N_FILTERS } from '../../src/data/gscv2/log-filterbank.js';
import { gscv2Dataset } from '../../src/data/gscv2-dataset.js';
import type { SplitName } from '../../src/data/dataset-module.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir('evnn-gscv2-batches-');
afterAll(() => tmp.cleanup());

const F = N_FILTERS;

/** Raw dB value of clip i (of the split with salt s), frame t, channel c: float32-exact, and clip 0's first value is 0, clip i's i·…, so a value names its clip. */
const raw = (s: number, i: number, t: number, c: number): number => Math.fround(-60 + 1000 * s + 10 * i + 0.5 * t + 0.125 * c);
/** Clip i's frames: 2…6, varying. */
const framesOf = (i: number): number => 2 + ((i * 3) % 5);
const labelOf = (i: number): number => 1 + (i % (GSC_CLASSES.length - 1));
/** Per-frame targets: silence at the edges of the clip, its label in between. */
const targetOf = (i: number, t: number): number => (t === 0 || t === framesOf(i) - 1 ? SILENCE : labelOf(i));

// Normalisation statistics as meta.json records them (the values are arbitrary; only their use is tested).
const GLOBAL = { mean: -40.5, std: 7.25 };
const CHANNEL_MEAN = Array.from({ length: F }, (_, c) => -50 + 1.5 * c);
const CHANNEL_STD = Array.from({ length: F }, (_, c) => 2 + 0.25 * c);

const COUNTS: Record<SplitName, number> = { train: 10, valid: 3, test: 5 };
const SALT: Record<SplitName, number> = { train: 0, valid: 1, test: 2 };

function writeDataset(dataDir: string): void {
  mkdirSync(featuresDir(dataDir), { recursive: true });
  const splits = {} as Record<SplitName, { file: string; clips: number; frames: number; bytes: number }>;
  for (const split of SPLITS) {
    const w = new FeatureSplitWriter();
    for (let i = 0; i < COUNTS[split]; i++) {
      const T = framesOf(i);
      const data = new Float32Array(T * F);
      for (let t = 0; t < T; t++) for (let c = 0; c < F; c++) data[t * F + c] = raw(SALT[split], i, t, c);
      w.add(data, T, labelOf(i), Int32Array.from({ length: T }, (_, t) => targetOf(i, t)));
    }
    const bytes = w.encode();
    writeFileSync(featureSplitPath(dataDir, split), bytes);
    splits[split] = { file: `${split}.arrow`, clips: w.rows, frames: w.frames, bytes: bytes.length };
  }
  writeFeatureMeta(dataDir, {
    format: FEATURE_FORMAT,
    version: FEATURE_FORMAT_VERSION,
    created_at: new Date(0).toISOString(),
    clips_file: 'clips.arrow',
    clips_sha256: '0'.repeat(64),
    settings: { ...FEATURE_SETTINGS },
    n_features: F,
    n_classes: GSC_CLASSES.length,
    classes: [...GSC_CLASSES],
    splits,
    stats: {
      source: 'train', ddof: 1, count: splits.train.frames * F, mean: GLOBAL.mean, std: GLOBAL.std, min: -60, max: 60,
      channel_mean: CHANNEL_MEAN, channel_std: CHANNEL_STD,
    },
  });
}

const dataDir = tmp.dir;
writeDataset(dataDir);

const globalNorm: Normalisation = { mean: new Float32Array(F).fill(GLOBAL.mean), std: new Float32Array(F).fill(GLOBAL.std) };
const channelNorm: Normalisation = { mean: Float32Array.from(CHANNEL_MEAN), std: Float32Array.from(CHANNEL_STD) };

const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** The batch of `clips` (file indices of `split`), built independently: padded, normalised, time-major. */
function expected(split: SplitName, clips: readonly number[], norm: Normalisation) {
  const N = clips.length;
  const T = Math.max(...clips.map(framesOf));
  const x = new Float32Array(T * N * F);
  const targets = new Int32Array(T * N);
  clips.forEach((i, n) => {
    for (let t = 0; t < framesOf(i); t++) {
      for (let c = 0; c < F; c++) x[(t * N + n) * F + c] = (raw(SALT[split], i, t, c) - norm.mean[c]) / norm.std[c];
      targets[t * N + n] = targetOf(i, t);
    }
  });
  return { T, x, targets, labels: Int32Array.from(clips, labelOf) };
}

function config(over: Partial<DataConfig> = {}): DataConfig {
  return { dataset: 'gscv2', source: 'download', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.2, split_seed: 42, ...over };
}

/** The file index of each clip of a batch, read back from its first frame (raw(s, i, 0, 0) names i). */
function clipsOf(x: Float32Array, N: number, norm: Normalisation, salt: number): number[] {
  return Array.from({ length: N }, (_, n) => Math.round((x[n * F] * norm.std[0] + norm.mean[0] + 60 - 1000 * salt) / 10));
}

describe('frameBatchSource', () => {
  const train = openFeatureSplit(dataDir, 'train');

  it('the written split reads back as written', () => {
    expect(train.count).toBe(10);
    expect(Array.from(train.frames)).toEqual(Array.from({ length: 10 }, (_, i) => framesOf(i)));
    expect(Array.from(train.labels)).toEqual(Array.from({ length: 10 }, (_, i) => labelOf(i)));
  });

  it('pads to the longest clip of the batch with zeros and silence targets, time-major, labels in batch order', () => {
    const src = frameBatchSource(train, identity(train.count), globalNorm, F);
    expect(src.count).toBe(10);
    // frames: clip 2 → 3, clip 1 → 5, clip 5 → 2 (the longest, 5, sets T)
    const b = src.batch(Int32Array.from([2, 1, 5]));
    const e = expected('train', [2, 1, 5], globalNorm);
    expect(e.T).toBe(5);
    expect(b.x.shape).toEqual([5, 3, F]);
    expect(b.targets!.length).toBe(5 * 3);
    expect(Array.from(b.x.data)).toEqual(Array.from(e.x));
    expect(Array.from(b.targets!)).toEqual(Array.from(e.targets));
    expect(Array.from(b.labels)).toEqual([labelOf(2), labelOf(1), labelOf(5)]);
    // The padding itself: clip 5 (n = 2) has 2 frames, so frames 2…4 are exactly 0 with target silence.
    for (let t = 2; t < 5; t++) {
      expect(Array.from(b.x.data.subarray((t * 3 + 2) * F, (t * 3 + 3) * F)).every((v) => v === 0), `t=${t}`).toBe(true);
      expect(b.targets![t * 3 + 2]).toBe(SILENCE);
    }
    // Time-major: frame 1 of clip 1 (n = 1) sits at (1·N + 1)·16, normalised by the global mean and std.
    expect(b.x.data[(1 * 3 + 1) * F + 7]).toBe(Math.fround((raw(0, 1, 1, 7) - GLOBAL.mean) / GLOBAL.std));
    expect(b.targets![1 * 3 + 1]).toBe(labelOf(1));
    expect(b.targets![0 * 3 + 1]).toBe(SILENCE); // the clip's own silence at its first frame
  });

  it('a batch of one clip has that clip\'s length and no padding', () => {
    const src = frameBatchSource(train, identity(train.count), globalNorm, F);
    const b = src.batch(Int32Array.from([3]));
    expect(b.x.shape).toEqual([framesOf(3), 1, F]);
    expect(Array.from(b.x.data)).toEqual(Array.from(expected('train', [3], globalNorm).x));
  });

  it('per-channel normalisation uses each channel\'s own mean and std', () => {
    const src = frameBatchSource(train, identity(train.count), channelNorm, F);
    const b = src.batch(Int32Array.from([0, 4]));
    const e = expected('train', [0, 4], channelNorm);
    expect(Array.from(b.x.data)).toEqual(Array.from(e.x));
    expect(b.x.data[(1 * 2 + 0) * F + 9]).toBe(Math.fround((raw(0, 0, 1, 9) - CHANNEL_MEAN[9]) / CHANNEL_STD[9]));
    // and differs from the global one
    expect(Array.from(b.x.data)).not.toEqual(Array.from(expected('train', [0, 4], globalNorm).x));
  });

  it('serves the clips of `order`: index i of a batch is clip order[i]', () => {
    const src = frameBatchSource(train, Int32Array.from([7, 2, 9]), globalNorm, F);
    expect(src.count).toBe(3);
    const b = src.batch(Int32Array.from([2, 0]));
    expect(Array.from(b.x.data)).toEqual(Array.from(expected('train', [9, 7], globalNorm).x));
    expect(Array.from(b.labels)).toEqual([labelOf(9), labelOf(7)]);
  });
});

describe('gscv2Dataset.open', () => {
  it('sizes, and every split normalised by the training statistics (global unless feature_norm: channel)', () => {
    const ds = gscv2Dataset.open!(dataDir, config());
    expect(ds.inputSize).toBe(F);
    expect(ds.steps).toBe(0);
    expect(ds.numClasses).toBe(12);
    for (const split of SPLITS) {
      const s = ds.split(split);
      expect(s.count, split).toBe(COUNTS[split]);
      expect(ds.split(split)).toBe(s); // opened once
      const clips = [0, COUNTS[split] - 1];
      expect(Array.from(s.batch(Int32Array.from(clips)).x.data), split).toEqual(Array.from(expected(split, clips, globalNorm).x));
    }
    const global = gscv2Dataset.open!(dataDir, config({ feature_norm: 'global' })).split('valid').batch(Int32Array.from([0, 1, 2]));
    expect(Array.from(global.x.data)).toEqual(Array.from(expected('valid', [0, 1, 2], globalNorm).x));
    const channel = gscv2Dataset.open!(dataDir, config({ feature_norm: 'channel' })).split('test').batch(Int32Array.from([4, 1]));
    expect(Array.from(channel.x.data)).toEqual(Array.from(expected('test', [4, 1], channelNorm).x));
  });

  /** The file indices of the clips a limited split serves, in its order. */
  function subsetOf(seed: number, limit: number, split: SplitName = 'train', norm: Normalisation = globalNorm): number[] {
    const s = gscv2Dataset.open!(dataDir, config({ split_seed: seed, limit: { [split]: limit } })).split(split);
    const b = s.batch(identity(s.count));
    return clipsOf(b.x.data, s.count, norm, SALT[split]);
  }

  it('data.limit: a seeded subset of that many clips, in file order, the same on every call', () => {
    const a = subsetOf(42, 4);
    expect(a.length).toBe(4);
    expect(new Set(a).size).toBe(4);
    expect(a.every((i) => i >= 0 && i < 10)).toBe(true);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(subsetOf(42, 4)).toEqual(a);
    expect(subsetOf(42, 4)).toEqual(a);
    // Each served clip is that clip, whole: its labels and frames.
    const s = gscv2Dataset.open!(dataDir, config({ limit: { train: 4 } })).split('train');
    expect(s.count).toBe(4);
    const b = s.batch(identity(4));
    expect(Array.from(b.labels)).toEqual(a.map(labelOf));
    expect(Array.from(b.x.data)).toEqual(Array.from(expected('train', a, globalNorm).x));
  });

  it('another split_seed takes another subset; the seeded subsets are not just the first clips', () => {
    const bySeed = [0, 1, 2, 3, 42].map((seed) => subsetOf(seed, 4).join(','));
    expect(new Set(bySeed).size).toBeGreaterThan(1);
    expect(subsetOf(42, 4)).not.toEqual(subsetOf(7, 4));
    expect(bySeed.some((s) => s !== '0,1,2,3')).toBe(true);
  });

  it('a limit on one split leaves the others whole; a limit at or above the count takes every clip', () => {
    const ds = gscv2Dataset.open!(dataDir, config({ limit: { test: 2 } }));
    expect(ds.split('train').count).toBe(10);
    expect(ds.split('valid').count).toBe(3);
    expect(ds.split('test').count).toBe(2);
    expect(subsetOf(42, 2, 'test')).toHaveLength(2);
    expect(subsetOf(42, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(subsetOf(42, 50)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('without extracted features: a DatasetError naming meta.json', () => {
    const empty = `${tmp.dir}-none`;
    let err: unknown;
    try {
      gscv2Dataset.open!(empty, config());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(featureMetaPath(empty));
    expect((err as Error).message).toMatch(/run the feature step/);
  });
});
