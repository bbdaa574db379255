// Serving a prepared event dataset to a spiking model: a split file checked against meta.json,
// and a batch source whose batches bin the chosen samples' raw events to the model's time grid
// (binEvents: round(t/dt), steps ≥ T dropped, repeats in a bin clamped to 1) as SpikeEvents. A
// batch never becomes a dense [B, T, C] array.
import { join } from 'node:path';
import { Rng } from '../../util/rng.js';
import type { BatchSource } from '../batch-source.js';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { readEventSplitFile, type EventSample, type EventSplit } from './event-arrow.js';
import type { EventMeta } from './event-meta.js';
import { binEvents, type EventStream } from './spike-batches.js';

/** A split of a prepared directory; fails naming the file when it disagrees with meta.json. */
export function openEventSplit(dir: string, meta: EventMeta, split: SplitName): EventSplit {
  const file = join(dir, meta.files[split]);
  const got = readEventSplitFile(file, meta.extra_columns);
  if (got.count !== meta.sizes[split] || got.events !== meta.events[split]) {
    throw new DatasetError(
      file,
      `${file}: holds ${got.count} samples and ${got.events} events, but meta.json says ${meta.sizes[split]} and ${meta.events[split]} (written by another run?); prepare again with --force`,
    );
  }
  return got;
}

/** Every sample in file order, or a seeded subset of `limit` of them (in file order). */
export function sampleOrder(count: number, limit: number | undefined, seed: number): Int32Array {
  if (limit === undefined || limit >= count) return Int32Array.from({ length: count }, (_, i) => i);
  return new Rng(seed, 0xe7e1).permutation(count).subarray(0, limit).sort();
}

export interface EventGrid {
  /** time steps */
  T: number;
  /** step length in µs */
  dtUs: number;
  /** input channels */
  C: number;
}

/** A sample's events as channel and time: the dataset's mapping from (x, y, t, p). */
export type ToStream = (s: EventSample) => EventStream;

/** Batches of `order`'s samples (index i of a batch meaning sample order[i]) binned to `grid`. */
export function eventBatchSource(split: EventSplit, order: Int32Array, toStream: ToStream, grid: EventGrid): BatchSource {
  return {
    count: order.length,
    batch(indices) {
      const ids = new Int32Array(indices.length);
      const labels = new Int32Array(indices.length);
      const streams: EventStream[] = [];
      for (let b = 0; b < indices.length; b++) {
        const i = indices[b];
        if (!(i >= 0 && i < order.length)) throw new RangeError(`batch index ${i} is outside 0…${order.length - 1}`);
        ids[b] = order[i];
        labels[b] = split.labels[order[i]];
        streams.push(toStream(split.sample(order[i])));
      }
      return { events: binEvents(streams, { ...grid, ids }), labels };
    },
  };
}

/** Times in µs as float64 (exact below 2^53 µs). */
export function microseconds(t: BigInt64Array): Float64Array {
  const out = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = Number(t[i]);
  return out;
}
