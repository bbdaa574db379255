// The (step, channel) pairs of sample b in a SpikeEvents batch, in step order: what the event
// datasets' batch tests compare.
import type { SpikeEvents } from '../../src/layers/tensor.js';

export function spikeCells(ev: SpikeEvents, b: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < ev.T; t++) {
    const r = b * ev.T + t;
    for (let k = ev.offsets[r]; k < ev.offsets[r + 1]; k++) out.push([t, ev.index[k]]);
  }
  return out;
}
