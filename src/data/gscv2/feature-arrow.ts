// Arrow IPC *file* format of one GSCv2 feature split: one row per clip with `features`
// List<Float32> (frames × 16 raw dB values, row-major), `frames` Int32, `label` Int32 (the clip's
// class) and `targets` List<Int32> (one label per frame). Clips vary in length, hence lists rather
// than fixed-size ones. Writing collects rows into record batches; reading takes the column
// buffers directly and turns anything inconsistent into a DatasetError naming the file.
import { basename } from 'node:path';
import { DataType, Field, Float32, Int32, List, makeData, Precision, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { openArrowTable } from '../arrow-file.js';
import { DatasetError } from '../errors.js';
import { GSC_CLASSES } from './clips.js';
import { N_FILTERS } from './log-filterbank.js';

const COLUMNS = ['features', 'frames', 'label', 'targets'] as const;

export function featureArrowSchema(): Schema {
  return new Schema([
    new Field('features', new List(new Field('item', new Float32(), false)), false),
    new Field('frames', new Int32(), false),
    new Field('label', new Int32(), false),
    new Field('targets', new List(new Field('item', new Int32(), false)), false),
  ]);
}

/** Rows per record batch: bounds the size of the buffers a batch gathers before it is sealed. */
const BATCH_ROWS = 4096;

/** Collects a split's clips into record batches and encodes them as one Arrow IPC file. */
export class FeatureSplitWriter {
  private readonly schema = featureArrowSchema();
  private readonly batches: RecordBatch[] = [];
  private pending: { data: Float32Array; frames: number; label: number; targets: Int32Array }[] = [];
  rows = 0;
  frames = 0;

  add(data: Float32Array, frames: number, label: number, targets: Int32Array): void {
    if (data.length !== frames * N_FILTERS || targets.length !== frames) {
      throw new RangeError(`FeatureSplitWriter: ${frames} frames need ${frames * N_FILTERS} values and ${frames} targets, got ${data.length} and ${targets.length}`);
    }
    this.pending.push({ data, frames, label, targets });
    this.rows++;
    this.frames += frames;
    if (this.pending.length >= BATCH_ROWS) this.seal();
  }

  private seal(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    const n = rows.length;
    const total = rows.reduce((s, r) => s + r.frames, 0);
    const values = new Float32Array(total * N_FILTERS);
    const targets = new Int32Array(total);
    const valueOffsets = new Int32Array(n + 1);
    const targetOffsets = new Int32Array(n + 1);
    const frames = new Int32Array(n);
    const labels = new Int32Array(n);
    let t = 0;
    rows.forEach((r, i) => {
      values.set(r.data, t * N_FILTERS);
      targets.set(r.targets, t);
      frames[i] = r.frames;
      labels[i] = r.label;
      t += r.frames;
      valueOffsets[i + 1] = t * N_FILTERS;
      targetOffsets[i + 1] = t;
    });
    const [fF, framesF, labelF, targetsF] = this.schema.fields;
    const children = [
      makeData({ type: fF.type as List<Float32>, length: n, nullCount: 0, valueOffsets, child: makeData({ type: new Float32(), length: values.length, data: values }) }),
      makeData({ type: framesF.type as Int32, length: n, data: frames }),
      makeData({ type: labelF.type as Int32, length: n, data: labels }),
      makeData({ type: targetsF.type as List<Int32>, length: n, nullCount: 0, valueOffsets: targetOffsets, child: makeData({ type: new Int32(), length: targets.length, data: targets }) }),
    ];
    this.batches.push(new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: n, children })));
  }

  /** The Arrow IPC file of every row added (an empty split is a valid file with no batches). */
  encode(): Uint8Array {
    this.seal();
    const table = this.batches.length > 0 ? new Table(this.batches) : new Table(this.schema);
    return tableToIPC(table, 'file');
  }
}

/** A split as training reads it: every clip's frames concatenated. */
export interface FeatureSplit {
  count: number;
  /** frames of each clip */
  frames: Int32Array;
  /** first frame of each clip in the concatenated frames */
  offsets: Int32Array;
  /** Σframes × 16 raw dB values, row-major */
  data: Float32Array;
  /** the class of each clip */
  labels: Int32Array;
  /** Σframes per-frame labels */
  targets: Int32Array;
}

type Fail = (what: string) => never;

function checkSchema(schema: Schema, fail: Fail): void {
  const names = schema.fields.map((f) => f.name);
  if (names.length !== COLUMNS.length || names.some((n, i) => n !== COLUMNS[i])) {
    fail(`unexpected columns [${names.join(', ')}], expected [${COLUMNS.join(', ')}]`);
  }
  const isInt32 = (t: DataType) => DataType.isInt(t) && t.bitWidth === 32 && t.isSigned;
  const isF32 = (t: DataType) => DataType.isFloat(t) && t.precision === Precision.SINGLE;
  const [features, frames, label, targets] = schema.fields.map((f) => f.type);
  if (!(DataType.isList(features) && isF32((features as List).valueType))) fail(`column features has type ${String(features)}, expected List<Float32>`);
  if (!isInt32(frames)) fail(`column frames has type ${String(frames)}, expected Int32`);
  if (!isInt32(label)) fail(`column label has type ${String(label)}, expected Int32`);
  if (!(DataType.isList(targets) && isInt32((targets as List).valueType))) fail(`column targets has type ${String(targets)}, expected List<Int32>`);
}

interface ListColumn<T extends Float32Array | Int32Array> {
  offsets: Int32Array;
  values: T;
}

function listColumn<T extends Float32Array | Int32Array>(data: Data | undefined, name: string, batch: number, rows: number, fail: Fail): ListColumn<T> {
  const child = data?.children[0] as Data | undefined;
  if (!data || !child) fail(`record batch ${batch}: column ${name} has no values`);
  if (data!.nullCount > 0 || child!.nullCount > 0) fail(`record batch ${batch}: column ${name} contains nulls`);
  // apache-arrow slices a list's offsets to the batch's rows; they index the (unsliced) child values.
  const offsets = data!.valueOffsets as Int32Array;
  const values = child!.values as T;
  if (!(offsets instanceof Int32Array) || offsets.length < rows + 1) fail(`record batch ${batch}: column ${name} has ${offsets?.length ?? 0} offsets for ${rows} rows`);
  if (offsets[rows] > values.length || offsets[0] < 0) fail(`record batch ${batch}: column ${name} offsets run past its ${values.length} values`);
  return { offsets, values };
}

function intColumn(data: Data | undefined, name: string, batch: number, rows: number, fail: Fail): Int32Array {
  if (!data) fail(`record batch ${batch}: column ${name} has no values`);
  if (data!.nullCount > 0) fail(`record batch ${batch}: column ${name} contains nulls`);
  const values = data!.values as Int32Array;
  if (!(values instanceof Int32Array) || values.length < rows) fail(`record batch ${batch}: column ${name} holds ${values?.length ?? 0} values for ${rows} rows`);
  return values;
}

/** Decodes a feature split's bytes; `file` names it in errors. */
export function decodeFeatureArrow(bytes: Uint8Array, file: string): FeatureSplit {
  const { table, fail } = openArrowTable(bytes, file);
  checkSchema(table.schema, fail);
  try {
    return gather(table, fail);
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(file, `${basename(file)}: damaged Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
}

function gather(table: Table, fail: Fail): FeatureSplit {
  const count = table.numRows;
  const frames = new Int32Array(count);
  const labels = new Int32Array(count);
  const offsets = new Int32Array(count);
  // An empty record batch contributes nothing (and may carry no offsets at all).
  const cols = table.batches.flatMap((batch, b) => {
    const n = batch.numRows;
    if (n === 0) return [];
    const [f, fr, l, t] = batch.data.children as (Data | undefined)[];
    return [{
      n,
      features: listColumn<Float32Array>(f, 'features', b, n, fail),
      frames: intColumn(fr, 'frames', b, n, fail),
      labels: intColumn(l, 'label', b, n, fail),
      targets: listColumn<Int32Array>(t, 'targets', b, n, fail),
    }];
  });
  // First pass: per-row checks and the total, so the concatenated buffers are allocated once.
  let row = 0;
  let total = 0;
  cols.forEach((c) => {
    for (let i = 0; i < c.n; i++, row++) {
      const T = c.frames[i];
      if (!(T > 0)) fail(`row ${row}: frames is ${T}, expected at least 1`);
      const nf = c.features.offsets[i + 1] - c.features.offsets[i];
      if (nf !== T * N_FILTERS) fail(`row ${row}: features holds ${nf} values, expected frames × ${N_FILTERS} = ${T * N_FILTERS}`);
      const nt = c.targets.offsets[i + 1] - c.targets.offsets[i];
      if (nt !== T) fail(`row ${row}: targets holds ${nt} labels, expected one per frame (${T})`);
      const l = c.labels[i];
      if (!(l >= 0 && l < GSC_CLASSES.length)) fail(`row ${row}: label ${l} is outside 0…${GSC_CLASSES.length - 1}`);
      frames[row] = T;
      labels[row] = l;
      offsets[row] = total;
      total += T;
    }
  });
  const data = new Float32Array(total * N_FILTERS);
  const targets = new Int32Array(total);
  row = 0;
  cols.forEach((c) => {
    const fo = c.features.offsets;
    const to = c.targets.offsets;
    // Rows of a batch are contiguous in its child buffers (checked above), so each batch is one copy.
    data.set(c.features.values.subarray(fo[0], fo[c.n]), offsets[row] * N_FILTERS);
    targets.set(c.targets.values.subarray(to[0], to[c.n]), offsets[row]);
    row += c.n;
  });
  for (let i = 0; i < total; i++) {
    if (!(targets[i] >= 0 && targets[i] < GSC_CLASSES.length)) fail(`frame ${i}: target ${targets[i]} is outside 0…${GSC_CLASSES.length - 1}`);
  }
  return { count, frames, offsets, data, labels, targets };
}
