// `prepare` for SHD: both official HDF5 files read (hdf5.ts) and written in tonic's event layout
// to <dataDir>/shd/{train,valid,test}.arrow with a `speaker` column: x = unit, y = 0, p = 1,
// t = the time in µs rounded to the nearest integer. The validation split is carved from the
// training file by valid_fraction and split_seed; meta.json is written last and records the class
// names (extra/keys). event-prepare.ts handles reuse and leaves nothing behind on failure.
import { endianness } from 'node:os';
import { rmSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { loopProgress } from '../gscv2/progress.js';
import { DatasetError } from '../errors.js';
import { checkSplitSeed, checkValidFraction, validMask } from '../split.js';
import type { EventSplitWriter } from '../events/event-arrow.js';
import { prepareEventSplits } from '../events/event-prepare.js';
import type { EventMeta } from '../events/event-meta.js';
import type { SplitName } from '../dataset-module.js';
import { PATHS, SHD, SHD_DOWNLOAD_BASE, SHD_NUM_CLASSES, SHD_ORDERING, SHD_SENSOR, SHD_TITLE, shdDir, shdWorkDir } from './layout.js';
import { openShdInput, type AcquiredShd, type ShdSourceOptions } from './source.js';

export interface PrepareShdOptions extends ShdSourceOptions {
  validFraction: number;
  splitSeed: number;
  force: boolean;
}

/** Class names when the file has no extra/keys. */
export const DEFAULT_SHD_CLASSES: readonly string[] = Array.from({ length: SHD_NUM_CLASSES }, (_, i) => `class ${i}`);
/** The speaker column's value when the file has no extra/speaker. */
export const NO_SPEAKER = -1;
/** Samples read from the HDF5 file at a time. */
const SLICE = 256;

const NOTES = [
  `x = ${PATHS.units} (the channel), y = 0, p = 1 (tonic's artificial polarity), t = round(${PATHS.times} · 1e6) µs (tonic truncates with an integer cast; rounding keeps float32 seconds such as 0.0123 on their µs)`,
  `speaker = extra/speaker (${NO_SPEAKER} when the file has none); classes from extra/keys`,
  'samples and spikes keep file order',
  'valid = the samples of shd_train.h5 that a seeded permutation (split_seed) puts past round((1 - valid_fraction) · count); train = the rest; both in original order',
];

const LITTLE_ENDIAN = endianness() === 'LE';

function microseconds(times: Float32Array | Float64Array): BigInt64Array {
  const out = new BigInt64Array(times.length);
  // Times in µs fit 31 bits (SHD samples last about a second), so on little-endian hosts they go
  // into the low words of the int64 buffer instead of one BigInt per spike.
  const low = LITTLE_ENDIAN ? new Int32Array(out.buffer, out.byteOffset, times.length * 2) : null;
  for (let i = 0; i < times.length; i++) {
    const us = Math.round(times[i] * 1e6);
    if (low !== null && us <= 0x7fffffff) low[2 * i] = us;
    else out[i] = BigInt(us);
  }
  return out;
}

function writeFile(input: AcquiredShd, route: (i: number) => EventSplitWriter, label: string): void {
  const f = input.file;
  const bar = loopProgress(label, f.count, 'samples');
  try {
    for (let from = 0; from < f.count; from += SLICE) {
      const to = Math.min(f.count, from + SLICE);
      f.read(from, to).forEach((s, j) => {
        const i = from + j;
        const n = s.units.length;
        route(i).add({
          label: f.labels[i],
          extra: { speaker: f.speakers ? f.speakers[i] : NO_SPEAKER },
          x: Int16Array.from(s.units as ArrayLike<number | bigint>, (u) => Number(u)),
          y: new Int16Array(n),
          t: microseconds(s.times),
          p: new Int8Array(n).fill(1),
        });
      });
      bar.tick(to - from);
    }
  } finally {
    bar.done();
  }
}

export async function prepareShd(o: PrepareShdOptions): Promise<EventMeta> {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError('prepareShd: dataDir must be a non-empty path');
  checkValidFraction(o.validFraction);
  checkSplitSeed(o.splitSeed);
  const source = o.source === 'download'
    ? { kind: 'download' as const, location: o.downloadBase ?? SHD_DOWNLOAD_BASE }
    : { kind: 'directory' as const, location: resolve(o.source) };
  try {
    return await prepareEventSplits(
      { dataset: SHD, title: SHD_TITLE, dir: shdDir(o.dataDir), source, validFraction: o.validFraction, splitSeed: o.splitSeed, extraColumns: ['speaker'], force: o.force, log: o.log },
      async (w: Record<SplitName, EventSplitWriter>) => {
        const train = await openShdInput(o, 'train');
        let keys: string[] | null;
        try {
          const isValid = validMask(train.file.count, o.validFraction, o.splitSeed);
          writeFile(train, (i) => (isValid[i] ? w.valid : w.train), 'SHD train');
          keys = train.file.keys;
        } finally {
          train.close();
        }
        const test = await openShdInput(o, 'test');
        try {
          const tk = test.file.keys;
          if (keys !== null && tk !== null && tk.some((k, i) => k !== keys![i])) {
            throw new DatasetError(test.record.location, `${basename(test.record.location)}: ${PATHS.keys}: the class names differ from the training file's`);
          }
          keys ??= tk;
          writeFile(test, () => w.test, 'SHD test');
        } finally {
          test.close();
        }
        if (keys === null) o.log(`warning: neither file has ${PATHS.keys}; the classes are named ${DEFAULT_SHD_CLASSES[0]} … ${DEFAULT_SHD_CLASSES.at(-1)}`);
        return {
          inputs: { train: train.record, test: test.record },
          sensor_size: [...SHD_SENSOR],
          ordering: SHD_ORDERING,
          classes: keys ?? [...DEFAULT_SHD_CLASSES],
          notes: NOTES,
        };
      },
    );
  } finally {
    // The unpacked copies are removed as each file is closed; this removes their folder.
    rmSync(shdWorkDir(o.dataDir), { recursive: true, force: true });
  }
}
