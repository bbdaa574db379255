// The `_silence_` class, cut from the background-noise recordings as the reference does: n = the
// number of `yes` files; for each i < n a generator seeded by (seed, i) picks a noise file and a
// one-second slice, which is written at −10, −5 and 0 dB (the three gains of one i share the
// slice, as in the reference) as <dataDir>/gscv2/silence/<noise>_db<db>_V<i>.wav.
//
// Valid silence: min(400, round(0.1 · 3n)) clips, i.e. the reference's 400 on the real data
// (n = 4044) and a tenth, like the official lists' share, on a small dataset. They are the clips
// of whole slices: the first ceil(count / 3) indices of a seeded shuffle of 0…n−1, in gain order,
// cut to the count. The reference instead takes the first 400 clips of a shuffle of all 3n, which
// puts the other gains of a valid slice into train (749 train clips share a slice with valid
// ones); here the left-over gains of the last, partly used slice are in neither split.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../util/rng.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';
import type { SplitName } from '../dataset-module.js';
import { readWavPcm16, writeWavPcm16 } from './wav.js';
import { loopProgress } from './progress.js';

export const SILENCE_GAINS_DB = [-10, -5, 0] as const;
export const SILENCE_SAMPLES = 16000;
export const SILENCE_VALID_MAX = 400;
export const SILENCE_VALID_FRACTION = 0.1;
export const SILENCE_VALID_RULE =
  'min(400, round(0.1 * 3n)) clips of whole slices: the first ceil(count/3) indices of a seeded shuffle, in gain order, cut to count; the other gains of the last slice are unused';

/** Seed streams: the slice of index i, and the shuffle choosing the valid slices. */
const SLICE_STREAM = 0x73696c;
const VALID_STREAM = 0x76616c;
const STAMP = '.evnn-silence.json';

export interface NoiseTrack {
  /** File name without `.wav` (it names the clips cut from it). */
  name: string;
  samples: Int16Array;
  sha256: string;
}

export interface SilenceClip {
  index: number;
  db: number;
  noise: string;
  /** First sample of the slice. */
  offset: number;
  /** File name in the silence folder. */
  name: string;
  /** Which split lists it; null: written but unused (see the valid rule above). */
  split: SplitName | null;
}

export const silenceFileName = (noise: string, db: number, i: number): string => `${noise}_db${db}_V${i}.wav`;

export function silenceValidCount(n: number): number {
  return Math.min(SILENCE_VALID_MAX, Math.round(SILENCE_VALID_FRACTION * SILENCE_GAINS_DB.length * n));
}

/** Reads the noise recordings; each must hold at least one second. */
export function readNoiseTracks(dir: string, names: readonly string[]): NoiseTrack[] {
  return names.map((file) => {
    const path = join(dir, file);
    const { samples } = readWavPcm16(path);
    if (samples.length < SILENCE_SAMPLES) throw new DatasetError(path, `${file}: holds ${samples.length} samples; a background noise file needs at least ${SILENCE_SAMPLES} (one second)`);
    return { name: file.replace(/\.wav$/, ''), samples, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  });
}

/** The 3n silence clips: which noise file, which slice, which split. */
export function planSilence(n: number, noise: readonly NoiseTrack[], seed: number): SilenceClip[] {
  const valid = silenceValidCount(n);
  const order = new Rng(seed, VALID_STREAM).permutation(n);
  const rank = new Int32Array(n);
  order.forEach((i, r) => (rank[i] = r));
  const gains = SILENCE_GAINS_DB.length;
  const clips: SilenceClip[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(seed, SLICE_STREAM, i);
    const track = noise[rng.int(noise.length)];
    const offset = rng.int(track.samples.length - SILENCE_SAMPLES + 1);
    SILENCE_GAINS_DB.forEach((db, g) => {
      const position = rank[i] * gains + g; // place among the valid candidates, slice by slice
      const split: SplitName | null = position < valid ? 'valid' : rank[i] * gains < valid ? null : 'train';
      clips.push({ index: i, db, noise: track.name, offset, name: silenceFileName(track.name, db, i), split });
    });
  }
  return clips;
}

/** A one-second slice scaled by `db` decibels, rounded and saturated to int16. */
export function cutSilence(track: Int16Array, offset: number, db: number): Int16Array {
  const gain = Math.pow(10, db / 20);
  const out = new Int16Array(SILENCE_SAMPLES);
  for (let k = 0; k < SILENCE_SAMPLES; k++) out[k] = Math.max(-32768, Math.min(32767, Math.round(track[offset + k] * gain)));
  return out;
}

interface Stamp {
  seed: number;
  n: number;
  gains_db: number[];
  noise_sha256: Record<string, string>;
}

const sameStamp = (a: Stamp, b: Stamp): boolean => JSON.stringify(a) === JSON.stringify(b);

function readStamp(dir: string): Stamp | null {
  try {
    return JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

/**
 * Writes the silence clips into `dir`. Existing ones are kept (and opened once to check them)
 * when they were made from the same seed, count and noise files, unless `force`; otherwise the
 * folder is rebuilt. Returns how many were written.
 */
export async function writeSilence(o: { dir: string; clips: readonly SilenceClip[]; noise: readonly NoiseTrack[]; seed: number; n: number; force: boolean; log: (m: string) => void }): Promise<number> {
  const stamp: Stamp = { seed: o.seed, n: o.n, gains_db: [...SILENCE_GAINS_DB], noise_sha256: Object.fromEntries(o.noise.map((t) => [t.name, t.sha256])) };
  const old = readStamp(o.dir);
  if (o.force || old === null || !sameStamp(old, stamp)) {
    // Clips of another seed or other noise files must not be mistaken for these.
    rmSync(o.dir, { recursive: true, force: true });
    mkdirSync(o.dir, { recursive: true });
    writeJsonAtomic(join(o.dir, STAMP), stamp);
  }
  const byName = new Map(o.noise.map((t) => [t.name, t.samples]));
  const bar = loopProgress('silence clips', o.clips.length, 'files');
  let written = 0;
  try {
    for (const [k, c] of o.clips.entries()) {
      const path = join(o.dir, c.name);
      if (existsSync(path)) {
        const { samples } = readWavPcm16(path);
        if (samples.length !== SILENCE_SAMPLES) throw new DatasetError(path, `${c.name}: holds ${samples.length} samples, expected ${SILENCE_SAMPLES}; prepare again with --force`);
      } else {
        writeWavPcm16(path, cutSilence(byName.get(c.noise)!, c.offset, c.db));
        written++;
      }
      bar.tick();
      if (k % 512 === 511) await new Promise<void>((ok) => setImmediate(ok));
    }
  } finally {
    bar.done();
  }
  o.log(`silence: ${written} clips written, ${o.clips.length - written} kept in ${o.dir}`);
  return written;
}
