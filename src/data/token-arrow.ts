// Arrow IPC *file* format for a tokenised corpus split: one column `token: Int32`, one row per
// token in corpus order. Writes are atomic; reading takes the column buffer directly and turns
// anything apache-arrow chokes on into a DatasetError naming the file.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DataType, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { writeFileAtomic } from '../util/atomic.js';
import { openArrowTable } from './arrow-file.js';
import { DatasetError } from './errors.js';


/** The Arrow schema of a prepared token split: `token: Int32` (not nullable). */
export function tokenSchema(): Schema {
  return new Schema([new Field('token', new Int32(), false)]);
}

export function encodeTokensArrow(tokens: Int32Array): Uint8Array {
  const schema = tokenSchema();
  const column = makeData({ type: new Int32(), length: tokens.length, data: tokens });
  const struct = makeData({ type: new Struct(schema.fields), length: tokens.length, children: [column] });
  return tableToIPC(new Table([new RecordBatch(schema, struct)]), 'file');
}

export function writeTokensArrow(path: string, tokens: Int32Array): void {
  writeFileAtomic(path, encodeTokensArrow(tokens));
}


/**
 * Decodes a token Arrow file's bytes; `file` names it in errors. With `vocabularySize`, every id
 * must lie in 0..vocabularySize−1.
 */
export function decodeTokensArrow(bytes: Uint8Array, file: string, vocabularySize?: number): Int32Array {
  const { table, fail } = openArrowTable(bytes, file);
  const names = table.schema.fields.map((f) => f.name);
  if (names.length !== 1 || names[0] !== 'token') fail(`unexpected columns [${names.join(', ')}], expected [token]`);
  const type = table.schema.fields[0].type;
  if (!(DataType.isInt(type) && type.bitWidth === 32 && type.isSigned)) fail(`column token has type ${String(type)}, expected Int32`);

  const chunks: Int32Array[] = [];
  try {
    table.batches.forEach((batch, i) => {
      const data = batch.data.children[0] as Data | undefined;
      if (!data) fail(`record batch ${i}: token column has no values`);
      if (data!.nullCount > 0) fail(`record batch ${i}: contains nulls`);
      const values = data!.values as Int32Array;
      if (!(values instanceof Int32Array) || values.length < batch.numRows) {
        fail(`record batch ${i}: token buffer holds ${values?.length ?? 0} values for ${batch.numRows} rows`);
      }
      chunks.push(values.subarray(0, batch.numRows));
    });
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(file, `${basename(file)}: damaged Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
  let tokens: Int32Array;
  if (chunks.length === 1) {
    tokens = chunks[0];
  } else {
    tokens = new Int32Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      tokens.set(c, at);
      at += c.length;
    }
  }
  if (vocabularySize !== undefined) {
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0 || tokens[i] >= vocabularySize) fail(`token id ${tokens[i]} at row ${i} is outside the vocabulary 0..${vocabularySize - 1}`);
    }
  }
  return tokens;
}

export function readTokensArrow(path: string, vocabularySize?: number): Int32Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${basename(path)}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return decodeTokensArrow(bytes, path, vocabularySize);
}
