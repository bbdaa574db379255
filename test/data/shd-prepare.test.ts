// SHD's prepare step on small files in the official HDF5 layout (variable-length spikes/times
// and spikes/units, read back through h5wasm): plain, gzipped and zipped inputs, the event
// mapping (x = unit, y = 0, p = 1, t = round(s · 1e6) µs), the speaker column and the class
// names, the validation split, the download against a local server with an injected MD5 table,
// and wrong layouts named by file and dataset path with nothing left behind.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEventSplitFile, type EventSplit } from '../../src/data/events/event-arrow.js';
import { readEventMeta, type EventMeta } from '../../src/data/events/event-meta.js';
import { openShdFile } from '../../src/data/shd/hdf5.js';
import { SHD_ZIP_MD5, shdDir } from '../../src/data/shd/layout.js';
import { prepareShd, type PrepareShdOptions } from '../../src/data/shd/prepare.js';
import { splitTrainValid } from '../../src/data/split.js';
import { failure } from './failure.js';
import { tempDir } from './fixtures.js';
import { lookup3, numeric, strings, vlen } from './hdf5-writer.js';
import { useLocalServer } from './local-server.js';
import { KEYS, shdContent, storedTimes, writeShdFile, type Packing, type ShdContent } from './shd-fixtures.js';

const srv = useLocalServer('application/zip');
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
let src: string;
const train = shdContent(0, 30, 'f32');
const test = shdContent(1, 12, 'f64');

beforeEach(() => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'datasets');
  src = join(tmp.dir, 'src');
  mkdirSync(src);
});
afterEach(() => tmp.cleanup());

function source(packing: Packing = 'h5', dir = src): string {
  writeShdFile(dir, 'train', train, packing);
  writeShdFile(dir, 'test', test, packing);
  return dir;
}

async function prepare(o: Partial<PrepareShdOptions> & { source: string }): Promise<string[]> {
  const logs: string[] = [];
  await prepareShd({ dataDir, validFraction: 0.2, splitSeed: 5, force: false, log: (m) => logs.push(m), ...o });
  return logs;
}

function meta(): EventMeta {
  const r = readEventMeta(shdDir(dataDir), 'shd');
  if ('problem' in r) throw new Error(r.problem);
  return r.meta;
}

const split = (s: string): EventSplit => readEventSplitFile(join(shdDir(dataDir), `${s}.arrow`), ['speaker']);
const entries = (): string[] => (existsSync(shdDir(dataDir)) ? readdirSync(shdDir(dataDir)).sort() : []);

function expectSample(sp: EventSplit, row: number, c: ShdContent, i: number): void {
  const s = sp.sample(row);
  const want = c.samples[i];
  expect(sp.labels[row]).toBe(want.label);
  expect(sp.extra.speaker[row]).toBe(want.speaker);
  expect(Array.from(s.x)).toEqual(want.units);
  expect(Array.from(s.y)).toEqual(want.units.map(() => 0));
  expect(Array.from(s.p)).toEqual(want.units.map(() => 1));
  expect(Array.from(s.t, Number)).toEqual(storedTimes(c, i).map((t) => Math.round(t * 1e6)));
}

function expectSplits(validFraction: number, seed: number): void {
  const parts = splitTrainValid(train.samples.length, validFraction, seed);
  const tr = split('train');
  const va = split('valid');
  const te = split('test');
  expect([tr.count, va.count, te.count]).toEqual([parts.train.length, parts.valid.length, 12]);
  parts.train.forEach((i, row) => expectSample(tr, row, train, i));
  parts.valid.forEach((i, row) => expectSample(va, row, train, i));
  for (let i = 0; i < 12; i++) expectSample(te, i, test, i);
}

describe('the HDF5 fixtures', () => {
  it('checksum with lookup3 as HDF5 does (Jenkins\' test vectors)', () => {
    expect(lookup3(new Uint8Array(0))).toBe(0xdeadbeef);
    expect(lookup3(Buffer.from('Four score and seven years ago'))).toBe(0x17770551);
    expect(lookup3(Buffer.from('Four score and seven years ago'), 1)).toBe(0xcd628161);
  });

  it('store the spikes chunked and extendible, as PyTables VLArrays', async () => {
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    const f = new h5wasm.File(writeShdFile(src, 'train', train), 'r');
    try {
      for (const path of ['spikes/times', 'spikes/units']) {
        const m = (f.get(path) as InstanceType<typeof h5wasm.Dataset>).metadata;
        // h5wasm reports the unlimited maximum (H5S_UNLIMITED, 2^64 − 1) as the float 2^64.
        expect([m.type, m.shape, m.maxshape, m.chunks]).toEqual([9, [30], [2 ** 64], [30]]);
      }
    } finally {
      f.close();
    }
  });

  it('are variable-length datasets that h5wasm reads back exactly', async () => {
    const f = await openShdFile(writeShdFile(src, 'train', train));
    try {
      expect(f.count).toBe(30);
      expect(f.keys).toEqual(KEYS);
      const rows = f.read(0, 30);
      rows.forEach((r, i) => {
        expect(r.times).toBeInstanceOf(Float32Array);
        expect(r.units).toBeInstanceOf(Uint16Array);
        expect(Array.from(r.times)).toEqual(storedTimes(train, i));
        expect(Array.from(r.units as Uint16Array)).toEqual(train.samples[i].units);
      });
    } finally {
      f.close();
    }
  });
});

describe('prepareShd', () => {
  it('writes tonic-layout splits from the plain HDF5 files', async () => {
    await prepare({ source: source() });
    expect(entries()).toEqual(['meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
    const m = meta();
    expect(m.sensor_size).toEqual([700, 1, 1]);
    expect(m.ordering).toBe('txp');
    expect(m.extra_columns).toEqual(['speaker']);
    expect(m.classes).toEqual(KEYS);
    expect(m.sizes).toEqual({ train: 24, valid: 6, test: 12 });
    expect(m.source.inputs.train).toMatchObject({ kind: 'file', location: join(src, 'shd_train.h5'), official: null });
    expect(m.source.inputs.train.sha256).toBe(createHash('sha256').update(readFileSync(join(src, 'shd_train.h5'))).digest('hex'));
    expectSplits(0.2, 5);
  });

  for (const packing of ['gz', 'zip'] as const) {
    it(`reads .h5.${packing} files alike and removes the unpacked copies`, async () => {
      await prepare({ source: source(packing), validFraction: 0.1, splitSeed: 2 });
      expectSplits(0.1, 2);
      expect(entries()).toEqual(['meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
      expect(meta().source.inputs.test.location).toBe(join(src, `shd_test.h5.${packing}`));
    });
  }

  it('reuses a prepared directory unless forced', async () => {
    await prepare({ source: source() });
    expect(await prepare({ source: src })).toEqual([expect.stringMatching(/SHD already prepared .*reusing it/)]);
    expect((await prepare({ source: src, force: true }))[0]).toMatch(/re-preparing SHD .* \(forced\)/);
  });

  const damaged: [string, Record<string, ReturnType<typeof numeric> | null>, string][] = [
    ['a missing dataset', { 'spikes/units': null }, 'shd_train.h5: spikes/units: missing (not an SHD file?)'],
    ['fewer unit lists than labels', { 'spikes/units': vlen(train.samples.slice(1).map((s) => Uint16Array.from(s.units))) }, 'shd_train.h5: spikes/units: has 29 samples but labels has 30'],
    ['a unit past 699', { 'spikes/units': vlen(train.samples.map((s, i) => Uint16Array.from(i === 4 ? [...s.units.slice(0, -1), 700] : s.units))) }, `shd_train.h5: spikes/units: sample 4, spike ${train.samples[4].units.length - 1}: unit 700 is outside 0…699`],
    ['a sample whose units and times differ in length', { 'spikes/units': vlen(train.samples.map((s, i) => Uint16Array.from(i === 7 ? s.units.slice(1) : s.units))) }, `shd_train.h5: spikes/units: sample 7 has ${train.samples[7].units.length - 1} units but ${train.samples[7].units.length} times in spikes/times`],
    ['times that are not variable-length', { 'spikes/times': numeric(Float32Array.from(train.samples.map((s) => s.times[0]))) }, 'shd_train.h5: spikes/times: is not a variable-length array of floats (seconds) (HDF5 type class 1)'],
    ['a label past 19', { labels: numeric(Uint8Array.from(train.samples.map((s, i) => (i === 2 ? 20 : s.label)))) }, 'shd_train.h5: labels: sample 2 has label 20, outside 0…19'],
    ['a speaker list of another length', { 'extra/speaker': numeric(Uint8Array.from([1, 2])) }, 'shd_train.h5: extra/speaker: has 2 entries but labels has 30'],
  ];
  for (const [what, edit, message] of damaged) {
    it(`names the file and the dataset path for ${what}, leaving nothing behind`, async () => {
      await prepare({ source: source() }); // a complete earlier preparation is removed too
      writeShdFile(src, 'train', train, 'h5', edit);
      const err = await failure(prepare({ source: src, force: true }));
      expect(err.message).toBe(message);
      expect(err.file).toBe(join(src, 'shd_train.h5'));
      expect(entries()).toEqual([]);
    });
  }

  it('names a damaged .h5.gz and a file that is not HDF5', async () => {
    source('gz');
    const gz = join(src, 'shd_train.h5.gz');
    writeFileSync(gz, readFileSync(gz).subarray(0, 200));
    const err = await failure(prepare({ source: src }));
    expect(err.file).toBe(gz);
    expect(err.message).toMatch(/^shd_train\.h5\.gz: damaged gzip file/);
    expect(entries()).toEqual([]);

    const other = join(tmp.dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'shd_train.h5'), 'not hdf5 at all');
    writeShdFile(other, 'test', test);
    const err2 = await failure(prepare({ source: other }));
    expect(err2.message).toMatch(/^shd_train\.h5: not a readable HDF5 file/);
    expect(entries()).toEqual([]);
  });

  it('names the test file whose class names differ', async () => {
    source();
    writeShdFile(src, 'test', test, 'h5', { 'extra/keys': strings([...KEYS].reverse()) });
    const err = await failure(prepare({ source: src }));
    expect(err.message).toBe('shd_test.h5: extra/keys: the class names differ from the training file\'s');
    expect(entries()).toEqual([]);
  });
});

describe('prepareShd from a download', () => {
  let zips: string;
  let table: Record<'train' | 'test', string>;
  beforeEach(() => {
    zips = join(tmp.dir, 'zips');
    mkdirSync(zips);
    source('zip', zips);
    table = { train: md5(readFileSync(join(zips, 'shd_train.h5.zip'))), test: md5(readFileSync(join(zips, 'shd_test.h5.zip'))) };
    srv.served.set('/datasets/shd_train.h5.zip', readFileSync(join(zips, 'shd_train.h5.zip')));
    srv.served.set('/datasets/shd_test.h5.zip', readFileSync(join(zips, 'shd_test.h5.zip')));
    srv.requests.length = 0;
  });

  it('downloads the zips, checks their MD5 and prepares from them', async () => {
    await prepare({ source: 'download', downloadBase: `${srv.base}/datasets`, md5: table });
    expectSplits(0.2, 5);
    const m = meta();
    expect(m.source).toMatchObject({ kind: 'download', location: `${srv.base}/datasets` });
    expect(m.source.inputs.train).toMatchObject({ kind: 'download', location: `${srv.base}/datasets/shd_train.h5.zip`, md5: table.train, official: false });
    expect(srv.requests).toEqual(['/datasets/shd_train.h5.zip', '/datasets/shd_test.h5.zip']);
    expect(entries()).toEqual(['download', 'meta.json', 'test.arrow', 'train.arrow', 'valid.arrow']);
  });

  it('fails on an MD5 mismatch naming the file, keeping neither the download nor any split', async () => {
    const err = await failure(prepare({ source: 'download', downloadBase: `${srv.base}/datasets/`, md5: { ...table, train: SHD_ZIP_MD5.train } }));
    expect(err.message).toBe(`shd_train.h5.zip: MD5 mismatch: expected ${SHD_ZIP_MD5.train}, got ${table.train} (damaged download or a different file, from ${srv.base}/datasets/shd_train.h5.zip); the download was removed`);
    expect(entries()).toEqual(['download']);
    expect(readdirSync(join(shdDir(dataDir), 'download'))).toEqual([]);
  });
});
