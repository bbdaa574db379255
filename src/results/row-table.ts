// A small typed table of result rows persisted as an Arrow IPC file (metrics, sparsity).
// The whole file is rewritten atomically on each write: tables hold one row per epoch, so this
// stays tiny, and a reader never sees a partial file.
import { readFileSync } from 'node:fs';
import { Field, Float64, Int32, Schema, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { writeFileAtomic } from '../util/atomic.js';

export type ColumnKind = 'int32' | 'float64' | 'utf8';
export type Columns<R> = { [K in keyof R]: ColumnKind };

function arrowType(kind: ColumnKind): DataType {
  return kind === 'int32' ? new Int32() : kind === 'float64' ? new Float64() : new Utf8();
}

export class RowTable<R extends Record<string, number | string>> {
  readonly rows: R[] = [];

  constructor(private readonly columns: Columns<R>) {}

  append(row: R): void {
    this.rows.push(row);
  }

  appendAll(rows: readonly R[]): void {
    this.rows.push(...rows);
  }

  schema(): Schema {
    return new Schema(Object.entries(this.columns).map(([name, kind]) => new Field(name, arrowType(kind as ColumnKind), false)));
  }

  write(file: string): void {
    const schema = this.schema();
    const data = Object.fromEntries(
      schema.fields.map((f) => [f.name, vectorFromArray(this.rows.map((r) => r[f.name]), f.type)]),
    );
    const table = this.rows.length > 0 ? new Table(data) : new Table(schema);
    writeFileAtomic(file, tableToIPC(table, 'file'));
  }

  /** Reads rows back, checking the columns are the ones this table writes. */
  load(file: string): this {
    let t: Table;
    try {
      t = tableFromIPC(readFileSync(file));
    } catch (err) {
      throw new Error(`${file}: not a readable Arrow file (${(err as Error).message})`);
    }
    const names = Object.keys(this.columns);
    for (const n of names) {
      const field = t.schema.fields.find((f) => f.name === n);
      if (!field) throw new Error(`${file}: missing column ${n}`);
      const want = arrowType(this.columns[n as keyof R]);
      if (String(field.type) !== String(want)) throw new Error(`${file}: column ${n} is ${String(field.type)}, expected ${String(want)}`);
    }
    const cols = names.map((n) => t.getChild(n)!.toArray() as ArrayLike<number | string>);
    for (let i = 0; i < t.numRows; i++) {
      this.rows.push(Object.fromEntries(names.map((n, j) => [n, cols[j][i]])) as R);
    }
    return this;
  }
}
