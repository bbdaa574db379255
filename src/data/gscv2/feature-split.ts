// Reading extracted GSCv2 features for training: a split's clips concatenated into flat buffers,
// checked against features/meta.json so a split file from another run (or a damaged one) fails
// with a DatasetError naming it rather than training on mismatched data.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { decodeFeatureArrow, type FeatureSplit } from './feature-arrow.js';
import { featureSplitPath, readFeatureMeta } from './feature-meta.js';

export type { FeatureSplit } from './feature-arrow.js';
export { readFeatureMeta, type FeatureMeta } from './feature-meta.js';

/** One feature split file, without meta.json's cross-check. */
export function readFeatureSplitFile(file: string): FeatureSplit {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DatasetError(file, `${basename(file)}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return decodeFeatureArrow(bytes, file);
}

/** An extracted split; fails when the features are not extracted or the file disagrees with meta.json. */
export function openFeatureSplit(dataDir: string, split: SplitName): FeatureSplit {
  const meta = readFeatureMeta(dataDir);
  const file = featureSplitPath(dataDir, split);
  const got = readFeatureSplitFile(file);
  const want = meta.splits[split];
  const total = got.count === 0 ? 0 : got.offsets[got.count - 1] + got.frames[got.count - 1];
  if (got.count !== want.clips || total !== want.frames) {
    throw new DatasetError(
      file,
      `${basename(file)}: holds ${got.count} clips and ${total} frames, but meta.json says ${want.clips} and ${want.frames} (written by another run?); run the feature step again with --force`,
    );
  }
  return got;
}
