// An event split file in tonic's layout (N-MNIST, SHD, later DVS128 Gesture): an Arrow IPC file
// with one row per sample: `label: int32`, optional per-dataset int32 columns (SHD's `speaker`),
// and the events as lists `x: int16`, `y: int16`, `t: int64` (µs), `p: int8`. The sensor size
// and the ordering live in meta.json (event-meta.ts). Writing streams record batches straight to
// a temp file (renamed when complete), so N-MNIST's 60 000 × ~4 000 events never sit in memory
// twice; reading goes record batch by record batch, checks the schema and serves each sample as
// views into the column buffers.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  AsyncByteQueue, DataType, Field, Int16, Int32, Int64, Int8, List, makeData, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Struct, Table, tableFromIPC,
} from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import type { Data } from 'apache-arrow';
import { tempPathFor } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';

/** The event columns, in file order after the label and the extra columns. */
export const EVENT_COLUMNS = ['x', 'y', 't', 'p'] as const;

const listOf = (t: DataType): List => new List(new Field('item', t, false));

/** The schema of an event split with the given extra int32 columns (after `label`). */
export function eventArrowSchema(extra: readonly string[] = []): Schema {
  for (const name of extra) {
    if (name === 'label' || (EVENT_COLUMNS as readonly string[]).includes(name)) throw new RangeError(`eventArrowSchema: extra column ${name} clashes with a fixed column`);
  }
  return new Schema([
    new Field('label', new Int32(), false),
    ...extra.map((name) => new Field(name, new Int32(), false)),
    new Field('x', listOf(new Int16()), false),
    new Field('y', listOf(new Int16()), false),
    new Field('t', listOf(new Int64()), false),
    new Field('p', listOf(new Int8()), false),
  ]);
}

/** One sample's events (equal lengths), in the file's integer types. */
export interface EventSample {
  x: Int16Array;
  y: Int16Array;
  /** µs */
  t: BigInt64Array;
  p: Int8Array;
}

/** A sample as a writer takes it: the label, the extra columns by name, and its events. */
export interface EventRow extends EventSample {
  label: number;
  extra?: Readonly<Record<string, number>>;
}

/** Rows and events per record batch: bound what one batch gathers before it goes to disk. */
const BATCH_ROWS = 2048;
const BATCH_EVENTS = 4 << 20;

/** An AsyncByteQueue whose writes go straight to a file descriptor (the IPC writer's only sink type). */
class FileSink extends AsyncByteQueue {
  bytes = 0;
  constructor(private readonly fd: number) {
    super();
  }
  override write(value: Uint8Array | ArrayBufferView | ArrayBuffer): void {
    const bytes = value instanceof Uint8Array ? value : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off, bytes.byteLength - off);
    this.bytes += bytes.byteLength;
  }
}

/**
 * Writes one event split file. Rows are gathered into record batches which are written to
 * `<file>`'s temp file as they fill; finish() writes the footer and renames the temp file over
 * `file`; abort() removes it. Until finish() returns, `file` is untouched.
 */
export class EventSplitWriter {
  readonly schema: Schema;
  private readonly extra: readonly string[];
  private readonly tmp: string;
  private fd: number | null;
  private readonly sink: FileSink;
  private readonly writer: RecordBatchFileWriter;
  private pending: EventRow[] = [];
  private pendingEvents = 0;
  rows = 0;
  events = 0;

  constructor(readonly file: string, extra: readonly string[] = []) {
    this.schema = eventArrowSchema(extra);
    this.extra = [...extra];
    mkdirSync(dirname(file), { recursive: true });
    this.tmp = tempPathFor(file);
    this.fd = openSync(this.tmp, 'w');
    this.sink = new FileSink(this.fd);
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(this.sink, this.schema);
  }

  add(row: EventRow): void {
    if (this.fd === null) throw new Error(`EventSplitWriter: ${this.file} is already finished or aborted`);
    const n = row.x.length;
    if (row.y.length !== n || row.t.length !== n || row.p.length !== n) {
      throw new RangeError(`EventSplitWriter: row ${this.rows} has x, y, t, p of lengths ${n}, ${row.y.length}, ${row.t.length}, ${row.p.length}`);
    }
    if (!Number.isInteger(row.label)) throw new RangeError(`EventSplitWriter: row ${this.rows} has label ${row.label}`);
    for (const name of this.extra) {
      const v = row.extra?.[name];
      if (!Number.isInteger(v)) throw new RangeError(`EventSplitWriter: row ${this.rows} lacks the integer column ${name}`);
    }
    this.pending.push(row);
    this.pendingEvents += n;
    this.rows++;
    this.events += n;
    if (this.pending.length >= BATCH_ROWS || this.pendingEvents >= BATCH_EVENTS) this.seal();
  }

  private seal(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    const total = this.pendingEvents;
    this.pendingEvents = 0;
    const n = rows.length;
    const offsets = new Int32Array(n + 1);
    const x = new Int16Array(total);
    const y = new Int16Array(total);
    const t = new BigInt64Array(total);
    const p = new Int8Array(total);
    const labels = new Int32Array(n);
    const extras = this.extra.map(() => new Int32Array(n));
    let e = 0;
    rows.forEach((r, i) => {
      x.set(r.x, e);
      y.set(r.y, e);
      t.set(r.t, e);
      p.set(r.p, e);
      labels[i] = r.label;
      this.extra.forEach((name, k) => (extras[k][i] = r.extra![name]));
      e += r.x.length;
      offsets[i + 1] = e;
    });
    const fields = this.schema.fields;
    const list = (k: number, child: Data): Data => makeData({ type: fields[k].type as List, length: n, nullCount: 0, valueOffsets: offsets, child });
    const base = 1 + this.extra.length;
    const children: Data[] = [
      makeData({ type: new Int32(), length: n, data: labels }),
      ...extras.map((v) => makeData({ type: new Int32(), length: n, data: v })),
      list(base, makeData({ type: new Int16(), length: total, data: x })),
      list(base + 1, makeData({ type: new Int16(), length: total, data: y })),
      list(base + 2, makeData({ type: new Int64(), length: total, data: t })),
      list(base + 3, makeData({ type: new Int8(), length: total, data: p })),
    ];
    this.writer.write(new RecordBatch(this.schema, makeData({ type: new Struct(fields), length: n, children })));
  }

  /** Writes the remaining rows and the footer, then moves the file into place. */
  finish(): void {
    if (this.fd === null) throw new Error(`EventSplitWriter: ${this.file} is already finished or aborted`);
    try {
      this.seal();
      // An empty split is still a valid file: a schema, no batches, the footer.
      this.writer.finish();
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = null;
      renameSync(this.tmp, this.file);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Discards everything written (safe to call more than once). */
  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    rmSync(this.tmp, { force: true });
  }
}

/** A split as batches read it: labels, extra columns and per-sample event views. */
export interface EventSplit {
  readonly file: string;
  readonly count: number;
  readonly labels: Int32Array;
  /** The extra int32 columns by name (SHD's speaker). */
  readonly extra: Readonly<Record<string, Int32Array>>;
  /** Total events. */
  readonly events: number;
  /** Sample i's events as views into the file's buffers (no copy). */
  sample(i: number): EventSample;
  /** Sample i's event count. */
  length(i: number): number;
}

type Fail = (what: string) => never;

function checkSchema(schema: Schema, extra: readonly string[], fail: Fail): void {
  const want = eventArrowSchema(extra);
  const names = schema.fields.map((f) => f.name);
  const wantNames = want.fields.map((f) => f.name);
  if (names.length !== wantNames.length || names.some((n, i) => n !== wantNames[i])) {
    fail(`unexpected columns [${names.join(', ')}], expected [${wantNames.join(', ')}]`);
  }
  schema.fields.forEach((f, i) => {
    const w = want.fields[i].type;
    const ok = DataType.isList(w)
      ? DataType.isList(f.type) && sameInt((f.type as List).valueType, (w as List).valueType)
      : sameInt(f.type, w);
    if (!ok) fail(`column ${f.name} has type ${String(f.type)}, expected ${String(w)}`);
  });
}

function sameInt(a: DataType, b: DataType): boolean {
  return DataType.isInt(a) && DataType.isInt(b) && a.bitWidth === b.bitWidth && a.isSigned === b.isSigned;
}

interface BatchColumns {
  start: number;
  n: number;
  labels: Int32Array;
  extra: Int32Array[];
  /** x's offsets: row i's events are x[offsets[i] .. offsets[i+1]) */
  offsets: Int32Array;
  x: Int16Array;
  y: Int16Array;
  t: BigInt64Array;
  p: Int8Array;
  /** where y, t and p's offsets start relative to x's (0 unless the batch was sliced unevenly) */
  shift: { y: number; t: number; p: number };
}

function intValues<T extends Int32Array>(data: Data | undefined, name: string, b: number, n: number, fail: Fail): T {
  if (!data) fail(`record batch ${b}: column ${name} is missing`);
  if (data!.nullCount > 0) fail(`record batch ${b}: column ${name} contains nulls`);
  const v = data!.values as T;
  if (!(v instanceof Int32Array) || v.length < n) fail(`record batch ${b}: column ${name} holds ${v?.length ?? 0} values for ${n} rows`);
  return v.subarray(0, n) as T;
}

function listValues<T extends Int16Array | BigInt64Array | Int8Array>(
  data: Data | undefined, name: string, b: number, n: number, ctor: { new (n: number): T }, fail: Fail,
): { offsets: Int32Array; values: T } {
  const child = data?.children[0] as Data | undefined;
  if (!data || !child) fail(`record batch ${b}: column ${name} has no values`);
  if (data!.nullCount > 0 || child!.nullCount > 0) fail(`record batch ${b}: column ${name} contains nulls`);
  const offsets = data!.valueOffsets as Int32Array;
  const values = child!.values as T;
  if (!(offsets instanceof Int32Array) || offsets.length < n + 1) fail(`record batch ${b}: column ${name} has ${offsets?.length ?? 0} offsets for ${n} rows`);
  if (!(values instanceof ctor)) fail(`record batch ${b}: column ${name} does not hold ${ctor.name} values`);
  if (offsets[0] < 0 || offsets[n] > values.length) fail(`record batch ${b}: column ${name} offsets run past its ${values.length} values`);
  for (let i = 0; i < n; i++) if (offsets[i + 1] < offsets[i]) fail(`record batch ${b}: column ${name} offsets decrease at row ${i}`);
  return { offsets, values };
}

function fromBatches(recordBatches: readonly RecordBatch[], file: string, extra: readonly string[], fail: Fail): EventSplit {
  const batches: BatchColumns[] = [];
  let start = 0;
  try {
    recordBatches.forEach((batch, b) => {
      const n = batch.numRows;
      if (n === 0) return;
      const cols = batch.data.children as (Data | undefined)[];
      const base = 1 + extra.length;
      const x = listValues(cols[base], 'x', b, n, Int16Array, fail);
      const y = listValues(cols[base + 1], 'y', b, n, Int16Array, fail);
      const t = listValues(cols[base + 2], 't', b, n, BigInt64Array, fail);
      const p = listValues(cols[base + 3], 'p', b, n, Int8Array, fail);
      // The four lists of a row must have one length (they are one event each).
      for (const other of [y, t, p]) {
        for (let i = 0; i <= n; i++) {
          if (other.offsets[i] - other.offsets[0] !== x.offsets[i] - x.offsets[0]) fail(`record batch ${b}: row ${start + Math.max(0, i - 1)}: the x, y, t and p lists differ in length`);
        }
      }
      batches.push({
        start, n,
        labels: intValues(cols[0], 'label', b, n, fail),
        extra: extra.map((name, k) => intValues(cols[1 + k], name, b, n, fail)),
        offsets: x.offsets,
        x: x.values, y: y.values, t: t.values, p: p.values,
        shift: { y: y.offsets[0] - x.offsets[0], t: t.offsets[0] - x.offsets[0], p: p.offsets[0] - x.offsets[0] },
      });
      start += n;
    });
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(file, `${basename(file)}: damaged Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
  return makeSplit(file, batches, start, extra);
}

function makeSplit(file: string, batches: readonly BatchColumns[], count: number, extraNames: readonly string[]): EventSplit {
  const labels = new Int32Array(count);
  const extra: Record<string, Int32Array> = Object.fromEntries(extraNames.map((n) => [n, new Int32Array(count)]));
  // Per sample: its batch and the start and end of its events in that batch's buffers.
  const batchOf = new Int32Array(count);
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  let events = 0;
  batches.forEach((c, k) => {
    labels.set(c.labels, c.start);
    extraNames.forEach((name, j) => extra[name].set(c.extra[j], c.start));
    for (let i = 0; i < c.n; i++) {
      batchOf[c.start + i] = k;
      from[c.start + i] = c.offsets[i];
      to[c.start + i] = c.offsets[i + 1];
    }
    events += c.offsets[c.n] - c.offsets[0];
  });
  const check = (i: number): void => {
    if (!(Number.isInteger(i) && i >= 0 && i < count)) throw new RangeError(`${basename(file)}: sample ${i} is outside 0…${count - 1}`);
  };
  return {
    file, count, labels, extra, events,
    length(i) {
      check(i);
      return to[i] - from[i];
    },
    sample(i) {
      check(i);
      const c = batches[batchOf[i]];
      const a = from[i];
      const b = to[i];
      const s = c.shift;
      return { x: c.x.subarray(a, b), y: c.y.subarray(a + s.y, b + s.y), t: c.t.subarray(a + s.t, b + s.t), p: c.p.subarray(a + s.p, b + s.p) };
    },
  };
}

const MAGIC = Buffer.from('ARROW1', 'latin1');
/** An IPC stream's end: continuation marker, zero length. */
const EOS = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/**
 * Reads an event split file record batch by record batch: the footer gives the schema and each
 * batch's place, and each batch is read into a buffer of its own behind the encoded schema
 * message and decoded as a one-batch IPC stream. So no single buffer holds the whole file (Node's buffers stop at 4 GiB
 * and readFileSync at 2 GiB; N-MNIST's training split is a few GB), and the batches' columns are
 * views into those buffers. A missing, truncated or damaged file is a DatasetError naming it.
 */
export function readEventSplitFile(file: string, extra: readonly string[] = []): EventSplit {
  const name = basename(file);
  const fail = (what: string): never => {
    throw new DatasetError(file, `${name}: ${what}`);
  };
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new DatasetError(file, `${file}: cannot read the event split: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const read = (at: number, length: number, into?: Buffer, intoAt = 0): Buffer => {
      if (at < 0 || length < 0 || at + length > size) fail(`${length} bytes at offset ${at} run past the end of the ${size}-byte file (truncated?)`);
      const out = into ?? Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, intoAt + got, Math.min(1 << 30, length - got), at + got);
        if (n === 0) fail(`unexpected end of file at offset ${at + got}`);
        got += n;
      }
      return out;
    };
    if (size < 8 || !read(0, 6).equals(MAGIC)) fail('not an Arrow IPC file (no ARROW1 magic at the start)');
    if (size < 8 + 10 || !read(size - 6, 6).equals(MAGIC)) fail(`incomplete Arrow IPC file of ${size} bytes (no ARROW1 magic at the end: truncated?)`);
    const footerLength = read(size - 10, 4).readInt32LE(0);
    const footerAt = size - 10 - footerLength;
    if (footerLength <= 0 || footerAt < 8) fail(`damaged Arrow IPC file: footer length ${footerLength} does not fit the file`);
    let footer: Footer;
    try {
      footer = Footer.decode(read(footerAt, footerLength));
    } catch (err) {
      throw new DatasetError(file, `${name}: damaged Arrow IPC file: unreadable footer: ${(err as Error).message}`, { cause: err });
    }
    checkSchema(footer.schema, extra, fail);
    if (footer.numDictionaries > 0) fail('damaged event split: it has dictionary batches');
    const blocks = [...footer.recordBatches()];
    const batches: RecordBatch[] = [];
    if (blocks.length > 0) {
      // The schema message that starts each one-batch stream, encoded from the footer's schema
      // (arrow-js's file writer keeps the schema in the footer only): an empty stream less its end.
      const empty = RecordBatchStreamWriter.writeAll(new Table(footer.schema)).toUint8Array(true);
      const schema = Buffer.from(empty.buffer, empty.byteOffset, empty.byteLength - EOS.length);
      const schemaLength = schema.length;
      blocks.forEach((blk, b) => {
        const length = blk.metaDataLength + blk.bodyLength;
        if (blk.offset < 8 || blk.offset + length > footerAt) fail(`damaged Arrow IPC file: record batch ${b} (offset ${blk.offset}, ${length} bytes) lies outside the data`);
        const stream = Buffer.allocUnsafe(schemaLength + length + EOS.length);
        schema.copy(stream, 0);
        read(blk.offset, length, stream, schemaLength);
        stream.set(EOS, schemaLength + length);
        let got: RecordBatch[];
        try {
          got = tableFromIPC(stream).batches;
        } catch (err) {
          throw new DatasetError(file, `${name}: damaged Arrow IPC file: record batch ${b}: ${(err as Error).message}`, { cause: err });
        }
        if (got.length !== 1) fail(`damaged Arrow IPC file: record batch ${b} decoded to ${got.length} batches`);
        batches.push(got[0]);
      });
    }
    return fromBatches(batches, file, extra, fail);
  } finally {
    closeSync(fd);
  }
}
