// Arrow IPC *file* format for labelled 28×28 images: columns `label: Int8` and
// `pixels: FixedSizeList<Uint8>[784]`. Reading takes the column buffers directly (no per-row
// objects) and turns anything apache-arrow chokes on into a DatasetError naming the file.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  DataType, Field, FixedSizeList, Int8, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Uint8,
} from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { writeFileAtomic } from '../util/atomic.js';
import { openArrowTable } from './arrow-file.js';
import { DatasetError } from './errors.js';
import { MNIST_CLASSES, MNIST_PIXELS } from './idx.js';
import type { MnistSplit } from './types.js';


/** The Arrow schema of a prepared image split: `label: Int8`, `pixels: FixedSizeList<Uint8>[784]`. */
export function imageSchema(): Schema {
  const pixelsType = new FixedSizeList(MNIST_PIXELS, new Field('pixel', new Uint8(), false));
  return new Schema([new Field('label', new Int8(), false), new Field('pixels', pixelsType, false)]);
}

/** Encodes `count` images (labels [count], pixels [count × 784]) as one Arrow IPC file. */
export function encodeImagesArrow(labels: Int8Array, pixels: Uint8Array): Uint8Array {
  const count = labels.length;
  if (pixels.length !== count * MNIST_PIXELS) {
    throw new RangeError(`encodeImagesArrow: ${count} labels need ${count * MNIST_PIXELS} pixels, got ${pixels.length}`);
  }
  const schema = imageSchema();
  const pixelsType = schema.fields[1].type as FixedSizeList<Uint8>;
  const labelData = makeData({ type: new Int8(), length: count, data: labels });
  const pixelData = makeData({ type: new Uint8(), length: count * MNIST_PIXELS, data: pixels });
  const listData = makeData({ type: pixelsType, length: count, child: pixelData });
  const structData = makeData({ type: new Struct(schema.fields), length: count, children: [labelData, listData] });
  const table = new Table([new RecordBatch(schema, structData)]);
  return tableToIPC(table, 'file');
}

export function writeImagesArrow(path: string, labels: Int8Array, pixels: Uint8Array): void {
  writeFileAtomic(path, encodeImagesArrow(labels, pixels));
}


function describeType(t: DataType): string {
  return String(t);
}

/** Checks the columns are exactly label: Int8 and pixels: FixedSizeList<Uint8>[784]. */
function checkSchema(schema: Schema, fail: (what: string) => never): void {
  const names = schema.fields.map((f) => f.name);
  if (names.length !== 2 || names[0] !== 'label' || names[1] !== 'pixels') {
    fail(`unexpected columns [${names.join(', ')}], expected [label, pixels]`);
  }
  const label = schema.fields[0].type;
  if (!(DataType.isInt(label) && label.bitWidth === 8 && label.isSigned)) {
    fail(`column label has type ${describeType(label)}, expected Int8`);
  }
  const pixels = schema.fields[1].type;
  if (!DataType.isFixedSizeList(pixels)) fail(`column pixels has type ${describeType(pixels)}, expected FixedSizeList<Uint8>[${MNIST_PIXELS}]`);
  const list = pixels as FixedSizeList;
  if (list.listSize !== MNIST_PIXELS) fail(`column pixels holds lists of ${list.listSize} values, expected ${MNIST_PIXELS}`);
  const child = list.valueType;
  if (!(DataType.isInt(child) && child.bitWidth === 8 && !child.isSigned)) {
    fail(`column pixels holds ${describeType(child)} values, expected Uint8`);
  }
}

interface Chunk {
  labels: Int8Array;
  pixels: Uint8Array;
}

/** The label and pixel buffers of one record batch, checked for nulls and length. */
function chunkOf(batch: RecordBatch, index: number, fail: (what: string) => never): Chunk {
  const n = batch.numRows;
  const [labelData, listData] = batch.data.children as [Data, Data];
  const pixelData = listData.children[0] as Data | undefined;
  if (!pixelData) fail(`record batch ${index}: pixels column has no values`);
  if (labelData.nullCount > 0 || listData.nullCount > 0 || pixelData!.nullCount > 0) fail(`record batch ${index}: contains nulls`);
  // Sliced or freshly read, apache-arrow positions `values` at the first element of the batch.
  const labels = labelData.values as Int8Array;
  const pixels = pixelData!.values as Uint8Array;
  if (!(labels instanceof Int8Array) || labels.length < n) fail(`record batch ${index}: label buffer holds ${labels?.length ?? 0} values for ${n} rows`);
  if (!(pixels instanceof Uint8Array) || pixels.length < n * MNIST_PIXELS) {
    fail(`record batch ${index}: pixel buffer holds ${pixels?.length ?? 0} values for ${n} rows of ${MNIST_PIXELS}`);
  }
  return { labels: labels.subarray(0, n), pixels: pixels.subarray(0, n * MNIST_PIXELS) };
}

/** Decodes an image Arrow file's bytes; `file` names it in errors. */
export function decodeImagesArrow(bytes: Uint8Array, file: string): MnistSplit {
  const { table, fail } = openArrowTable(bytes, file);
  checkSchema(table.schema, fail);
  let chunks: Chunk[];
  try {
    chunks = table.batches.map((b, i) => chunkOf(b, i, fail));
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(file, `${basename(file)}: damaged Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
  const count = chunks.reduce((s, c) => s + c.labels.length, 0);
  let labels: Int8Array;
  let pixels: Uint8Array;
  if (chunks.length === 1) {
    ({ labels, pixels } = chunks[0]);
  } else {
    labels = new Int8Array(count);
    pixels = new Uint8Array(count * MNIST_PIXELS);
    let row = 0;
    for (const c of chunks) {
      labels.set(c.labels, row);
      pixels.set(c.pixels, row * MNIST_PIXELS);
      row += c.labels.length;
    }
  }
  for (let i = 0; i < count; i++) {
    if (labels[i] < 0 || labels[i] >= MNIST_CLASSES) fail(`label ${labels[i]} at row ${i} is outside 0..${MNIST_CLASSES - 1}`);
  }
  return { labels, pixels, count };
}

export function readImagesArrow(path: string): MnistSplit {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${basename(path)}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return decodeImagesArrow(bytes, path);
}
