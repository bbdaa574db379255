// What a classification dataset serves the training loop: a count and a way to build a
// time-major batch of given sample indices.
import type { Tensor } from '../layers/tensor.js';

export interface Batch {
  /** [T, N, C] time-major */
  x: Tensor;
  /** [N] class indices */
  labels: Int32Array;
}

export interface BatchSource {
  readonly count: number;
  batch(indices: Int32Array): Batch;
}
