// EvNN's frames of a gesture (benchmarks/dvs_gesture/utils.py and models.py, through tonic):
// - slices: tonic's SliceByTime(1.7 s, no overlap, include_incomplete=False) over the gesture's
//   events, windows starting at its first event, n = max(1, ⌊(t_last − t_first − 1.7 s)/1.7 s⌋ + 1);
//   EvNN makes every slice a sample, in training and in testing alike;
// - frames: the slice's events counted per (frame of 25 ms, polarity, y, x) (tonic ToFrame);
// - then, in EvNN's model, a max-pool of each 128×128 polarity plane by 128/frame_size and the
//   mean of the two polarities (MergeEvents 'mean'); counts divided by EvNN's constant (19 / 18.5).
// evnn always gives 68 frames (1.7 s / 25 ms) anchored at the slice's start; tonic's ToFrame
// anchors them at the slice's first event and drops a last incomplete one (so it yields 67 where
// evnn's 68th frame holds the slice's last 25 ms), and EvNN pads batches with empty frames.
import { endianness } from 'node:os';
import type { EventSample } from '../events/event-arrow.js';
import { DVS128_HEIGHT, DVS128_WIDTH, FRAME_US, FRAMES_PER_SLICE, SLICE_US } from './layout.js';

export const PLANE = DVS128_WIDTH * DVS128_HEIGHT;
const LITTLE_ENDIAN = endianness() === 'LE';

/** tonic's number of 1.7 s slices for events from `firstUs` to `lastUs` (0 for a gesture without events). */
export function sliceCount(events: number, firstUs: number, lastUs: number): number {
  if (events === 0) return 0;
  return Math.max(1, Math.floor((lastUs - firstUs - SLICE_US) / SLICE_US) + 1);
}

/** Event i's time in µs (the int64 read as two 32-bit words on little-endian hosts, no BigInt). */
export function timeReader(t: BigInt64Array): (i: number) => number {
  if (!LITTLE_ENDIAN) return (i) => Number(t[i]);
  const w = new Int32Array(t.buffer, t.byteOffset, t.length * 2);
  return (i) => w[2 * i + 1] * 0x100000000 + (w[2 * i] >>> 0);
}

/**
 * Counts of one slice: `counts` is [frame][polarity][y][x] (68 × 2 × 128 × 128), `planeEvents`
 * the events per (frame, polarity) plane, so empty planes can be skipped later.
 */
export class SliceCounter {
  readonly counts = new Float32Array(FRAMES_PER_SLICE * 2 * PLANE);
  readonly planeEvents = new Int32Array(FRAMES_PER_SLICE * 2);

  /** Counts the events of `s` with startUs ≤ t < startUs + 1.7 s; returns how many. */
  count(s: EventSample, startUs: number): number {
    this.counts.fill(0);
    this.planeEvents.fill(0);
    const time = timeReader(s.t);
    const end = startUs + SLICE_US;
    let n = 0;
    for (let i = 0; i < s.x.length; i++) {
      const t = time(i);
      if (t < startUs || t >= end) continue;
      const plane = Math.floor((t - startUs) / FRAME_US) * 2 + (s.p[i] > 0 ? 1 : 0);
      this.counts[plane * PLANE + s.y[i] * DVS128_WIDTH + s.x[i]] += 1;
      this.planeEvents[plane]++;
      n++;
    }
    return n;
  }
}

/**
 * out[oy·S + ox] (from `at`) = scale · (max-pool(a) + max-pool(b)) / 2 over K×K blocks, K = 128/S:
 * EvNN's MaxPool2d(128 // frame_size) of each polarity plane, then MergeEvents' mean. `a` or `b`
 * may be null for an empty plane.
 */
export function poolMerge(a: Float32Array | null, b: Float32Array | null, size: number, scale: number, out: Float32Array, at: number): void {
  const k = DVS128_WIDTH / size;
  const half = 0.5 * scale;
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      let ma = 0;
      let mb = 0;
      if (k === 1) {
        const i = oy * DVS128_WIDTH + ox;
        ma = a === null ? 0 : a[i];
        mb = b === null ? 0 : b[i];
      } else {
        ma = a === null ? 0 : -Infinity;
        mb = b === null ? 0 : -Infinity;
        for (let dy = 0; dy < k; dy++) {
          const row = (oy * k + dy) * DVS128_WIDTH + ox * k;
          for (let dx = 0; dx < k; dx++) {
            if (a !== null && a[row + dx] > ma) ma = a[row + dx];
            if (b !== null && b[row + dx] > mb) mb = b[row + dx];
          }
        }
      }
      out[at + oy * size + ox] = half * (ma + mb);
    }
  }
}
