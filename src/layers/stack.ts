// A stack of recurrent cells: per-layer sizes, dropout between layers, the event hand-off (a
// layer that emits events feeds the next as an event input, and its event map limits the next
// layer's dx), per-layer taps for regularisers and sparsity. It never branches on the family.
import type { NoiseKey, Saved } from '../native/addon.js';
import type { CellGradients, CellSaved, CellState, CellStats, RecurrentCell } from './cell.js';
import { call, type LayerSteps } from './drive.js';
import type { Parameter } from './parameters.js';

export interface StackForwardOptions {
  training: boolean;
  /** initial state per layer (absent: zeros) */
  state0?: readonly (Partial<CellState> | undefined)[];
  /** keys the engine's masks; each layer adds its index */
  noise?: Omit<NoiseKey, 'layer'> | null;
  /** a caller's exact 0/1 masks per layer, by name */
  masks?: readonly (Record<string, Uint8Array> | undefined)[];
  /** taps to return per layer */
  taps?: readonly (ReadonlySet<string> | undefined)[];
}

export interface StackSaved {
  T: number;
  N: number;
  layers: CellSaved[];
  /** dropout handle after layer l (null where there is none) */
  drops: (Saved | null)[];
}

export interface StackForward {
  /** last layer's output [T, N, H_last] */
  output: Float32Array;
  /** final state per layer */
  states: CellState[];
  taps: Record<string, Float32Array>[];
  stats: (CellStats | null)[];
  saved: StackSaved | null;
}

export interface StackGradients {
  output: Float32Array | null;
  /** dL/d final state per layer */
  states?: readonly (Partial<CellState> | undefined)[];
  /** dL/d taps per layer */
  taps?: readonly (Partial<Record<string, Float32Array>> | undefined)[];
}

export interface StackBackward {
  input: Float32Array | null;
  /** dL/d initial state per layer */
  states: CellState[];
  stats: (CellStats | null)[];
}

const NO_TAPS: ReadonlySet<string> = new Set();

export class RecurrentStack {
  readonly cells: readonly RecurrentCell[];
  /** dropout probability on every layer's output but the last (as nn.GRU's dropout) */
  readonly dropout: number;
  /** what a dropout mask element covers: 0 one (t, n, h); 1 one (t, h), shared across the batch (EvNN's LM); 2 one (n, h), shared across time (locked) */
  readonly dropoutShare: 0 | 1 | 2;

  constructor(cells: readonly RecurrentCell[], o: { dropout?: number; dropoutShare?: 0 | 1 | 2 } = {}) {
    if (cells.length === 0) throw new RangeError('RecurrentStack: needs at least one cell');
    cells.forEach((c, l) => {
      if (l > 0 && c.inputSize !== cells[l - 1].hiddenSize) {
        throw new RangeError(`RecurrentStack: layer ${l} takes ${c.inputSize} inputs but layer ${l - 1} gives ${cells[l - 1].hiddenSize}`);
      }
    });
    this.dropout = o.dropout ?? 0;
    this.dropoutShare = o.dropoutShare ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new RangeError(`RecurrentStack: dropout must be in [0, 1), got ${this.dropout}`);
    this.cells = cells;
  }

  get numLayers(): number {
    return this.cells.length;
  }

  get inputSize(): number {
    return this.cells[0].inputSize;
  }

  get outputSize(): number {
    return this.cells[this.cells.length - 1].hiddenSize;
  }

  parameters(): Parameter[] {
    return this.cells.flatMap((c) => c.parameters());
  }

  /** x: time-major [T, N, inputSize]. */
  *forward(x: Float32Array, T: number, N: number, o: StackForwardOptions): LayerSteps<StackForward> {
    const L = this.cells.length;
    const saved: StackSaved = { T, N, layers: [], drops: [] };
    const out: StackForward = { output: x, states: [], taps: [], stats: [], saved: null };
    let input = { data: x, T, N, events: false, below: null as Saved | null };
    for (let l = 0; l < L; l++) {
      const cell = this.cells[l];
      const noise = o.noise ? { ...o.noise, layer: l } : null;
      const state0 = o.state0?.[l] ?? {};
      for (const k of Object.keys(state0)) {
        if (state0[k] && !cell.stateNames.includes(k)) {
          throw new RangeError(`RecurrentStack: layer ${l} (${cell.family}) has no state '${k}' (its states: ${cell.stateNames.join(', ')})`);
        }
      }
      const r = yield* cell.forward(input, state0, {
        training: o.training, noise, masks: o.masks?.[l] ?? {}, taps: o.taps?.[l] ?? NO_TAPS,
      });
      out.states.push(r.state);
      out.taps.push(r.taps);
      out.stats.push(r.stats);
      if (r.saved) saved.layers.push(r.saved);
      let y = r.output;
      let drop: Saved | null = null;
      if (l < L - 1 && this.dropout > 0 && o.training) {
        const d = yield* call('dropoutForward', { x: y, T, N, H: cell.hiddenSize, p: this.dropout, share: this.dropoutShare, training: true, noise });
        y = d.y;
        drop = d.saved;
      }
      saved.drops.push(drop);
      input = { data: y, T, N, events: cell.emitsEvents, below: r.saved?.handle ?? null };
    }
    out.output = input.data;
    out.saved = o.training ? saved : null;
    return out;
  }

  /**
   * Adds every parameter gradient into its grad buffer; returns dL/dx (when asked) and the
   * initial-state gradients. With `release`, each layer's engine-held state is freed as soon as
   * its backward is done (a training step; a library caller may run backward again instead).
   */
  *backward(saved: StackSaved, g: StackGradients, needInputGrad: boolean, release = false): LayerSteps<StackBackward> {
    const L = this.cells.length;
    const states: CellState[] = new Array<CellState>(L);
    const stats: (CellStats | null)[] = new Array<CellStats | null>(L);
    let dy = g.output;
    let dx: Float32Array | null = null;
    for (let l = L - 1; l >= 0; l--) {
      const grads: CellGradients = { output: dy, state: g.states?.[l] ?? {}, taps: g.taps?.[l] ?? {} };
      const r = yield* this.cells[l].backward(saved.layers[l], grads, l > 0 || needInputGrad);
      states[l] = r.state;
      stats[l] = r.stats;
      dx = r.input;
      const drop = l > 0 ? saved.drops[l - 1] : null;
      if (drop && dx) dx = (yield* call('dropoutBackward', { saved: drop, dy: dx, T: saved.T, N: saved.N, H: this.cells[l - 1].hiddenSize })).dx;
      // Layer l's handle was the `below` of layer l + 1, whose backward has run.
      if (release) {
        saved.layers[l].handle.release();
        drop?.release();
      }
      dy = dx;
    }
    return { input: needInputGrad ? dx : null, states, stats };
  }
}
