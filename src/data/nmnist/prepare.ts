// `prepare` for N-MNIST: every .bin of the official Train and Test sets decoded (bin.ts) and
// written in tonic's event layout to <dataDir>/nmnist/{train,valid,test}.arrow, the validation
// split carved from Train by valid_fraction and split_seed (split.ts), meta.json last
// (event-prepare.ts: reuse, and nothing left behind by a failure).
import { resolve } from 'node:path';
import { loopProgress } from '../gscv2/progress.js';
import { checkSplitSeed, checkValidFraction, validMask } from '../split.js';
import type { EventSplitWriter } from '../events/event-arrow.js';
import { prepareEventSplits } from '../events/event-prepare.js';
import type { EventMeta } from '../events/event-meta.js';
import type { SplitName } from '../dataset-module.js';
import { decodeNmnistBin, OVERFLOW_INCREMENT_US, OVERFLOW_Y } from './bin.js';
import { NMNIST, NMNIST_CLASSES, NMNIST_ORDERING, NMNIST_SENSOR, NMNIST_TITLE, NMNIST_URLS, nmnistDir } from './layout.js';
import { acquireNmnist, type AcquiredNmnist, type NmnistSourceOptions } from './source.js';

export interface PrepareNmnistOptions extends NmnistSourceOptions {
  validFraction: number;
  splitSeed: number;
  force: boolean;
}

const NOTES = [
  'events are the 5-byte records of the official .bin files: x = byte 0, y = byte 1, p = bit 7 of byte 2, t = the low 23 bits of bytes 2-4 in µs (tonic, Orchard\'s reader)',
  `an event with y = ${OVERFLOW_Y} is a timestamp-overflow marker: dropped, and ${OVERFLOW_INCREMENT_US} µs added to every later event's t (tonic's handling)`,
  'events keep file order; samples are ordered by digit folder, then by file name',
  'valid = the samples of Train that a seeded permutation (split_seed) puts past round((1 - valid_fraction) · count); train = the rest; both in original order',
];

async function writeSamples(input: AcquiredNmnist, route: (i: number) => EventSplitWriter, label: string): Promise<void> {
  const bar = loopProgress(label, input.samples.length, 'files');
  try {
    input.samples.forEach((s, i) => {
      const ev = decodeNmnistBin(s.read(), s.name);
      route(i).add({ label: s.label, ...ev });
      bar.tick();
    });
  } finally {
    bar.done();
  }
}

export async function prepareNmnist(o: PrepareNmnistOptions): Promise<EventMeta> {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError('prepareNmnist: dataDir must be a non-empty path');
  checkValidFraction(o.validFraction);
  checkSplitSeed(o.splitSeed);
  const urls = o.urls ?? NMNIST_URLS;
  const source = o.source === 'download'
    ? { kind: 'download' as const, location: `${urls.Train} ${urls.Test}` }
    : { kind: 'directory' as const, location: resolve(o.source) };
  return prepareEventSplits(
    { dataset: NMNIST, title: NMNIST_TITLE, dir: nmnistDir(o.dataDir), source, validFraction: o.validFraction, splitSeed: o.splitSeed, extraColumns: [], force: o.force, log: o.log },
    async (w: Record<SplitName, EventSplitWriter>) => {
      const inputs = await acquireNmnist(o);
      try {
        const isValid = validMask(inputs.Train.samples.length, o.validFraction, o.splitSeed);
        await writeSamples(inputs.Train, (i) => (isValid[i] ? w.valid : w.train), 'N-MNIST Train');
        await writeSamples(inputs.Test, () => w.test, 'N-MNIST Test');
        return {
          inputs: { Train: inputs.Train.record, Test: inputs.Test.record },
          sensor_size: [...NMNIST_SENSOR],
          ordering: NMNIST_ORDERING,
          classes: [...NMNIST_CLASSES],
          notes: NOTES,
        };
      } finally {
        inputs.Train.close();
        inputs.Test.close();
      }
    },
  );
}
