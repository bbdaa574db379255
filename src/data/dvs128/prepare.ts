// `prepare` for DVS128 Gesture: every recording of the official trials lists decoded (aedat.ts),
// cut into one row per labelled gesture (gestures.ts) and written in tonic's event layout with
// `user` and `lighting` columns to <dataDir>/dvs128/{train,valid,test}.arrow: test = the
// recordings of trials_to_test.txt; valid = the recordings of whole training users held out by a
// seeded draw (valid_fraction of the users of trials_to_train.txt, split_seed), since EvNN picks
// its model on the test set and evnn must not; train = the rest. meta.json last (event-prepare.ts:
// reuse, and nothing left behind by a failure).
import { DatasetError } from '../errors.js';
import type { EventSplitWriter } from '../events/event-arrow.js';
import type { EventMeta } from '../events/event-meta.js';
import { prepareEventSplits } from '../events/event-prepare.js';
import type { SplitName } from '../dataset-module.js';
import { loopProgress } from '../gscv2/progress.js';
import { checkSplitSeed, checkValidFraction, splitTrainValid } from '../split.js';
import { decodeAedat31 } from './aedat.js';
import { cutGestures } from './gestures.js';
import { parseGestureMapping, parseLabelsCsv, parseTrialsList, type RecordingName } from './labels.js';
import { DVS128, DVS128_CLASSES, DVS128_EXTRA_COLUMNS, DVS128_LIGHTINGS, DVS128_ORDERING, DVS128_SENSOR, DVS128_TITLE, dvs128Dir } from './layout.js';
import { locateDvs128Source, openDvs128Source } from './source.js';

export interface PrepareDvs128Options {
  dataDir: string;
  /** The DvsGesture folder, a folder holding it or DvsGesture.tar.gz, or the archive. */
  source: string;
  validFraction: number;
  splitSeed: number;
  force: boolean;
  log: (m: string) => void;
}

/** The users held out for validation: a seeded draw of round(validFraction · count) of the training users. */
export function validationUsers(trainUsers: readonly number[], validFraction: number, splitSeed: number): number[] {
  const users = [...new Set(trainUsers)].sort((a, b) => a - b);
  if (users.length === 0) return [];
  const { valid } = splitTrainValid(users.length, validFraction, splitSeed);
  return Array.from(valid, (i) => users[i]);
}

const NOTES = (validUsers: readonly number[]): string[] => [
  'events are the valid polarity events (eventType 1) of the AEDAT 3.1 files: x = bits 17-31, y = bits 2-16, p = bit 1 of the data word (origin top left); other packet types and invalid events are skipped',
  't = eventTSOverflow · 2^31 + the 31-bit timestamp (µs), made relative to the gesture: t − startTime_usec of its row in the labels CSV',
  'one row per labelled gesture: the events with startTime_usec ≤ t < endTime_usec, in file order; label = class − 1',
  `user = the NN of userNN_…; lighting = index into [${DVS128_LIGHTINGS.join(', ')}]`,
  `test = the recordings of trials_to_test.txt; valid = the recordings in trials_to_train.txt of the users [${validUsers.join(', ')}] (whole users held out: a seeded permutation (split_seed) of the training users puts them past round((1 - valid_fraction) · users)); train = the rest of trials_to_train.txt`,
  'rows are in recording order (file name order for a folder, member order for an archive), gestures in CSV order',
];

export async function prepareDvs128(o: PrepareDvs128Options): Promise<EventMeta> {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError('prepareDvs128: dataDir must be a non-empty path');
  checkValidFraction(o.validFraction);
  checkSplitSeed(o.splitSeed);
  if (o.source === 'download') {
    throw new Error('dvs128: there is no download (IBM distributes DvsGesture.tar.gz after a sign-up); give --source the DvsGesture folder or DvsGesture.tar.gz');
  }
  // Located now (meta.json records where from); read only when the directory must be prepared.
  const at = locateDvs128Source(o.source);
  return prepareEventSplits(
    {
      dataset: DVS128, title: DVS128_TITLE, dir: dvs128Dir(o.dataDir), source: { kind: 'directory', location: at.path },
      validFraction: o.validFraction, splitSeed: o.splitSeed, extraColumns: DVS128_EXTRA_COLUMNS, force: o.force, log: o.log,
    },
    async (w: Record<SplitName, EventSplitWriter>) => {
      const src = await openDvs128Source(at, o.log);
      const t = src.texts;
      const classes = t.mapping ? parseGestureMapping(t.mapping.text, t.mapping.name) : [...DVS128_CLASSES];
      const train = parseTrialsList(t.train.text, t.train.name);
      const test = parseTrialsList(t.test.text, t.test.name);
      const both = train.find((r) => test.some((s) => s.stem === r.stem));
      if (both) throw new DatasetError(t.test.name, `${t.test.name}: ${both.stem} is listed for training (${t.train.name}) and for testing`);
      const validUsers = validationUsers(train.map((r) => r.user), o.validFraction, o.splitSeed);
      const route = new Map<string, { rec: RecordingName; split: SplitName }>();
      for (const rec of train) route.set(rec.stem, { rec, split: validUsers.includes(rec.user) ? 'valid' : 'train' });
      for (const rec of test) route.set(rec.stem, { rec, split: 'test' });
      for (const stem of route.keys()) {
        if (!t.labels.has(stem)) throw new DatasetError(src.location, `${src.location}: ${stem}_labels.csv is missing (${stem}.aedat is listed in the trials lists)`);
      }
      o.log(`${train.length} training recordings (validation users: ${validUsers.length > 0 ? validUsers.join(', ') : 'none'}), ${test.length} test recordings`);
      const bar = loopProgress('DVS128 Gesture recordings', route.size, 'files');
      try {
        await src.forEachRecording(new Set(route.keys()), (stem, bytes, name) => {
          const { rec, split } = route.get(stem)!;
          const csv = t.labels.get(stem)!;
          const labels = parseLabelsCsv(csv.text, csv.name);
          for (const row of cutGestures(decodeAedat31(bytes, name), labels, rec)) w[split].add(row);
          bar.tick();
        });
      } finally {
        bar.done();
      }
      return {
        inputs: { DvsGesture: src.record },
        sensor_size: [...DVS128_SENSOR],
        ordering: DVS128_ORDERING,
        classes,
        notes: NOTES(validUsers),
      };
    },
  );
}
