// N-MNIST's prepare step on small official-format fixtures: the .bin decoding (bit fields,
// overflow markers), folders and zips giving the same splits, the validation split, reuse,
// the download against a local server with an injected MD5 table, and damaged inputs named in
// errors with nothing left behind.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEventSplitFile, type EventSplit } from '../../src/data/events/event-arrow.js';
import { readEventMeta, type EventMeta } from '../../src/data/events/event-meta.js';
import { decodeNmnistBin } from '../../src/data/nmnist/bin.js';
import { NMNIST_MD5, nmnistDir } from '../../src/data/nmnist/layout.js';
import { prepareNmnist, type PrepareNmnistOptions } from '../../src/data/nmnist/prepare.js';
import { splitTrainValid } from '../../src/data/split.js';
import { failure } from './failure.js';
import { tempDir } from './fixtures.js';
import { useLocalServer } from './local-server.js';
import { decoded, encodeBin, orderedSamples, OVERFLOW, writeNmnistFixture, type NmnistFixture, type RawEvent } from './nmnist-fixtures.js';

const srv = useLocalServer('application/zip');
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

let tmp: ReturnType<typeof tempDir>;
let fx: NmnistFixture;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir();
  fx = writeNmnistFixture(tmp.dir);
  dataDir = join(tmp.dir, 'datasets');
});
afterEach(() => tmp.cleanup());

async function prepare(o: Partial<PrepareNmnistOptions> & { source: string }): Promise<string[]> {
  const logs: string[] = [];
  await prepareNmnist({ dataDir, validFraction: 0.2, splitSeed: 7, force: false, log: (m) => logs.push(m), ...o });
  return logs;
}

function meta(): EventMeta {
  const r = readEventMeta(nmnistDir(dataDir), 'nmnist');
  if ('problem' in r) throw new Error(r.problem);
  return r.meta;
}

const split = (s: string): EventSplit => readEventSplitFile(join(nmnistDir(dataDir), `${s}.arrow`));

function eventsOf(sp: EventSplit, i: number): RawEvent[] {
  const s = sp.sample(i);
  return Array.from(s.x, (x, k) => ({ x, y: s.y[k], p: s.p[k], t: Number(s.t[k]) }));
}

/** What the prepared directory must hold for `fx`: train/valid carved from Train by the seed, test = Test. */
function expectSplits(f: NmnistFixture, validFraction: number, seed: number): void {
  const trainAll = orderedSamples(f, 'Train');
  const parts = splitTrainValid(trainAll.length, validFraction, seed);
  const want = { train: [...parts.train].map((i) => trainAll[i]), valid: [...parts.valid].map((i) => trainAll[i]), test: orderedSamples(f, 'Test') };
  for (const [name, samples] of Object.entries(want)) {
    const sp = split(name);
    expect(sp.count).toBe(samples.length);
    samples.forEach((s, i) => {
      expect(sp.labels[i]).toBe(s.label);
      expect(eventsOf(sp, i)).toEqual(decoded(s.events));
    });
  }
}

const dirEntries = (): string[] => (existsSync(nmnistDir(dataDir)) ? readdirSync(nmnistDir(dataDir)).sort() : []);

describe('decodeNmnistBin', () => {
  it('reads the 40-bit fields, drops overflow markers and adds 2^13 µs after each', () => {
    const events: RawEvent[] = [
      { x: 33, y: 0, p: 1, t: 0x7fffff },
      { x: 0, y: 33, p: 0, t: 1 },
      OVERFLOW,
      { x: 5, y: 6, p: 1, t: 100 },
      { ...OVERFLOW, x: 200, p: 1, t: 12345 },
      { x: 7, y: 8, p: 0, t: 3 },
    ];
    const got = decodeNmnistBin(encodeBin(events), 'a.bin');
    expect(Array.from(got.x)).toEqual([33, 0, 5, 7]);
    expect(Array.from(got.y)).toEqual([0, 33, 6, 8]);
    expect(Array.from(got.p)).toEqual([1, 0, 1, 0]);
    expect(Array.from(got.t)).toEqual([8388607n, 1n, 8292n, 16387n]);
  });

  it('names the file and the byte offset of a partial event or one off the sensor', () => {
    const bytes = encodeBin([{ x: 1, y: 2, p: 0, t: 3 }, { x: 4, y: 5, p: 1, t: 6 }]);
    expect(() => decodeNmnistBin(bytes.subarray(0, 8), '/d/00002.bin')).toThrow('00002.bin: 8 bytes is not a whole number of 5-byte events: a partial event starts at byte offset 5 (truncated?)');
    const off = encodeBin([{ x: 1, y: 2, p: 0, t: 3 }, { x: 34, y: 5, p: 1, t: 6 }]);
    expect(() => decodeNmnistBin(off, '/d/00003.bin')).toThrow('00003.bin: the event at byte offset 5 has x 34, y 5, outside the 34×34 sensor');
  });
});

describe('prepareNmnist', () => {
  it('writes tonic-layout splits from the official folders, events exactly preserved', async () => {
    const logs = await prepare({ source: fx.folders });
    expect(dirEntries()).toEqual(['meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
    const m = meta();
    expect(m.sensor_size).toEqual([34, 34, 2]);
    expect(m.ordering).toBe('xytp');
    expect(m.time_unit).toBe('us');
    expect(m.classes).toHaveLength(10);
    expect(m.sizes).toEqual({ train: 24, valid: 6, test: 20 });
    expect(m.source).toMatchObject({ kind: 'directory', location: fx.folders });
    expect(m.source.inputs.Train).toMatchObject({ kind: 'folder', md5: null });
    expectSplits(fx, 0.2, 7);
    expect(logs.at(-1)).toMatch(/N-MNIST prepared in/);
  });

  it('gives the same splits from the official zips, and records their checksums', async () => {
    await prepare({ source: fx.zips });
    expectSplits(fx, 0.2, 7);
    const m = meta();
    expect(m.source.inputs.Train.md5).toBe(md5(readFileSync(join(fx.zips, 'Train.zip'))));
    expect(m.source.inputs.Train.official).toBe(false);
  });

  it('keeps the overflow handling through prepare', async () => {
    const special = { 'Train/3/10000.bin': [{ x: 1, y: 1, p: 1, t: 10 }, OVERFLOW, { x: 2, y: 2, p: 0, t: 5 }] };
    const f = writeNmnistFixture(join(tmp.dir, 'ov'), { Train: 2, Test: 1 }, special);
    await prepare({ source: f.zips, validFraction: 0 });
    const sp = split('train');
    const i = orderedSamples(f, 'Train').findIndex((s) => s.name === '3/10000.bin');
    expect(eventsOf(sp, i)).toEqual([{ x: 1, y: 1, p: 1, t: 10 }, { x: 2, y: 2, p: 0, t: 8197 }]);
  });

  it('reuses a prepared directory and redoes it for another split seed', async () => {
    await prepare({ source: fx.folders });
    const again = await prepare({ source: fx.folders });
    expect(again).toEqual([expect.stringMatching(/already prepared .* \(24\/6\/20 train\/valid\/test samples\); reusing it/)]);
    const redo = await prepare({ source: fx.folders, splitSeed: 8 });
    expect(redo[0]).toMatch(/re-preparing N-MNIST .*split_seed 7; asked for 0.2, 8/);
    expectSplits(fx, 0.2, 8);
  });

  it('fails on a truncated .bin naming the file and the offset, leaving nothing behind', async () => {
    await prepare({ source: fx.folders }); // a complete earlier preparation is removed too
    const bad = join(fx.folders, 'Test', '4', '09963.bin');
    const bytes = readFileSync(bad);
    writeFileSync(bad, bytes.subarray(0, bytes.length - 2));
    const err = await failure(prepare({ source: fx.folders, force: true }));
    expect(err.file).toBe(bad);
    expect(err.message).toBe(`09963.bin: ${bytes.length - 2} bytes is not a whole number of 5-byte events: a partial event starts at byte offset ${bytes.length - 5} (truncated?)`);
    expect(dirEntries()).toEqual([]);
  });

  it('names the archive member of a damaged zip sample', async () => {
    const special = { 'Test/0/10000.bin': [{ x: 1, y: 40, p: 0, t: 1 }] };
    const f = writeNmnistFixture(join(tmp.dir, 'bad'), { Train: 1, Test: 1 }, special);
    const err = await failure(prepare({ source: f.zips }));
    expect(err.message).toBe('Test.zip:Test/0/10000.bin: the event at byte offset 0 has x 1, y 40, outside the 34×34 sensor (not an N-MNIST file?)');
    expect(dirEntries()).toEqual([]);
  });

  it('names a truncated zip', async () => {
    const zip = join(fx.zips, 'Train.zip');
    writeFileSync(zip, readFileSync(zip).subarray(0, 300));
    const err = await failure(prepare({ source: fx.zips }));
    expect(err.file).toBe(zip);
    expect(err.message).toMatch(/^Train\.zip: damaged zip archive: no end-of-central-directory record/);
    expect(dirEntries()).toEqual([]);
  });

  it('says what is missing when the source has no Test', async () => {
    const err = await failure(prepare({ source: join(fx.folders, 'Train') }));
    expect(err.message).toMatch(/N-MNIST Train: neither the folder .*Train\/Train nor .*Train\.zip or .*train\.zip exists/);
  });
});

describe('prepareNmnist from a download', () => {
  const urls = () => ({ Train: `${srv.base}/nmnist/train/file_downloaded`, Test: `${srv.base}/nmnist/test/file_downloaded` });
  const table = () => ({ Train: md5(readFileSync(join(fx.zips, 'Train.zip'))), Test: md5(readFileSync(join(fx.zips, 'Test.zip'))) });
  beforeEach(() => {
    srv.served.set('/nmnist/train/file_downloaded', readFileSync(join(fx.zips, 'Train.zip')));
    srv.served.set('/nmnist/test/file_downloaded', readFileSync(join(fx.zips, 'Test.zip')));
    srv.requests.length = 0;
  });

  it('downloads the zips, checks their MD5 and prepares from them', async () => {
    await prepare({ source: 'download', urls: urls(), md5: table() });
    expectSplits(fx, 0.2, 7);
    const m = meta();
    expect(m.source.kind).toBe('download');
    expect(m.source.inputs.Test).toMatchObject({ kind: 'download', location: urls().Test, md5: table().Test, official: false });
    expect(srv.requests).toEqual(['/nmnist/train/file_downloaded', '/nmnist/test/file_downloaded']);
  });

  it('reuses a verified download and fetches a damaged one again', async () => {
    await prepare({ source: 'download', urls: urls(), md5: table() });
    const kept = join(nmnistDir(dataDir), 'download', 'Test.zip');
    writeFileSync(kept, readFileSync(kept).subarray(0, 50));
    srv.requests.length = 0;
    const logs = await prepare({ source: 'download', urls: urls(), md5: table(), force: true });
    expect(srv.requests).toEqual(['/nmnist/test/file_downloaded']);
    expect(logs).toContain(`using ${join(nmnistDir(dataDir), 'download', 'Train.zip')} (downloaded before, MD5 verified)`);
    expect(logs.some((l) => l.startsWith(`${kept} does not verify`))).toBe(true);
    expectSplits(fx, 0.2, 7);
  });

  it('fails on an MD5 mismatch naming the file, keeping no download and no splits', async () => {
    const wrong = { ...table(), Test: NMNIST_MD5.Test };
    const err = await failure(prepare({ source: 'download', urls: urls(), md5: wrong }));
    expect(err.message).toBe(`Test.zip: MD5 mismatch: expected ${NMNIST_MD5.Test}, got ${table().Test} (damaged download or a different file, from ${urls().Test}); the download was removed`);
    expect(dirEntries()).toEqual(['download']);
    expect(readdirSync(join(nmnistDir(dataDir), 'download'))).toEqual(['Train.zip']);
  });
});
