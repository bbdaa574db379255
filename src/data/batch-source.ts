// What a classification dataset serves the training loop: a count and a way to build a
// time-major batch of given sample indices (sequences of different lengths are padded to the
// longest in the batch).
import type { Tensor } from '../layers/tensor.js';

export interface Batch {
  /** [T, N, C] time-major */
  x: Tensor;
  /** [N] class indices */
  labels: Int32Array;
  /** [T, N] time-major per-frame classes, for frame-wise training (keyword spotting); absent for sequence classification */
  targets?: Int32Array;
}

export interface BatchSource {
  readonly count: number;
  batch(indices: Int32Array): Batch;
}
