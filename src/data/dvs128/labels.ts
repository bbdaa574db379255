// The text files of the DvsGesture distribution: a recording's name (user01_fluorescent_led →
// user 1, lighting fluorescent_led), its labels CSV (`class,startTime_usec,endTime_usec`, class
// 1…11, times on the recording's µs clock), the trials lists (one .aedat name per line) and
// gesture_mapping.csv (`action,label`). Errors name the file and the line.
import { DatasetError } from '../errors.js';
import { DVS128_CLASSES, DVS128_LIGHTINGS, DVS128_NUM_CLASSES } from './layout.js';

export interface RecordingName {
  /** `user01_fluorescent`, without `.aedat` */
  stem: string;
  user: number;
  /** index into DVS128_LIGHTINGS */
  lighting: number;
}

const RECORDING = /^user(\d+)_([A-Za-z_]+)$/;

/** `user01_fluorescent_led.aedat` (any folder part dropped) → user and lighting; `file` names the list or archive in errors. */
export function parseRecordingName(name: string, file: string): RecordingName {
  const base = name.replace(/\\/g, '/').split('/').pop()!;
  const stem = base.replace(/\.aedat$/i, '');
  const m = RECORDING.exec(stem);
  if (!m) throw new DatasetError(file, `${file}: ${JSON.stringify(base)} is not a DvsGesture recording name (userNN_lighting.aedat)`);
  const lighting = DVS128_LIGHTINGS.indexOf(m[2]);
  if (lighting < 0) throw new DatasetError(file, `${file}: ${base}: unknown lighting condition ${JSON.stringify(m[2])} (the official ones: ${DVS128_LIGHTINGS.join(', ')})`);
  return { stem, user: Number(m[1]), lighting };
}

export interface GestureLabel {
  /** 0-based class (the CSV's class − 1) */
  label: number;
  startUs: number;
  endUs: number;
}

const lines = (text: string): string[] => text.split(/\r?\n/);

/** A recording's labels CSV; `file` names it in errors. */
export function parseLabelsCsv(text: string, file: string): GestureLabel[] {
  const out: GestureLabel[] = [];
  lines(text).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || (n === 0 && /^[A-Za-z]/.test(line))) return;
    const cells = line.split(',').map((c) => c.trim());
    const nums = cells.map(Number);
    if (cells.length !== 3 || !nums.every((v) => Number.isSafeInteger(v))) {
      throw new DatasetError(file, `${file}: line ${n + 1}: ${JSON.stringify(line)} is not class,startTime_usec,endTime_usec`);
    }
    const [cls, start, end] = nums;
    if (cls < 1 || cls > DVS128_NUM_CLASSES) throw new DatasetError(file, `${file}: line ${n + 1}: class ${cls} is outside 1…${DVS128_NUM_CLASSES}`);
    if (!(start >= 0 && end > start)) throw new DatasetError(file, `${file}: line ${n + 1}: the gesture ends (${end} µs) before it starts (${start} µs)`);
    out.push({ label: cls - 1, startUs: start, endUs: end });
  });
  if (out.length === 0) throw new DatasetError(file, `${file}: no gestures listed`);
  return out;
}

/** A trials list: the recording stems it names, in order; `file` names it in errors. */
export function parseTrialsList(text: string, file: string): RecordingName[] {
  const seen = new Set<string>();
  const out: RecordingName[] = [];
  for (const raw of lines(text)) {
    const line = raw.trim();
    if (line === '') continue;
    const r = parseRecordingName(line, file);
    if (seen.has(r.stem)) throw new DatasetError(file, `${file}: ${r.stem} is listed twice`);
    seen.add(r.stem);
    out.push(r);
  }
  if (out.length === 0) throw new DatasetError(file, `${file}: lists no recordings`);
  return out;
}

/** gesture_mapping.csv → class names by 0-based label; it must name each of the 11 labels once. */
export function parseGestureMapping(text: string, file: string): string[] {
  const names: (string | undefined)[] = new Array(DVS128_NUM_CLASSES).fill(undefined);
  lines(text).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const num = cells.findIndex((c) => /^\d+$/.test(c));
    if (cells.length !== 2 || num < 0) {
      if (n === 0) return; // the header line (action,label)
      throw new DatasetError(file, `${file}: line ${n + 1}: ${JSON.stringify(line)} is not name,label`);
    }
    const label = Number(cells[num]);
    if (label < 1 || label > DVS128_NUM_CLASSES) throw new DatasetError(file, `${file}: line ${n + 1}: label ${label} is outside 1…${DVS128_NUM_CLASSES}`);
    if (names[label - 1] !== undefined) throw new DatasetError(file, `${file}: line ${n + 1}: label ${label} is named twice`);
    names[label - 1] = cells[1 - num];
  });
  const missing = names.findIndex((s) => s === undefined);
  if (missing >= 0) throw new DatasetError(file, `${file}: label ${missing + 1} has no name (expected the 11 labels of ${DVS128_CLASSES.join(', ')})`);
  return names as string[];
}
