// scripts/make-dvs128-fixture.mjs (the quick config's data): it writes an official-format folder
// and archive that `prepare dvs128` reads, with every class in every recording. It runs the built
// fixture writer (dist/, made by `npm run build`, which `npm test` runs first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { prepareDvs128 } from '../../src/data/dvs128/prepare.js';
import { dvs128Dir } from '../../src/data/dvs128/layout.js';
import { readEventMeta } from '../../src/data/events/event-meta.js';
import { readEventSplitFile } from '../../src/data/events/event-arrow.js';
import { tempDir } from './fixtures.js';

const script = resolve(__dirname, '../../scripts/make-dvs128-fixture.mjs');
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('evnn-dvs128-script-')));
afterEach(() => tmp.cleanup());

it('writes a DvsGesture folder and archive that prepare reads, all 11 classes per recording', async () => {
  const out = execFileSync(process.execPath, [script, tmp.dir, '--train-users', '3', '--test-users', '1', '--lightings', 'natural', '--seconds', '1.8', '--rate', '1', '--archive'], { encoding: 'utf8' });
  expect(out).toMatch(/wrote 4 recordings \(44 gestures/);
  expect(existsSync(join(tmp.dir, 'DvsGesture.tar.gz'))).toBe(true);
  const dataDir = join(tmp.dir, 'datasets');
  await prepareDvs128({ dataDir, source: join(tmp.dir, 'DvsGesture.tar.gz'), validFraction: 0.34, splitSeed: 1, force: false, log: () => {} });
  const r = readEventMeta(dvs128Dir(dataDir), 'dvs128');
  if ('problem' in r) throw new Error(r.problem);
  expect(r.meta.sizes).toEqual({ train: 22, valid: 11, test: 11 });
  const test = readEventSplitFile(join(dvs128Dir(dataDir), 'test.arrow'), ['user', 'lighting']);
  expect([...test.labels].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i));
  expect([...new Set(test.extra.user)]).toEqual([4]);
  expect(() => execFileSync(process.execPath, [script, tmp.dir, '--lightings', 'moonlight'], { stdio: 'pipe' })).toThrow(/unknown lighting "moonlight"/);
});
