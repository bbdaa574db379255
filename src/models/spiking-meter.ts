// Per-layer statistics of a spiking classifier summed over batches, turned into sparsity.arrow's
// rows (src/results/sparsity.ts): activity = spike rate (spikes / (B·T·H)), active_fraction =
// neuron-steps inside the S3GD band / (B·T·H), and the forward and backward multiply-accumulates
// per sequence, done vs the dense layer's. Rows of evaluation passes carry no backward figures.
import type { LIFBackwardStats, LIFForwardStats } from '../layers/lif.js';
import type { LayerSparsity } from './sparsity-meter.js';

interface Totals {
  spikes: number;
  active: number;
  neuronSteps: number;
  macsForward: number;
  macsForwardDense: number;
  macsBackward: number;
  macsBackwardDense: number;
  samples: number;
  backwardCalls: number;
}

const empty = (): Totals => ({
  spikes: 0, active: 0, neuronSteps: 0, macsForward: 0, macsForwardDense: 0, macsBackward: 0, macsBackwardDense: 0, samples: 0, backwardCalls: 0,
});

/** The spike rate of one forward call. */
export function spikeRate(s: LIFForwardStats): number {
  return s.neuronSteps > 0 ? s.spikes / s.neuronSteps : 0;
}

export class SpikingMeter {
  private totals: Totals[];

  constructor(private readonly layerNames: readonly string[]) {
    this.totals = layerNames.map(empty);
  }

  /** One batch of B samples: each layer's forward stats and (training) its backward stats. */
  add(forward: readonly LIFForwardStats[], backward: readonly LIFBackwardStats[] | null, B: number): void {
    this.totals.forEach((t, l) => {
      const f = forward[l];
      t.spikes += f.spikes;
      t.active += f.active;
      t.neuronSteps += f.neuronSteps;
      t.macsForward += f.macs;
      t.macsForwardDense += f.macsDense;
      t.samples += B;
      if (backward) {
        t.macsBackward += backward[l].macs;
        t.macsBackwardDense += backward[l].macsDense;
        t.backwardCalls++;
      }
    });
  }

  /** The rows since the last call (none when no batch was added), then starts over. */
  take(): LayerSparsity[] {
    const rows: LayerSparsity[] = [];
    this.totals.forEach((t, l) => {
      if (t.samples === 0) return;
      const row: LayerSparsity = {
        layer: this.layerNames[l], family: 'lif', activity: t.spikes / t.neuronSteps, activeFraction: t.active / t.neuronSteps,
        macsForward: t.macsForward / t.samples, macsForwardDense: t.macsForwardDense / t.samples,
      };
      if (t.backwardCalls > 0) {
        row.macsBackward = t.macsBackward / t.samples;
        row.macsBackwardDense = t.macsBackwardDense / t.samples;
      }
      rows.push(row);
    });
    this.totals = this.layerNames.map(empty);
    return rows;
  }
}
