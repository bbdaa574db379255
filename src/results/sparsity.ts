// sparsity.arrow: one row per epoch and sparse layer, in one schema every family fills with what
// it has (NaN in the others):
//   epoch, layer (rnn.0, ...), family (egru, ...),
//   activity            fraction of (step, sample, unit) emitting: EGRU events, LIF spike rate
//   backward_sparsity   EGRU: fraction outside both the events and the surrogate support
//   active_fraction     LIF/S3GD: fraction of (b, t, j) inside the surrogate band
//   delta_x_zero, delta_h_zero   delta networks: fractions of zero Δx and Δh
//   macs_forward, macs_forward_dense, macs_backward, macs_backward_dense
//                       multiply-accumulates per training sequence, done vs a dense layer's
// Dense models write it with no rows, so every run directory has the same files.
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { LayerSparsity } from '../models/sparsity-meter.js';
import { RowTable } from './row-table.js';

export type SparsityRow = {
  epoch: number;
  layer: string;
  family: string;
  activity: number;
  backward_sparsity: number;
  active_fraction: number;
  delta_x_zero: number;
  delta_h_zero: number;
  macs_forward: number;
  macs_forward_dense: number;
  macs_backward: number;
  macs_backward_dense: number;
};

export class SparsityTable extends RowTable<SparsityRow> {
  constructor() {
    super({
      epoch: 'int32', layer: 'utf8', family: 'utf8', activity: 'float64', backward_sparsity: 'float64',
      active_fraction: 'float64', delta_x_zero: 'float64', delta_h_zero: 'float64', macs_forward: 'float64',
      macs_forward_dense: 'float64', macs_backward: 'float64', macs_backward_dense: 'float64',
    });
  }

  /** Reads a sparsity.arrow; one written before the schema had family and the other families' columns reads with NaN there. */
  static read(file: string): SparsityTable {
    const t = new SparsityTable();
    if (!isLegacy(file)) return t.load(file);
    t.appendAll(new RowTable<LegacySparsityRow>(LEGACY_COLUMNS).load(file).rows.map((r) => ({
      ...r, family: 'egru', active_fraction: NaN, delta_x_zero: NaN, delta_h_zero: NaN,
    })));
    return t;
  }
}

// The EGRU-only schema of evnn 0.1.0 before the layer-design change (only EGRUs wrote rows then).
type LegacySparsityRow = Omit<SparsityRow, 'family' | 'active_fraction' | 'delta_x_zero' | 'delta_h_zero'>;
const LEGACY_COLUMNS = {
  epoch: 'int32', layer: 'utf8', activity: 'float64', backward_sparsity: 'float64', macs_forward: 'float64',
  macs_forward_dense: 'float64', macs_backward: 'float64', macs_backward_dense: 'float64',
} as const;

function isLegacy(file: string): boolean {
  try {
    return !tableFromIPC(readFileSync(file)).schema.fields.some((f) => f.name === 'family');
  } catch {
    return false; // unreadable: the strict reader reports it
  }
}

export function sparsityRow(epoch: number, s: LayerSparsity): SparsityRow {
  const v = (x: number | undefined) => x ?? NaN;
  return {
    epoch, layer: s.layer, family: s.family, activity: v(s.activity), backward_sparsity: v(s.backwardSparsity),
    active_fraction: v(s.activeFraction), delta_x_zero: v(s.deltaXZero), delta_h_zero: v(s.deltaHZero),
    macs_forward: v(s.macsForward), macs_forward_dense: v(s.macsForwardDense), macs_backward: v(s.macsBackward),
    macs_backward_dense: v(s.macsBackwardDense),
  };
}
