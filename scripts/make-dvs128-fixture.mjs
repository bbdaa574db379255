#!/usr/bin/env node
// Writes a small synthetic DVS128 Gesture distribution in the official format (AEDAT 3.1
// recordings user*_*.aedat, *_labels.csv, trials_to_train.txt, trials_to_test.txt,
// gesture_mapping.csv) to <dir>/DvsGesture, and with --archive also <dir>/DvsGesture.tar.gz, for
// `evnn prepare dvs128 --source <dir>` and the quick config. All 11 classes per recording; each
// gesture is a disc moving in a class-specific direction (2π·label/11) over background noise, so
// a model can learn it above chance. The writer is the one the tests use
// (src/data/dvs128/fixture-writer.ts, built to dist/ by `npm run build`).
//
//   node scripts/make-dvs128-fixture.mjs <dir> [--train-users 6] [--test-users 2]
//     [--lightings fluorescent,led] [--seconds 1.8] [--rate 30] [--noise 0.3] [--seed 1] [--archive]
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const writer = join(root, 'dist/data/dvs128/fixture-writer.js');
if (!existsSync(writer)) {
  console.error(`${writer} is missing: build the project first (npm run build)`);
  process.exit(1);
}
const { writeDvsGestureFolder } = await import(pathToFileURL(writer).href);
const { create } = await import('tar');

const usage = 'usage: node scripts/make-dvs128-fixture.mjs <dir> [--train-users N] [--test-users N] [--lightings a,b] [--seconds S] [--rate R] [--noise R] [--seed N] [--archive]';
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'train-users': { type: 'string', default: '6' },
      'test-users': { type: 'string', default: '2' },
      lightings: { type: 'string', default: 'fluorescent,led' },
      seconds: { type: 'string', default: '1.8' },
      rate: { type: 'string', default: '30' },
      noise: { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '1' },
      archive: { type: 'boolean', default: false },
    },
  });
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (positionals.length !== 1) {
  console.error(usage);
  process.exit(2);
}
const num = (name, min) => {
  const v = Number(values[name]);
  if (!(Number.isFinite(v) && v >= min)) {
    console.error(`--${name} must be a number ≥ ${min}, got ${values[name]}`);
    process.exit(2);
  }
  return v;
};
const trainCount = Math.floor(num('train-users', 1));
const testCount = Math.floor(num('test-users', 1));
const dir = resolve(positionals[0]);
const folder = join(dir, 'DvsGesture');
let recs;
try {
  recs = writeDvsGestureFolder(folder, {
    trainUsers: Array.from({ length: trainCount }, (_, i) => i + 1),
    testUsers: Array.from({ length: testCount }, (_, i) => trainCount + i + 1),
    lightings: values.lightings.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    seed: Math.floor(num('seed', 0)),
    gestureUs: Math.round(num('seconds', 0.01) * 1e6),
    eventsPerMs: num('rate', 0),
    noisePerMs: num('noise', 0),
  });
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const events = recs.reduce((n, r) => n + r.events.length, 0);
console.log(`wrote ${recs.length} recordings (${recs.length * 11} gestures, ${events} events) to ${folder}`);
if (values.archive) {
  const file = join(dir, 'DvsGesture.tar.gz');
  // Members in name order under DvsGesture/, as the official archive holds them.
  const members = readdirSync(folder).sort().map((f) => `DvsGesture/${f}`);
  await create({ gzip: true, file, cwd: dir }, members);
  console.log(`wrote ${file}`);
}
