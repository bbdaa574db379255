// The one interface every recurrent family implements: a single-layer cell over a whole
// sequence (the time loop runs in the engine). A stack (stack.ts) composes cells and never
// branches on the family; models compose stacks and heads. Adding a family means: a native
// header and kernels, a binding table, a cell class implementing this, and a config entry
// (families.ts).
import type { NativeRequest } from './drive.js';
import type { NoiseKey, Saved } from '../native/addon.js';
import type { Parameter } from './parameters.js';

export type { NoiseKey, Saved } from '../native/addon.js';

/** Named [N, H] state tensors: GRU {h}; LSTM {h, c}; EGRU {y} (c restarts at 0, as in EvNN). */
export type CellState = Record<string, Float32Array>;

/** A cell's input sequence, time-major [T, N, C]. */
export interface CellInput {
  data: Float32Array;
  T: number;
  N: number;
  /** The input is an event tensor (mostly zeros): the layer below emits events. */
  events: boolean;
  /** The saved handle of the layer below (its event map limits dx), or null for data. */
  below: Saved | null;
}

export interface CellForwardOptions {
  training: boolean;
  /** Keys the masks the engine draws for this layer (zoneout, DropConnect). */
  noise: NoiseKey | null;
  /** A caller's exact 0/1 masks by name (e.g. zoneout, dropconnect), already checked. */
  masks: Record<string, Uint8Array>;
  /** Which taps to return (others cost nothing). */
  taps: ReadonlySet<string>;
}

/** Counts a cell reports per call for the sparsity logs (events, MACs, ...), by name. */
export type CellStats = Record<string, number>;

export interface CellForward {
  /** [T, N, H] */
  output: Float32Array;
  /** the state after the last step */
  state: CellState;
  /** per-step internals asked for in `taps` ([T, N, H] each), e.g. EGRU c, o, trace */
  taps: Record<string, Float32Array>;
  stats: CellStats | null;
  /** opaque; null outside training */
  saved: CellSaved | null;
}

/** What a cell keeps for its backward: an engine handle plus the sizes it was made with. */
export interface CellSaved {
  handle: Saved;
  T: number;
  N: number;
  /** the input's `below` (the lower layer's handle), for the backward's dx */
  below: Saved | null;
}

export interface CellGradients {
  /** dL/d output [T, N, H], or null */
  output: Float32Array | null;
  /** dL/d final state by name, each [N, H] or absent */
  state: Partial<CellState>;
  /** dL/d taps by name ([T, N, H]), e.g. a regulariser's gradient into o */
  taps: Partial<Record<string, Float32Array>>;
}

export interface CellBackward {
  /** dL/d input [T, N, C], or null when not asked for */
  input: Float32Array | null;
  /** dL/d initial state by name */
  state: CellState;
  stats: CellStats | null;
}

/** Per-layer sparsity figures of one epoch, in sparsity.arrow's schema (absent = not this family's). */
export interface SparsityFigures {
  activity?: number;
  backwardSparsity?: number;
  activeFraction?: number;
  deltaXZero?: number;
  deltaHZero?: number;
  /** delta networks: zeros of Δx and Δh over the entries of both (the reference's SP_T_DV) */
  deltaZero?: number;
  macsForward?: number;
  macsForwardDense?: number;
  macsBackward?: number;
  macsBackwardDense?: number;
}

/** Sums of a layer's forward and backward stats over an epoch's batches. */
export interface StatTotals {
  forward: CellStats;
  backward: CellStats;
  /** Σ T·N·H over the batches */
  units: number;
  /** Σ N */
  samples: number;
}

export type CellSteps<R> = Generator<NativeRequest, R, unknown>;

export interface RecurrentCell {
  /** 'gru' | 'lstm' | 'egru' | ... (for messages and sparsity rows only; nothing branches on it) */
  readonly family: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** names of the state tensors, in order (h0 of a GRU is state 'h') */
  readonly stateNames: readonly string[];
  /** names of the taps the cell can return */
  readonly tapNames: readonly string[];
  /** its output is an event tensor (mostly zeros) */
  readonly emitsEvents: boolean;
  parameters(): Parameter[];
  forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward>;
  /** Adds the parameter gradients into each parameter's grad buffer (+=). */
  backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward>;
  /** The epoch's sparsity figures from the summed stats; {} for a dense family. */
  sparsity(t: StatTotals): SparsityFigures;
}
