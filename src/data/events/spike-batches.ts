// Binning of event streams (N-MNIST, SHD; µs timestamps) to the time grid of a spiking model,
// done when a batch is made so the prepared Arrow files keep the raw events. The result is the
// compact SpikeEvents layout; work is linear in the events (two counting sorts over the batch).
import type { SpikeEvents } from '../../layers/tensor.js';

/** One sample's events: channel and time in µs. */
export interface EventStream {
  channel: Int32Array;
  tUs: Float64Array;
}

export interface BinOptions {
  /** time steps kept per sample */
  T: number;
  /** the step length in µs */
  dtUs: number;
  /** channels; every event's channel must lie in [0, C) */
  C: number;
  /** dataset indices of the samples, for error messages (absent: their position in `samples`) */
  ids?: ArrayLike<number>;
}

/**
 * Round half to even, as numpy's np.round (the reference bins with `np.round(t / time_step)`):
 * 0.5 → 0, 1.5 → 2, 2.5 → 2. Math.round alone would round every half up.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The time step of an event at tUs (≥ 0): round-half-even of tUs / dtUs, in float64. */
export function stepOf(tUs: number, dtUs: number): number {
  return roundHalfEven(tUs / dtUs);
}

function checkOptions(o: BinOptions): void {
  if (!Number.isInteger(o.T) || o.T < 1) throw new RangeError(`binEvents: T must be a positive integer, got ${o.T}`);
  if (!Number.isInteger(o.C) || o.C < 1) throw new RangeError(`binEvents: C must be a positive integer, got ${o.C}`);
  if (!Number.isFinite(o.dtUs) || o.dtUs <= 0) throw new RangeError(`binEvents: dtUs must be a positive number of µs, got ${o.dtUs}`);
}

/**
 * Bins samples' events to a time grid of T steps of dtUs µs. An event at t µs falls in step
 * round(t / dtUs), rounded half to even as numpy does (the reference: `np.round(times /
 * time_step)`). The quotient is taken in float64 on µs, so a time exactly on a half step rounds
 * to the even step; the reference divides float32 seconds and may land either side of such a
 * half. Events at t < 0 or in steps ≥ T are dropped. Several events in one (step, channel) count
 * once: the value is clamped to 1 (the reference clamps in training only; evnn in both).
 * Channels outside [0, C), non-finite times or mismatched array lengths are a RangeError naming
 * the sample. Returns rows b·T + t with channels ascending.
 */
export function binEvents(samples: readonly EventStream[], o: BinOptions): SpikeEvents {
  checkOptions(o);
  const { T, C, dtUs } = o;
  const B = samples.length;
  const rowCount = B * T;
  if (rowCount + 1 > 0x7fffffff) throw new RangeError(`binEvents: ${B} samples × ${T} steps is too many rows`);
  const name = (b: number): string => `sample ${o.ids ? o.ids[b] : b}`;

  let total = 0;
  for (let b = 0; b < B; b++) {
    const s = samples[b];
    if (s.channel.length !== s.tUs.length) {
      throw new RangeError(`binEvents: ${name(b)} has ${s.channel.length} channels but ${s.tUs.length} times`);
    }
    total += s.channel.length;
  }

  // Pass 1: the row of each kept event, counted per channel.
  const rowOf = new Int32Array(total);
  const chOf = new Int32Array(total);
  const perChannel = new Int32Array(C + 1);
  let kept = 0;
  for (let b = 0; b < B; b++) {
    const { channel, tUs } = samples[b];
    const base = b * T;
    for (let i = 0; i < channel.length; i++) {
      const c = channel[i];
      const t = tUs[i];
      if (c < 0 || c >= C) throw new RangeError(`binEvents: ${name(b)} has channel ${c} at event ${i}, outside [0, ${C})`);
      if (!Number.isFinite(t)) throw new RangeError(`binEvents: ${name(b)} has time ${t} at event ${i}`);
      if (t < 0) continue;
      const step = stepOf(t, dtUs);
      if (step >= T) continue;
      rowOf[kept] = base + step;
      chOf[kept] = c;
      perChannel[c + 1]++;
      kept++;
    }
  }

  // Pass 2: a stable counting sort by channel, then one by row, leaves channels ascending in each row.
  for (let c = 0; c < C; c++) perChannel[c + 1] += perChannel[c];
  const byChannel = new Int32Array(kept);
  for (let e = 0; e < kept; e++) byChannel[perChannel[chOf[e]]++] = e;

  const rowStart = new Int32Array(rowCount + 1);
  for (let e = 0; e < kept; e++) rowStart[rowOf[e] + 1]++;
  for (let r = 0; r < rowCount; r++) rowStart[r + 1] += rowStart[r];
  const fill = rowStart.slice(0, rowCount);
  const sorted = new Int32Array(kept);
  for (let k = 0; k < kept; k++) {
    const e = byChannel[k];
    sorted[fill[rowOf[e]]++] = chOf[e];
  }

  // Pass 3: drop repeats within each row (they are adjacent now).
  const offsets = new Int32Array(rowCount + 1);
  const index = new Int32Array(kept);
  let n = 0;
  for (let r = 0; r < rowCount; r++) {
    offsets[r] = n;
    const end = rowStart[r + 1];
    for (let k = rowStart[r]; k < end; k++) {
      const c = sorted[k];
      if (n === offsets[r] || index[n - 1] !== c) index[n++] = c;
    }
  }
  offsets[rowCount] = n;
  return { B, T, C, offsets, index: n === kept ? index : index.slice(0, n) };
}
