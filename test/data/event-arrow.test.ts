// The tonic-layout event split file: write → read round trip (events exactly preserved across
// record batches, extra columns, empty samples and an empty split), the schema check, damaged
// and missing files named in errors, and nothing left behind by an aborted writer.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { EventSplitWriter, eventArrowSchema, readEventSplitFile, type EventRow } from '../../src/data/events/event-arrow.js';
import { tempDir } from './fixtures.js';

/** A deterministic sample with `n` events; coordinates use the whole int16 range and t the int64 one. */
function row(i: number, n: number): EventRow {
  const x = new Int16Array(n);
  const y = new Int16Array(n);
  const t = new BigInt64Array(n);
  const p = new Int8Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = ((i * 7919 + k * 104729) % 65536) - 32768;
    y[k] = (i + k * 3) % 700;
    t[k] = BigInt(i) * 1_000_003n + BigInt(k) * 17n + (k === 0 ? 2n ** 40n : 0n);
    p[k] = (i + k) % 2;
  }
  return { label: i % 20, extra: { speaker: 100 + (i % 7) }, x, y, t, p };
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe('event split files', () => {
  it('round-trips every event exactly, across record batches', () => {
    const file = join(tmp.dir, 'train.arrow');
    const w = new EventSplitWriter(file, ['speaker']);
    // 2048 rows seal a record batch, so 2500 rows make two; sample 5 has no events.
    const lengths = Array.from({ length: 2500 }, (_, i) => (i === 5 ? 0 : 1 + ((i * 37) % 50)));
    lengths.forEach((n, i) => w.add(row(i, n)));
    expect(existsSync(file)).toBe(false); // nothing at the target until finish()
    w.finish();
    expect(readdirSync(tmp.dir)).toEqual(['train.arrow']);

    const table = tableFromIPC(readFileSync(file));
    expect(table.batches.length).toBe(2);
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'label:Int32', 'speaker:Int32', 'x:List<Int16>', 'y:List<Int16>', 't:List<Int64>', 'p:List<Int8>',
    ]);

    const split = readEventSplitFile(file, ['speaker']);
    expect(split.count).toBe(2500);
    expect(split.events).toBe(lengths.reduce((a, b) => a + b, 0));
    for (let i = 0; i < 2500; i++) {
      const want = row(i, lengths[i]);
      const got = split.sample(i);
      expect(split.labels[i]).toBe(want.label);
      expect(split.extra.speaker[i]).toBe(want.extra!.speaker);
      expect(split.length(i)).toBe(lengths[i]);
      expect(Array.from(got.x)).toEqual(Array.from(want.x));
      expect(Array.from(got.y)).toEqual(Array.from(want.y));
      expect(Array.from(got.t)).toEqual(Array.from(want.t));
      expect(Array.from(got.p)).toEqual(Array.from(want.p));
    }
    expect(() => split.sample(2500)).toThrow(/sample 2500 is outside/);
  });

  it('writes an empty split as a valid file', () => {
    const file = join(tmp.dir, 'valid.arrow');
    const w = new EventSplitWriter(file);
    w.finish();
    const split = readEventSplitFile(file);
    expect(split.count).toBe(0);
    expect(split.events).toBe(0);
  });

  it('leaves nothing behind when aborted', () => {
    const file = join(tmp.dir, 'test.arrow');
    const w = new EventSplitWriter(file);
    for (let i = 0; i < 3000; i++) w.add(row(i, 3));
    w.abort();
    expect(readdirSync(tmp.dir)).toEqual([]);
    expect(() => w.add(row(0, 1))).toThrow(/already finished or aborted/);
  });

  it('refuses rows whose event arrays differ in length or lack an extra column', () => {
    const w = new EventSplitWriter(join(tmp.dir, 'a.arrow'), ['speaker']);
    const r = row(0, 4);
    expect(() => w.add({ ...r, p: new Int8Array(3) })).toThrow(/lengths 4, 4, 4, 3/);
    expect(() => w.add({ ...r, extra: {} })).toThrow(/lacks the integer column speaker/);
    w.abort();
  });

  it('names a truncated, missing or foreign file', () => {
    const file = join(tmp.dir, 'train.arrow');
    const w = new EventSplitWriter(file);
    for (let i = 0; i < 10; i++) w.add(row(i, 5));
    w.finish();
    const bytes = readFileSync(file);
    const cut = join(tmp.dir, 'cut.arrow');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
    expect(() => readEventSplitFile(cut)).toThrow(DatasetError);
    expect(() => readEventSplitFile(cut)).toThrow(/cut\.arrow: incomplete Arrow IPC file/);
    expect(() => readEventSplitFile(join(tmp.dir, 'none.arrow'))).toThrow(/none\.arrow: cannot read the event split/);
    // A footer length that points before the data.
    const bent = Buffer.from(bytes);
    bent.writeInt32LE(bytes.length, bytes.length - 10);
    writeFileSync(join(tmp.dir, 'bent.arrow'), bent);
    expect(() => readEventSplitFile(join(tmp.dir, 'bent.arrow'))).toThrow(`bent.arrow: damaged Arrow IPC file: footer length ${bytes.length} does not fit the file`);
    // The same file read as if it had a speaker column: the schema check names the columns.
    expect(() => readEventSplitFile(file, ['speaker'])).toThrow(/train\.arrow: unexpected columns \[label, x, y, t, p\], expected \[label, speaker, x, y, t, p\]/);
  });

  it('rejects extra columns that clash with the fixed ones', () => {
    expect(() => eventArrowSchema(['t'])).toThrow(/clashes/);
  });
});
