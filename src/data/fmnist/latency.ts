// Latency (time-to-first-spike) coding of images, computed as the reference's
// current2firing_time does (SparseSpikingBackprop train_and_time.py): x = pixel/255 in float64;
// pixels with x < thr never fire; the others are clipped to x ≥ thr + 1e-7 and fire once at
// step int(τ·ln(x / (x − thr))) (the int cast truncates) if that step is < T. Note the reference
// fires x == thr exactly (51/255 == 0.2 in float64): through the clip it lands at step
// int(τ·ln(2 000 001)) = 290 for τ = 20, which only shows when T > 290.
import { MNIST_PIXELS } from '../idx.js';

/** The reference's threshold and clip (current2firing_time's thr and epsilon). */
export const LATENCY_THRESHOLD = 0.2;
export const LATENCY_EPSILON = 1e-7;
/** τ_eff = 20 ms, in steps of dt: 20 / dt_ms (the reference: tau_eff / time_step). */
export const TAU_EFF_MS = 20;

/** The step pixel value `pixel` (0..255) fires at, or -1 when it never fires within T steps. */
export function firingStep(pixel: number, tauSteps: number, T: number): number {
  const x = pixel / 255;
  if (x < LATENCY_THRESHOLD) return -1;
  const xc = Math.min(Math.max(x, LATENCY_THRESHOLD + LATENCY_EPSILON), 1e9);
  const step = Math.trunc(tauSteps * Math.log(xc / (xc - LATENCY_THRESHOLD)));
  return step < T ? step : -1;
}

/** firingStep for every byte value: the code depends only on the pixel value. */
export function firingTable(tauSteps: number, T: number): Int32Array {
  const table = new Int32Array(256);
  for (let p = 0; p < 256; p++) table[p] = firingStep(p, tauSteps, T);
  return table;
}

/**
 * Every image's spikes, computed once: for image i, keys[start[i] .. start[i+1]) hold
 * step·784 + pixel, ascending (so by step, then channel). One spike per bright pixel at most.
 */
export interface LatencySpikes {
  count: number;
  start: Float64Array;
  keys: Uint32Array;
}

export function encodeImages(pixels: Uint8Array, count: number, tauSteps: number, T: number): LatencySpikes {
  if (pixels.length !== count * MNIST_PIXELS) throw new RangeError(`encodeImages: ${count} images need ${count * MNIST_PIXELS} pixels, got ${pixels.length}`);
  if (T * MNIST_PIXELS > 0xffffffff) throw new RangeError(`encodeImages: T = ${T} steps is too many`);
  const table = firingTable(tauSteps, T);
  const start = new Float64Array(count + 1);
  let total = 0;
  for (let k = 0; k < pixels.length; k++) if (table[pixels[k]] >= 0) total++;
  const keys = new Uint32Array(total);
  // Per image, a counting sort of its pixels by step gives keys ascending without a comparison
  // sort. Its buckets are the distinct steps of the 256 pixel values (whatever T is), ascending.
  const steps = [...new Set(Array.from(table).filter((s) => s >= 0))].sort((a, b) => a - b);
  const bucketOf = new Int32Array(256).fill(-1);
  for (let p = 0; p < 256; p++) if (table[p] >= 0) bucketOf[p] = steps.indexOf(table[p]);
  const perBucket = new Int32Array(steps.length + 1);
  let n = 0;
  for (let i = 0; i < count; i++) {
    start[i] = n;
    const img = pixels.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
    perBucket.fill(0);
    let fired = 0;
    for (let k = 0; k < MNIST_PIXELS; k++) {
      const b = bucketOf[img[k]];
      if (b >= 0) {
        perBucket[b + 1]++;
        fired++;
      }
    }
    for (let b = 0; b < steps.length; b++) perBucket[b + 1] += perBucket[b];
    for (let k = 0; k < MNIST_PIXELS; k++) {
      const b = bucketOf[img[k]];
      if (b >= 0) keys[n + perBucket[b]++] = steps[b] * MNIST_PIXELS + k;
    }
    n += fired;
  }
  start[count] = n;
  return { count, start, keys };
}
