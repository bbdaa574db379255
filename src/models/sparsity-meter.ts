// Accumulates an EGRU stack's event counts and work over an epoch's training batches and turns
// them into the per-layer figures of sparsity.arrow (MACs per training sequence).
import type { EgruStats } from '../native/addon.js';

/** Per-layer sparsity figures for one epoch (empty for dense layers). */
export interface LayerSparsity {
  layer: string;
  /** mean of o: fraction of (step, sample, unit) that emitted an event */
  activity: number;
  /** fraction of units outside both the event set and the surrogate support */
  backwardSparsity: number;
  /** multiply-accumulates per training sequence, event-driven and dense */
  macsForward: number;
  macsForwardDense: number;
  macsBackward: number;
  macsBackwardDense: number;
}

interface Totals {
  events: number;
  active: number;
  units: number;
  macsF: number;
  macsFDense: number;
  macsB: number;
  macsBDense: number;
}

const empty = (): Totals => ({ events: 0, active: 0, units: 0, macsF: 0, macsFDense: 0, macsB: 0, macsBDense: 0 });

export class SparsityMeter {
  private totals: Totals[];
  private samples = 0;

  constructor(private readonly layerNames: readonly string[]) {
    this.totals = layerNames.map(empty);
  }

  /** One training batch: forward and backward stats per layer, units = T·N·H, samples = N. */
  add(forward: readonly EgruStats[], backward: readonly EgruStats[], units: number, samples: number): void {
    forward.forEach((f, l) => {
      const t = this.totals[l];
      t.events += f.events;
      t.active += f.backwardActive;
      t.units += units;
      t.macsF += f.macs;
      t.macsFDense += f.macsDense;
      t.macsB += backward[l].macs;
      t.macsBDense += backward[l].macsDense;
    });
    this.samples += samples;
  }

  /** The figures since the last call (none when no batch was added), then starts over. */
  take(): LayerSparsity[] {
    if (this.samples === 0) return [];
    const s = this.samples;
    const rows = this.totals.map((t, l) => ({
      layer: this.layerNames[l],
      activity: t.events / t.units,
      backwardSparsity: 1 - t.active / t.units,
      macsForward: t.macsF / s,
      macsForwardDense: t.macsFDense / s,
      macsBackward: t.macsB / s,
      macsBackwardDense: t.macsBDense / s,
    }));
    this.totals = this.layerNames.map(empty);
    this.samples = 0;
    return rows;
  }
}
