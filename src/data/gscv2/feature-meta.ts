// meta.json of the GSCv2 feature step (<dataDir>/gscv2/features/meta.json): written last, so its
// presence means the split files beside it are complete. It records the extraction settings, the
// SHA-256 of the clips.arrow the features came from (features of another clip list are stale),
// per-split counts and the training-set normalisation statistics.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { readMetaJson, type MetaRead } from '../meta-file.js';
import { GSC_CLASSES } from './clips.js';
import { N_FILTERS } from './log-filterbank.js';

export const FEATURE_FORMAT = 'evnn-gscv2-features';
/** Bumped whenever the Arrow layout or the meaning of meta.json changes. */
export const FEATURE_FORMAT_VERSION = 1;

export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export const gscv2Dir = (dataDir: string): string => join(dataDir, 'gscv2');
export const clipsPath = (dataDir: string): string => join(gscv2Dir(dataDir), 'clips.arrow');
export const featuresDir = (dataDir: string): string => join(gscv2Dir(dataDir), 'features');
export const featureMetaPath = (dataDir: string): string => join(featuresDir(dataDir), 'meta.json');
export const featureSplitPath = (dataDir: string, split: SplitName): string => join(featuresDir(dataDir), `${split}.arrow`);

const count = z.number().int().nonnegative();
const finite = z.number().refine(Number.isFinite, 'a finite number');
const channels = z.array(finite).length(N_FILTERS);

const splitSchema = z.object({
  file: z.string().regex(/^[A-Za-z0-9_.-]+\.arrow$/, 'a plain *.arrow file name'),
  clips: count,
  frames: count,
  /** size of the file, so a replaced or truncated split is noticed before it is read */
  bytes: count,
});

const metaSchema = z.object({
  format: z.literal(FEATURE_FORMAT),
  version: z.literal(FEATURE_FORMAT_VERSION),
  created_at: z.string(),
  clips_file: z.string(),
  clips_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** FEATURE_SETTINGS as extracted; compared whole to decide whether features are stale */
  settings: z.record(z.string(), z.unknown()),
  n_features: z.literal(N_FILTERS),
  n_classes: z.literal(GSC_CLASSES.length),
  classes: z.array(z.string()).length(GSC_CLASSES.length),
  splits: z.object({ train: splitSchema, valid: splitSchema, test: splitSchema }),
  /** normalisation statistics of the raw dB features, from the train split only (the reference
   * normalises valid and test with train's too); std with n − 1, like torch.std */
  stats: z.object({
    source: z.literal('train'),
    ddof: z.literal(1),
    /** train frames × channels */
    count,
    /** the reference's choice: one scalar over every frame and channel */
    mean: finite,
    std: finite,
    min: finite,
    max: finite,
    /** the option: one per channel */
    channel_mean: channels,
    channel_std: channels,
  }),
});

export type FeatureMeta = z.infer<typeof metaSchema>;

/** meta.json, or why the features are not (validly) extracted. */
export function featureMetaStatus(dataDir: string): MetaRead<FeatureMeta> {
  return readMetaJson(featureMetaPath(dataDir), metaSchema, 'GSCv2 features');
}

/** The meta of extracted features, or a DatasetError naming meta.json and saying how to make it. */
export function readFeatureMeta(dataDir: string): FeatureMeta {
  const status = featureMetaStatus(dataDir);
  if ('problem' in status) {
    throw new DatasetError(featureMetaPath(dataDir), `GSCv2 features are not extracted in ${featuresDir(dataDir)}: ${status.problem}; run the feature step (\`evnn feature <config>\`)`);
  }
  return status.meta;
}

export function writeFeatureMeta(dataDir: string, meta: FeatureMeta): void {
  writeJsonAtomic(featureMetaPath(dataDir), meta);
}
