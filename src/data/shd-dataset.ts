// The Spiking Heidelberg Digits in the dataset registry, as the S3GD reference feeds them to a
// spiking classifier. prepare: the official shd_train.h5 / shd_test.h5 (plain, .gz or .zip) from
// --source DIR, or the official zips downloaded and checked against the MD5s tonic pins
// (--source download), read with h5wasm → tonic's event layout with a speaker column
// (shd/prepare.ts; sensor 700×1×1, x = channel, y = 0, p = 1, µs). Batches: channel = x, events
// binned to T = data.steps (500) steps of data.dt_ms (2 ms) as SpikeEvents; 700 inputs, 20
// classes named by extra/keys.
import type { DataConfig, DatasetModule, DatasetSplits } from './dataset-module.js';
import { eventArrowSchema, type EventSample } from './events/event-arrow.js';
import { checkEventConfig, openEventDataset, preparedFromSource } from './events/event-dataset.js';
import { readEventMeta } from './events/event-meta.js';
import { microseconds } from './events/event-splits.js';
import type { EventStream } from './events/spike-batches.js';
import { SHD, SHD_CHANNELS, SHD_DT_MS, SHD_NUM_CLASSES, SHD_STEPS, shdDir } from './shd/layout.js';
import { DEFAULT_SHD_CLASSES, prepareShd } from './shd/prepare.js';

const SOURCES = 'a folder holding shd_train.h5 and shd_test.h5 (plain, .h5.gz or .h5.zip), or download (the official zips, MD5-checked)';

/** The channel is the event's x (the unit). */
export function shdStream(s: EventSample): EventStream {
  return { channel: Int32Array.from(s.x), tUs: microseconds(s.t) };
}

export const shdDataset: DatasetModule = {
  name: SHD,
  description: 'Spiking Heidelberg Digits (official HDF5 files, 700-channel cochlea spikes of spoken digits in English and German) as spike events for spiking classifiers',
  modelTypes: ['spiking-classifier'],
  views: [],
  arrowSchema: () => eventArrowSchema(['speaker']),
  metadata(_data, dataDir) {
    // The class names are the files' extra/keys, known once prepared.
    const r = dataDir === undefined ? null : readEventMeta(shdDir(dataDir), SHD);
    const classes = r !== null && 'meta' in r ? r.meta.classes : DEFAULT_SHD_CLASSES;
    return { task: 'classification', numClasses: SHD_NUM_CLASSES, classes };
  },

  ...preparedFromSource(SHD, SOURCES, prepareShd),

  checkConfig: (data) => checkEventConfig(data, SHD, SOURCES),

  open(dataDir: string, data: DataConfig): DatasetSplits {
    return openEventDataset(
      { dataset: SHD, dir: shdDir(dataDir), defaultSteps: SHD_STEPS, defaultDtMs: SHD_DT_MS, channels: SHD_CHANNELS, numClasses: SHD_NUM_CLASSES, toStream: shdStream },
      data,
    );
  },
};
