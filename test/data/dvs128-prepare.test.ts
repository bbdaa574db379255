// DVS128 Gesture's prepare step on small official-format distributions written here: one row per
// labelled gesture with label, user, lighting and relative µs events (a recording whose clock
// wraps 2^31 µs included), the train/valid/test splits (validation = whole training users), a
// folder and its .tar.gz giving the same files, reuse, and damaged inputs named in errors with
// nothing left behind.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aedatHeader, polarityPacket } from '../../src/data/dvs128/fixture-writer.js';
import { DVS128_CLASSES, DVS128_LIGHTINGS, dvs128Dir } from '../../src/data/dvs128/layout.js';
import { prepareDvs128, validationUsers, type PrepareDvs128Options } from '../../src/data/dvs128/prepare.js';
import { dvs128Dataset } from '../../src/data/dvs128-dataset.js';
import { readEventSplitFile, type EventSplit } from '../../src/data/events/event-arrow.js';
import { readEventMeta, type EventMeta } from '../../src/data/events/event-meta.js';
import { failure } from './failure.js';
import { tempDir } from './fixtures.js';
import { gestureEvents, SMALL, tarFixture, writeDvsFixture, type DvsFixture } from './dvs128-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let fx: DvsFixture;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir('evnn-dvs128-');
  fx = writeDvsFixture(tmp.dir);
  dataDir = join(tmp.dir, 'datasets');
});
afterEach(() => tmp.cleanup());

async function prepare(o: Partial<PrepareDvs128Options> = {}): Promise<string[]> {
  const logs: string[] = [];
  await prepareDvs128({ dataDir, source: fx.folder, validFraction: 0.34, splitSeed: 3, force: false, log: (m) => logs.push(m), ...o });
  return logs;
}

function meta(): EventMeta {
  const r = readEventMeta(dvs128Dir(dataDir), 'dvs128');
  if ('problem' in r) throw new Error(r.problem);
  return r.meta;
}

const split = (s: string): EventSplit => readEventSplitFile(join(dvs128Dir(dataDir), `${s}.arrow`), ['user', 'lighting']);
const entries = (): string[] => (existsSync(dvs128Dir(dataDir)) ? readdirSync(dvs128Dir(dataDir)).sort() : []);

function rowsOf(sp: EventSplit): { label: number; user: number; lighting: number; events: { x: number; y: number; p: number; t: number }[] }[] {
  return Array.from({ length: sp.count }, (_, i) => {
    const s = sp.sample(i);
    return {
      label: sp.labels[i], user: sp.extra.user[i], lighting: sp.extra.lighting[i],
      events: Array.from(s.x, (x, k) => ({ x, y: s.y[k], p: s.p[k], t: Number(s.t[k]) })),
    };
  });
}

/** What each split must hold: recordings in name order, gestures in CSV order, relative events. */
function expected(validUsers: readonly number[]): Record<'train' | 'valid' | 'test', ReturnType<typeof rowsOf>> {
  const out = { train: [] as ReturnType<typeof rowsOf>, valid: [] as ReturnType<typeof rowsOf>, test: [] as ReturnType<typeof rowsOf> };
  for (const r of [...fx.recordings].sort((a, b) => (a.stem < b.stem ? -1 : 1))) {
    const s = r.split === 'test' ? 'test' : validUsers.includes(r.user) ? 'valid' : 'train';
    r.gestures.forEach((g, k) => out[s].push({ label: g.label, user: r.user, lighting: DVS128_LIGHTINGS.indexOf(r.lighting), events: gestureEvents(r, k) }));
  }
  return out;
}

describe('prepare dvs128 from the DvsGesture folder', () => {
  it('writes one row per labelled gesture with label, user, lighting and relative events; valid = whole training users', async () => {
    await prepare();
    const m = meta();
    const validUsers = validationUsers(SMALL.trainUsers, 0.34, 3);
    expect(validUsers).toHaveLength(1); // round(0.34 · 3) users of 3
    const want = expected(validUsers);
    for (const s of ['train', 'valid', 'test'] as const) {
      const got = rowsOf(split(s));
      expect(got.length).toBe(want[s].length);
      expect(got).toEqual(want[s]);
      expect(m.sizes[s]).toBe(want[s].length);
    }
    expect(want.valid.length).toBe(22); // one user × 2 lightings × 11 gestures
    // every class in every recording; users of a split are disjoint
    const users = (s: string): Set<number> => new Set(split(s).extra.user);
    expect([...users('valid')]).toEqual(validUsers);
    expect([...users('train')].some((u) => validUsers.includes(u))).toBe(false);
    expect([...users('test')]).toEqual([4]);
    expect(new Set(split('train').labels).size).toBe(11);
    expect(m.sensor_size).toEqual([128, 128, 2]);
    expect(m.extra_columns).toEqual(['user', 'lighting']);
    expect(m.classes).toEqual([...DVS128_CLASSES]);
    expect(m.source.inputs.DvsGesture.kind).toBe('folder');
  });

  it('keeps a gesture whose clock crosses 2^31 µs whole and in order', async () => {
    await prepare();
    const rec = fx.recordings.find((r) => r.stem === 'user02_led')!;
    const wraps = rec.gestures.findIndex((g) => g.startUs < 2 ** 31 && g.endUs > 2 ** 31);
    expect(wraps).toBeGreaterThanOrEqual(0);
    const all = [...rowsOf(split('train')), ...rowsOf(split('valid'))].filter((r) => r.user === 2 && r.lighting === DVS128_LIGHTINGS.indexOf('led'));
    const row = all[wraps];
    expect(row.events).toEqual(gestureEvents(rec, wraps));
    expect(row.events.some((e) => e.t + rec.gestures[wraps].startUs >= 2 ** 31)).toBe(true);
  });

  it('names classes from gesture_mapping.csv, or the published list without it', async () => {
    writeFileSync(join(fx.folder, 'gesture_mapping.csv'), ['action,label', ...DVS128_CLASSES.map((c, i) => `g${i}_${c},${i + 1}`)].join('\r\n'));
    await prepare();
    expect(meta().classes[0]).toBe('g0_hand_clapping');
    rmSync(join(fx.folder, 'gesture_mapping.csv'));
    await prepare({ force: true });
    expect(meta().classes).toEqual([...DVS128_CLASSES]);
  });

  it('reuses a prepared directory and re-prepares for another split seed', async () => {
    await prepare();
    const before = readFileSync(join(dvs128Dir(dataDir), 'train.arrow'));
    const logs = await prepare();
    expect(logs.join('\n')).toMatch(/already prepared/);
    expect(readFileSync(join(dvs128Dir(dataDir), 'train.arrow')).equals(before)).toBe(true);
    const again = await prepare({ splitSeed: 11 });
    expect(again.join('\n')).toMatch(/re-preparing/);
    expect(meta().split_seed).toBe(11);
  });

  it('accepts a folder holding DvsGesture/ and the registry module prepares by name', async () => {
    await dvs128Dataset.prepareByName({ dataDir, source: tmp.dir, validFraction: 0.34, splitSeed: 3, force: false, log: () => {} });
    expect(meta().sizes.test).toBe(22);
    await expect(dvs128Dataset.prepareByName({ dataDir, force: false, log: () => {} })).rejects.toThrow(/dvs128 needs --source/);
  });
});

describe('prepare dvs128 from DvsGesture.tar.gz', () => {
  it('streams the archive: the same rows as the folder, in the archive\'s member order', async () => {
    const archive = await tarFixture(fx, tmp.dir, 'DvsGesture.tar.gz');
    const dirA = join(tmp.dir, 'a');
    const dirB = join(tmp.dir, 'b');
    await prepareDvs128({ dataDir: dirA, source: fx.folder, validFraction: 0.34, splitSeed: 3, force: false, log: () => {} });
    await prepareDvs128({ dataDir: dirB, source: archive, validFraction: 0.34, splitSeed: 3, force: false, log: () => {} });
    for (const s of ['train', 'valid', 'test']) {
      const a = readEventSplitFile(join(dvs128Dir(dirA), `${s}.arrow`), ['user', 'lighting']);
      const b = readEventSplitFile(join(dvs128Dir(dirB), `${s}.arrow`), ['user', 'lighting']);
      expect(rowsOf(b)).toEqual(rowsOf(a));
    }
    // Rows follow the archive's member order: reversed members give the same rows, reordered.
    const reversed = await tarFixture(fx, tmp.dir, 'reversed.tar.gz', 'reversed');
    const dirC = join(tmp.dir, 'c');
    await prepareDvs128({ dataDir: dirC, source: reversed, validFraction: 0.34, splitSeed: 3, force: false, log: () => {} });
    const key = (r: ReturnType<typeof rowsOf>[number]): string => `${r.user}/${r.lighting}/${r.label}`;
    const byKey = (rows: ReturnType<typeof rowsOf>): ReturnType<typeof rowsOf> => [...rows].sort((p, q) => (key(p) < key(q) ? -1 : key(p) > key(q) ? 1 : 0));
    for (const s of ['train', 'valid', 'test']) {
      const a = rowsOf(readEventSplitFile(join(dvs128Dir(dirA), `${s}.arrow`), ['user', 'lighting']));
      const c = rowsOf(readEventSplitFile(join(dvs128Dir(dirC), `${s}.arrow`), ['user', 'lighting']));
      expect(byKey(c)).toEqual(byKey(a));
      if (s === 'train') expect(c.map(key)).not.toEqual(a.map(key));
    }
    // A prepared directory is reused without streaming the archive again.
    const logs: string[] = [];
    await prepareDvs128({ dataDir: dirB, source: archive, validFraction: 0.34, splitSeed: 3, force: false, log: (m) => logs.push(m) });
    expect(logs.some((l) => /already prepared/.test(l)) && !logs.some((l) => /reading|decoding/.test(l))).toBe(true);
    const r = readEventMeta(dvs128Dir(dirB), 'dvs128');
    if ('problem' in r) throw new Error(r.problem);
    expect(r.meta.source.inputs.DvsGesture.kind).toBe('file');
    expect(r.meta.source.inputs.DvsGesture.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('damaged DvsGesture inputs', () => {
  const stem = 'user03_fluorescent';
  const aedat = (): string => join(fx.folder, `${stem}.aedat`);

  async function expectNothingLeft(p: Promise<unknown>): Promise<string> {
    const err = await failure(p);
    expect(entries().filter((e) => e.endsWith('.arrow') || e === 'meta.json' || e.includes('.tmp'))).toEqual([]);
    return err.message;
  }

  it('a bad header names the file and offset; nothing is left, not even an earlier preparation', async () => {
    await prepare();
    const bytes = readFileSync(aedat());
    bytes.write('#!AER-DAT2.0\r\n', 0, 'latin1');
    writeFileSync(aedat(), bytes);
    const msg = await expectNothingLeft(prepare({ force: true }));
    expect(msg).toBe(`${stem}.aedat: AEDAT version 2.0, not 3.1 at byte offset 0`);
  });

  it('a truncated packet names the file and the packet offset', async () => {
    const bytes = readFileSync(aedat());
    writeFileSync(aedat(), bytes.subarray(0, bytes.length - 5));
    const msg = await expectNothingLeft(prepare());
    expect(msg).toMatch(new RegExp(`^${stem}\\.aedat: truncated packet: .* at byte offset \\d+$`));
  });

  it('an event outside the sensor names the file and the event offset', async () => {
    writeFileSync(aedat(), Buffer.concat([aedatHeader(), polarityPacket([{ x: 3, y: 140, p: 1, t: 10 }])]));
    const msg = await expectNothingLeft(prepare());
    expect(msg).toBe(`${stem}.aedat: the polarity event has x 3, y 140, outside the 128×128 sensor at byte offset ${aedatHeader().length + 28}`);
  });

  it('a damaged recording inside the archive is named archive:member', async () => {
    const bytes = readFileSync(aedat());
    writeFileSync(aedat(), bytes.subarray(0, bytes.length - 5));
    const archive = await tarFixture(fx, tmp.dir);
    const msg = await expectNothingLeft(prepare({ source: archive }));
    expect(msg).toMatch(new RegExp(`^DvsGesture\\.tar\\.gz:DvsGesture/${stem}\\.aedat: truncated packet: .* at byte offset \\d+$`));
  });

  it('a truncated archive is an error naming it', async () => {
    const archive = await tarFixture(fx, tmp.dir);
    const bytes = readFileSync(archive);
    writeFileSync(archive, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const msg = await expectNothingLeft(prepare({ source: archive }));
    expect(msg).toMatch(/^DvsGesture\.tar\.gz: damaged or unreadable archive/);
    // a gzip of something that is not a tar
    writeFileSync(archive, gzipSync(Buffer.from('not a tar archive at all'.repeat(40))));
    expect(await expectNothingLeft(prepare({ source: archive }))).toMatch(/^DvsGesture\.tar\.gz: damaged or unreadable archive/);
  });

  it('missing labels, missing recordings and bad CSV lines are named', async () => {
    rmSync(join(fx.folder, `${stem}_labels.csv`));
    expect(await expectNothingLeft(prepare())).toMatch(new RegExp(`${stem}_labels\\.csv is missing`));
    writeDvsFixture(tmp.dir);
    rmSync(aedat());
    expect(await expectNothingLeft(prepare())).toMatch(new RegExp(`${stem}\\.aedat: the recording is listed in the trials lists but missing`));
    writeDvsFixture(tmp.dir);
    writeFileSync(join(fx.folder, `${stem}_labels.csv`), 'class,startTime_usec,endTime_usec\r\n12,1,2\r\n');
    expect(await expectNothingLeft(prepare())).toMatch(new RegExp(`${stem}_labels\\.csv: line 2: class 12 is outside 1…11`));
  });

  it('a source without the trials lists is refused', async () => {
    rmSync(join(fx.folder, 'trials_to_train.txt'));
    const err = await failure(prepare());
    expect(err.message).toMatch(/holds neither trials_to_train\.txt/);
    expect(entries()).toEqual([]);
  });
});

describe('validationUsers', () => {
  it('holds out whole users by a seeded draw, the same for the same seed', () => {
    const users = Array.from({ length: 23 }, (_, i) => i + 1);
    const a = validationUsers(users, 0.2, 42);
    expect(a).toHaveLength(5);
    expect(validationUsers([...users].reverse(), 0.2, 42)).toEqual(a);
    expect(validationUsers(users, 0.2, 43)).not.toEqual(a);
    expect(validationUsers(users, 0, 42)).toEqual([]);
  });
});
