// Batches of GSCv2 feature sequences for the frame classifier: the clips of a batch padded at the
// tail to the longest (zeros in normalised space, as the reference's pad_sequence), time-major
// x [T, N, 16], per-frame targets [T, N] padded with silence (0), and the clip labels [N].
import type { BatchSource } from '../batch-source.js';
import type { FeatureSplit } from './feature-split.js';
import { SILENCE } from './clips.js';

/** Per-channel (or one global) mean and std applied to every frame: (v − mean) / std. */
export interface Normalisation {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * The split's clips as a batch source; `order` lists the clips it serves (a seeded subset when a
 * config limits the split), index i of a batch meaning clip order[i].
 */
export function frameBatchSource(split: FeatureSplit, order: Int32Array, norm: Normalisation, channels: number): BatchSource {
  return {
    count: order.length,
    batch(indices) {
      const N = indices.length;
      let T = 0;
      for (let i = 0; i < N; i++) T = Math.max(T, split.frames[order[indices[i]]]);
      const x = new Float32Array(T * N * channels);
      const targets = new Int32Array(T * N).fill(SILENCE);
      const labels = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        const clip = order[indices[n]];
        const frames = split.frames[clip];
        const start = split.offsets[clip];
        labels[n] = split.labels[clip];
        for (let t = 0; t < frames; t++) {
          const src = (start + t) * channels;
          const dst = (t * N + n) * channels;
          for (let c = 0; c < channels; c++) x[dst + c] = (split.data[src + c] - norm.mean[c]) / norm.std[c];
          targets[t * N + n] = split.targets[start + t];
        }
      }
      return { x: { data: x, shape: [T, N, channels] }, labels, targets };
    },
  };
}
