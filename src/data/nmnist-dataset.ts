// N-MNIST in the dataset registry, as the S3GD reference feeds it to a spiking classifier.
// prepare: the official Train/Test folders of .bin files or their zips (--source DIR), or the
// official zips downloaded from Mendeley Data and checked against the MD5s tonic pins
// (--source download) → tonic's event layout (nmnist/prepare.ts; sensor 34×34×2, µs). Batches:
// channel = x + 34·y (both polarities merged, as the reference's units % 1156), events binned to
// T = data.steps (300) steps of data.dt_ms (1 ms) as SpikeEvents; 1156 inputs, 10 classes.
import type { DataConfig, DatasetModule, DatasetSplits } from './dataset-module.js';
import { eventArrowSchema } from './events/event-arrow.js';
import { checkEventConfig, openEventDataset, preparedFromSource } from './events/event-dataset.js';
import { microseconds } from './events/event-splits.js';
import type { EventSample } from './events/event-arrow.js';
import type { EventStream } from './events/spike-batches.js';
import { NMNIST, NMNIST_CHANNELS, NMNIST_CLASSES, NMNIST_DT_MS, NMNIST_STEPS, NMNIST_WIDTH, nmnistDir } from './nmnist/layout.js';
import { prepareNmnist } from './nmnist/prepare.js';

const SOURCES = 'a folder holding Train and Test (the official folders of digit sub-folders of .bin files, or Train.zip and Test.zip), or download (the official zips, MD5-checked)';

/** Both polarities on one channel per pixel: x + 34·y. */
export function nmnistStream(s: EventSample): EventStream {
  const channel = new Int32Array(s.x.length);
  for (let i = 0; i < channel.length; i++) channel[i] = s.x[i] + NMNIST_WIDTH * s.y[i];
  return { channel, tUs: microseconds(s.t) };
}

export const nmnistDataset: DatasetModule = {
  name: NMNIST,
  description: 'N-MNIST (official .bin event files, 34×34 DVS saccades over MNIST digits) as spike events for spiking classifiers',
  modelTypes: ['spiking-classifier'],
  views: [],
  arrowSchema: () => eventArrowSchema(),
  metadata: () => ({ task: 'classification', numClasses: NMNIST_CLASSES.length, classes: NMNIST_CLASSES }),

  ...preparedFromSource(NMNIST, SOURCES, prepareNmnist),

  checkConfig: (data) => checkEventConfig(data, NMNIST, SOURCES),

  open(dataDir: string, data: DataConfig): DatasetSplits {
    return openEventDataset(
      { dataset: NMNIST, dir: nmnistDir(dataDir), defaultSteps: NMNIST_STEPS, defaultDtMs: NMNIST_DT_MS, channels: NMNIST_CHANNELS, numClasses: NMNIST_CLASSES.length, toStream: nmnistStream },
      data,
    );
  },
};
