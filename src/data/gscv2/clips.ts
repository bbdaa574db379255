// The clip list GSCv2's prepare step writes and its feature step reads: clips.arrow in
// <dataDir>/gscv2/, one row per clip with its split, class, source word folder and WAV path
// (relative to <dataDir>/gscv2/, or absolute when the clip stays in the user's source folder).
import { readFileSync } from 'node:fs';
import { Field, Int32, Schema, Table, Utf8, vectorFromArray, tableToIPC, DataType } from 'apache-arrow';
import { writeFileAtomic } from '../../util/atomic.js';
import { openArrowTable } from '../arrow-file.js';
import type { SplitName } from '../dataset-module.js';

/** The 12 classes of the reference (label_list_10.csv), by label. */
export const GSC_CLASSES = ['_silence_', '_unknown_', 'down', 'go', 'left', 'no', 'off', 'on', 'right', 'stop', 'up', 'yes'] as const;
export const SILENCE = 0;
export const UNKNOWN = 1;

export interface Clip {
  split: SplitName;
  /** 0…11, an index into GSC_CLASSES */
  label: number;
  /** the word folder it came from ('backward', 'yes', '_silence_', ...) */
  keyword: string;
  /** WAV file, relative to <dataDir>/gscv2/ or absolute */
  path: string;
}

export function clipSchema(): Schema {
  return new Schema([
    new Field('split', new Utf8(), false),
    new Field('label', new Int32(), false),
    new Field('keyword', new Utf8(), false),
    new Field('path', new Utf8(), false),
  ]);
}

export function writeClips(file: string, clips: readonly Clip[]): void {
  const table = new Table({
    split: vectorFromArray(clips.map((c) => c.split), new Utf8()),
    label: vectorFromArray(clips.map((c) => c.label), new Int32()),
    keyword: vectorFromArray(clips.map((c) => c.keyword), new Utf8()),
    path: vectorFromArray(clips.map((c) => c.path), new Utf8()),
  });
  writeFileAtomic(file, tableToIPC(table, 'file'));
}

/** The clips of clips.arrow; a damaged or foreign file is a DatasetError naming it. */
export function readClips(file: string): Clip[] {
  const { table, fail } = openArrowTable(new Uint8Array(readFileSync(file)), file);
  const want = clipSchema().fields;
  for (const f of want) {
    const got = table.schema.fields.find((g) => g.name === f.name);
    if (!got) fail(`no column ${f.name} (expected columns ${want.map((w) => w.name).join(', ')})`);
    if (DataType.isUtf8(f.type) ? !DataType.isUtf8(got!.type) : !DataType.isInt(got!.type)) fail(`column ${f.name} has type ${String(got!.type)}, expected ${String(f.type)}`);
  }
  const col = (n: string) => table.getChild(n)!;
  const [split, label, keyword, path] = ['split', 'label', 'keyword', 'path'].map(col);
  const out: Clip[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const s = split.get(i) as string;
    if (s !== 'train' && s !== 'valid' && s !== 'test') fail(`row ${i}: split "${s}" is not train, valid or test`);
    const l = label.get(i) as number;
    if (!(Number.isInteger(l) && l >= 0 && l < GSC_CLASSES.length)) fail(`row ${i}: label ${l} is outside 0…${GSC_CLASSES.length - 1}`);
    out.push({ split: s as SplitName, label: l, keyword: keyword.get(i) as string, path: path.get(i) as string });
  }
  return out;
}
