// Small DVS128 Gesture distributions for the dvs128 tests, written by the project's own fixture
// writer (src/data/dvs128/fixture-writer.ts): a folder, its .tar.gz, and helpers to compare a
// prepared split against what was written.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { writeDvsGestureFolder, type DvsFixtureOptions, type FixtureRecording } from '../../src/data/dvs128/fixture-writer.js';

/** Users 1-3 train, 4 tests, two lightings; user02_led's clock crosses 2^31 µs. */
export const SMALL: DvsFixtureOptions = {
  trainUsers: [1, 2, 3],
  testUsers: [4],
  lightings: ['fluorescent', 'led'],
  seed: 5,
  gestureUs: 1_900_000,
  eventsPerMs: 1,
  noisePerMs: 0.2,
  packetEvents: 300,
  wrapStem: 'user02_led',
};

export interface DvsFixture {
  /** the DvsGesture folder */
  folder: string;
  recordings: FixtureRecording[];
}

export function writeDvsFixture(root: string, o: DvsFixtureOptions = SMALL): DvsFixture {
  const folder = join(root, 'DvsGesture');
  return { folder, recordings: writeDvsGestureFolder(folder, o) };
}

/**
 * DvsGesture.tar.gz of the fixture folder in `dir`, its members under DvsGesture/ as in the
 * official archive, in file-name order (or the reverse, to show prepare follows archive order).
 */
export async function tarFixture(fx: DvsFixture, dir: string, name = 'DvsGesture.tar.gz', order: 'names' | 'reversed' = 'names'): Promise<string> {
  const file = join(dir, name);
  const members = readdirSync(fx.folder).sort().map((f) => `DvsGesture/${f}`);
  if (order === 'reversed') members.reverse();
  await create({ gzip: true, file, cwd: join(fx.folder, '..') }, members);
  return file;
}

/** The relative events (x, y, p, t − start) of gesture `g` of recording `r`, as prepare must write them. */
export function gestureEvents(r: FixtureRecording, g: number): { x: number; y: number; p: number; t: number }[] {
  const { startUs, endUs } = r.gestures[g];
  return r.events.filter((e) => e.t >= startUs && e.t < endUs).map((e) => ({ x: e.x, y: e.y, p: e.p, t: e.t - startUs }));
}
