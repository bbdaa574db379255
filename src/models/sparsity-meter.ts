// Sums each layer's per-call stats over an epoch's training batches and turns them, through the
// layer's own cell, into the rows of sparsity.arrow (one schema for every family; dense layers
// report nothing and get no row).
import type { CellStats, RecurrentCell, SparsityFigures, StatTotals } from '../layers/cell.js';

/** Per-layer sparsity figures for one epoch. */
export interface LayerSparsity extends SparsityFigures {
  layer: string;
  family: string;
}

const emptyTotals = (): StatTotals => ({ forward: {}, backward: {}, units: 0, samples: 0 });

function addInto(into: CellStats, s: CellStats | null): void {
  if (!s) return;
  for (const [k, v] of Object.entries(s)) into[k] = (into[k] ?? 0) + v;
}

export class SparsityMeter {
  private totals: StatTotals[];

  constructor(private readonly cells: readonly RecurrentCell[], private readonly layerNames: readonly string[]) {
    this.totals = cells.map(emptyTotals);
  }

  /** One training batch: forward and backward stats per layer over T steps of N samples. */
  add(forward: readonly (CellStats | null)[], backward: readonly (CellStats | null)[], T: number, N: number): void {
    this.totals.forEach((t, l) => {
      addInto(t.forward, forward[l]);
      addInto(t.backward, backward[l]);
      t.units += T * N * this.cells[l].hiddenSize;
      t.samples += N;
    });
  }

  /** The figures since the last call (none when no batch was added), then starts over. */
  take(): LayerSparsity[] {
    const rows: LayerSparsity[] = [];
    this.totals.forEach((t, l) => {
      const f = this.cells[l].sparsity(t);
      if (Object.keys(f).length > 0) rows.push({ layer: this.layerNames[l], family: this.cells[l].family, ...f });
    });
    this.totals = this.cells.map(emptyTotals);
    return rows;
  }
}

/** Mean activity over the layers that report one, for one batch's forward stats; undefined if none does. */
export function batchActivity(cells: readonly RecurrentCell[], forward: readonly (CellStats | null)[], T: number, N: number): number | undefined {
  const values = cells
    .map((c, l) => c.sparsity({ forward: forward[l] ?? {}, backward: {}, units: T * N * c.hiddenSize, samples: N }).activity)
    .filter((a): a is number => a !== undefined);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}
