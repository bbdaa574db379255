// What a classification dataset serves the training loop: a count and a way to build a
// time-major batch of given sample indices (sequences of different lengths are padded to the
// longest in the batch).
import type { SpikeEvents, Tensor } from '../layers/tensor.js';

export interface Batch {
  /** [T, N, C] time-major dense input; absent in a spike-event batch */
  x?: Tensor;
  /** the spike events of an event dataset (fmnist latency code, nmnist, shd), for spiking models */
  events?: SpikeEvents;
  /** [N] class indices */
  labels: Int32Array;
  /** [T, N] time-major per-frame classes, for frame-wise training (keyword spotting); absent for sequence classification */
  targets?: Int32Array;
}

/** Which epoch of which run a training batch belongs to: keys a dataset's random augmentation (DVS128's), so a resumed run sees the same. */
export interface BatchKey {
  epoch: number;
  seed: number;
}

export interface BatchSource {
  readonly count: number;
  /** key: given for training batches (absent in evaluation, which is never augmented) */
  batch(indices: Int32Array, key?: BatchKey): Batch;
}

/** A batch's dense input; a spike-event batch given to a model that reads dense input is an error. */
export function denseInput(batch: Batch, model: string): Tensor {
  if (!batch.x) throw new TypeError(`${model} reads dense input [T, N, C]; this batch holds spike events (a spiking dataset needs model.type spiking-classifier)`);
  return batch.x;
}
