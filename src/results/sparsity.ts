// sparsity.arrow: one row per epoch and sparse layer. Dense models write it with no rows, so
// every run directory has the same files.
import type { LayerSparsity } from '../models/sequence-classifier.js';
import { RowTable } from './row-table.js';

export type SparsityRow = {
  epoch: number;
  layer: string;
  activity: number;
  backward_sparsity: number;
  macs_forward: number;
  macs_forward_dense: number;
  macs_backward: number;
  macs_backward_dense: number;
};

export class SparsityTable extends RowTable<SparsityRow> {
  constructor() {
    super({
      epoch: 'int32', layer: 'utf8', activity: 'float64', backward_sparsity: 'float64', macs_forward: 'float64',
      macs_forward_dense: 'float64', macs_backward: 'float64', macs_backward_dense: 'float64',
    });
  }

  static read(file: string): SparsityTable {
    return new SparsityTable().load(file);
  }
}

export function sparsityRow(epoch: number, s: LayerSparsity): SparsityRow {
  return {
    epoch, layer: s.layer, activity: s.activity, backward_sparsity: s.backwardSparsity, macs_forward: s.macsForward,
    macs_forward_dense: s.macsForwardDense, macs_backward: s.macsBackward, macs_backward_dense: s.macsBackwardDense,
  };
}
