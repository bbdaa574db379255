// Small N-MNIST inputs in the official format, written at test time: .bin files of 5-byte events
// (encoded here from the format's description, independently of the decoder) in Train/Test
// folders of digit sub-folders, and the same trees as zips (Train.zip, Test.zip).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, type Zippable } from 'fflate';

export interface RawEvent {
  x: number;
  y: number;
  p: number;
  /** the 23-bit timestamp field, µs */
  t: number;
}

/** 40 bits per event: x (8) · y (8) · p (1) · t (23), most significant first. */
export function encodeBin(events: readonly RawEvent[]): Uint8Array {
  const out = new Uint8Array(events.length * 5);
  events.forEach((e, k) => {
    const word = (BigInt(e.x) << 32n) | (BigInt(e.y) << 24n) | (BigInt(e.p) << 23n) | BigInt(e.t & 0x7fffff);
    for (let b = 0; b < 5; b++) out[k * 5 + b] = Number((word >> BigInt(8 * (4 - b))) & 0xffn);
  });
  return out;
}

/** The overflow marker tonic recognises: y = 240 (x, p and t are ignored). */
export const OVERFLOW: RawEvent = { x: 0, y: 240, p: 0, t: 0 };

/** Sample j of digit d in split `salt`: a few events that vary with all three (any field value can occur). */
export function sampleEvents(salt: number, d: number, j: number): RawEvent[] {
  const n = 3 + ((d * 5 + j * 3 + salt) % 6);
  return Array.from({ length: n }, (_, k) => ({
    x: (d * 7 + j * 5 + k * 11 + salt) % 34,
    y: (d * 3 + j * 13 + k * 7) % 34,
    p: (d + j + k) % 2,
    t: (j * 40_000 + k * 9_973 + d * 1_001 + salt * 77) % 300_000,
  }));
}

/** What the reader should make of a sample: markers dropped, 8192 µs added after each. */
export function decoded(events: readonly RawEvent[]): RawEvent[] {
  let added = 0;
  const out: RawEvent[] = [];
  for (const e of events) {
    if (e.y === 240) added += 8192;
    else out.push({ ...e, t: e.t + added });
  }
  return out;
}

export interface NmnistFixture {
  /** the source folder (Train/ and Test/ folders) */
  folders: string;
  /** the source folder with Train.zip and Test.zip */
  zips: string;
  /** the .bin files by tree: name "d/file.bin" → events as written */
  files: Record<'Train' | 'Test', Map<string, RawEvent[]>>;
}

/** File name of sample j (zero-padded like the official 00002.bin; listed out of order on purpose). */
const fileName = (j: number): string => `${String(10_000 - j * 37).padStart(5, '0')}.bin`;

/** Trees of `perDigit[tree]` samples per digit; `special` replaces named samples' events. */
export function writeNmnistFixture(root: string, perDigit = { Train: 3, Test: 2 }, special: Record<string, RawEvent[]> = {}): NmnistFixture {
  const fx: NmnistFixture = { folders: join(root, 'folders'), zips: join(root, 'zips'), files: { Train: new Map(), Test: new Map() } };
  mkdirSync(fx.zips, { recursive: true });
  (['Train', 'Test'] as const).forEach((tree, salt) => {
    const zip: Zippable = {};
    for (let d = 0; d <= 9; d++) {
      const dir = join(fx.folders, tree, String(d));
      mkdirSync(dir, { recursive: true });
      for (let j = 0; j < perDigit[tree]; j++) {
        const name = `${d}/${fileName(j)}`;
        const events = special[`${tree}/${name}`] ?? sampleEvents(salt, d, j);
        const bytes = encodeBin(events);
        writeFileSync(join(dir, fileName(j)), bytes);
        // Alternate stored and deflated members, as archivers do for tiny files.
        zip[`${tree}/${name}`] = [bytes, { level: j % 2 === 0 ? 6 : 0 }];
        fx.files[tree].set(name, events);
      }
    }
    // A macOS archiver's resource fork beside a member: not a sample.
    zip[`__MACOSX/${tree}/0/._${fileName(0)}`] = [Uint8Array.from([0, 5, 22, 7, 0, 2]), { level: 0 }];
    writeFileSync(join(fx.zips, `${tree}.zip`), zipSync(zip));
  });
  return fx;
}

/** The samples of a tree in the order evnn lists them: by digit, then by file name. */
export function orderedSamples(fx: NmnistFixture, tree: 'Train' | 'Test'): { label: number; name: string; events: RawEvent[] }[] {
  return [...fx.files[tree].entries()]
    .map(([name, events]) => ({ label: Number(name[0]), name, events }))
    .sort((a, b) => a.label - b.label || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
