// The order in which the training loop visits a dataset's samples (the batches themselves come
// from the dataset: src/data/batch-source.ts).
import { Rng } from '../util/rng.js';

export type { Batch, BatchSource } from '../data/batch-source.js';

/** Sample order of one epoch: a seeded shuffle that depends only on (seed, epoch), so a resumed
 * run sees exactly the batches an uninterrupted one would. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return new Rng(seed, epoch, 0x5a5f).permutation(count);
}

/** Consecutive index slices of at most batchSize (the last one may be shorter). */
export function* slices(order: Int32Array, batchSize: number): Generator<Int32Array> {
  for (let i = 0; i < order.length; i += batchSize) yield order.subarray(i, Math.min(order.length, i + batchSize));
}

export function sequentialOrder(count: number): Int32Array {
  const o = new Int32Array(count);
  for (let i = 0; i < count; i++) o[i] = i;
  return o;
}
