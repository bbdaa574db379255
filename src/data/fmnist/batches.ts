// Batches of latency-coded images as SpikeEvents: the spikes were computed once per split
// (latency.ts), so a batch only lays out each image's spikes into rows b·T + t, which costs one
// pass over the batch's spikes.
import type { BatchSource } from '../batch-source.js';
import { MNIST_PIXELS } from '../idx.js';
import type { LatencySpikes } from './latency.js';

export function latencyBatchSource(labels: Int8Array, spikes: LatencySpikes, T: number): BatchSource {
  if (labels.length !== spikes.count) throw new RangeError(`latencyBatchSource: ${labels.length} labels for ${spikes.count} images`);
  const count = spikes.count;
  const { start, keys } = spikes;
  return {
    count,
    batch(indices) {
      const B = indices.length;
      let total = 0;
      for (let b = 0; b < B; b++) {
        const i = indices[b];
        if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`sample index ${i} is outside 0..${count - 1}`);
        total += start[i + 1] - start[i];
      }
      const offsets = new Int32Array(B * T + 1);
      const index = new Int32Array(total);
      const out = new Int32Array(B);
      let n = 0;
      for (let b = 0; b < B; b++) {
        const i = indices[b];
        out[b] = labels[i];
        const end = start[i + 1];
        // Keys ascend by step, then pixel: rows fill in order and channels come out ascending.
        for (let k = start[i]; k < end; k++) {
          const key = keys[k];
          const step = Math.floor(key / MNIST_PIXELS);
          offsets[b * T + step + 1]++;
          index[n++] = key - step * MNIST_PIXELS;
        }
      }
      for (let r = 0; r < B * T; r++) offsets[r + 1] += offsets[r];
      return { events: { B, T, C: MNIST_PIXELS, offsets, index }, labels: out };
    },
  };
}
