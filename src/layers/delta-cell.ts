// What the delta families (gaochangw/DeltaRNN's DeltaGRU and DeltaLSTM) share: their settings
// (thresholds, fixed-point emulation) with the reference's defaults, the rule that they start at
// zero, their sparsity figures, and a TorchCell base with PyTorch's parameter names.
//
// Initialisation: TorchCell's (PyTorch's U(−1/√H, 1/√H)). The reference initialises Xavier-uniform
// per gate for weight_ih, orthogonal per gate for weight_hh and zero biases, but in evnn a delta
// model is normally retrained from a pretrained GRU/LSTM checkpoint, which replaces the initial values.
import type { CellState, SparsityFigures, StatTotals } from './cell.js';
import { TorchCell, type TorchCellOptions } from './torch-cell.js';

/** The reference's DeltaGRU/DeltaLSTM options: thresholds and fixed-point emulation. */
export interface DeltaCellSettings {
  /** Θx: input deltas with |Δx| < Θx are zeroed (>= 0). */
  thetaX: number;
  /** Θh: hidden deltas with |Δh| < Θh are zeroed (>= 0). */
  thetaH: number;
  /** Fixed-point activations, in evaluation only (the reference's qa: training forwards run in float). */
  qa: boolean;
  /** Activation format qi.qf (qi counts the sign bit). */
  aqi: number;
  aqf: number;
  /** Sigmoid/tanh output format. */
  nqi: number;
  nqf: number;
  /** Weight quantisation: the memories start at the quantised bias sums; the training loop quantises the weights after each epoch. */
  qw: boolean;
  /** Weight format. */
  wqi: number;
  wqf: number;
}

export const DELTA_DEFAULTS: DeltaCellSettings = {
  thetaX: 0, thetaH: 0, qa: false, aqi: 3, aqf: 5, nqi: 2, nqf: 6, qw: false, wqi: 1, wqf: 7,
};

/** Checks delta settings, naming the option (RangeError); returns them with defaults filled in. */
export function deltaSettings(o: Partial<DeltaCellSettings>, owner: string): DeltaCellSettings {
  const s: DeltaCellSettings = { ...DELTA_DEFAULTS };
  for (const k of Object.keys(DELTA_DEFAULTS) as (keyof DeltaCellSettings)[]) {
    if (o[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = o[k];
  }
  for (const k of ['thetaX', 'thetaH'] as const) {
    if (!(Number.isFinite(s[k]) && s[k] >= 0)) throw new RangeError(`${owner}: ${k} must be a finite number >= 0, got ${s[k]}`);
  }
  for (const [qi, qf] of [['aqi', 'aqf'], ['nqi', 'nqf'], ['wqi', 'wqf']] as const) {
    if (!(Number.isInteger(s[qi]) && Number.isInteger(s[qf]) && s[qi] >= 1 && s[qf] >= 0 && s[qi] + s[qf] <= 24)) {
      throw new RangeError(`${owner}: ${qi}.${qf} must be integers with ${qi} >= 1 and ${qi} + ${qf} <= 24, got ${s[qi]}.${s[qf]}`);
    }
  }
  return s;
}

export interface DeltaCellOptions extends Omit<TorchCellOptions, 'dropconnect'>, Partial<DeltaCellSettings> {}

/** DeltaGRU/DeltaLSTM start every sequence at zero (the reference has no initial state). */
export function refuseInitialState(owner: string, state0: Partial<CellState>): void {
  const given = Object.keys(state0).filter((k) => state0[k] !== undefined);
  if (given.length > 0) {
    throw new RangeError(`${owner}: no initial state (${given.join(', ')} given): a delta network starts every sequence at zero, as the reference`);
  }
}

/** The epoch's figures of a delta layer from its summed forward and backward stats. */
export function deltaSparsity(t: StatTotals): SparsityFigures {
  if (t.samples === 0) return {};
  const f = t.forward;
  const frac = (zeros: string, total: string) => ((f[total] ?? 0) > 0 ? (f[zeros] ?? 0) / f[total] : 0);
  return {
    deltaXZero: frac('dxZeros', 'dxTotal'),
    deltaHZero: frac('dhZeros', 'dhTotal'),
    deltaZero: (f.dxTotal ?? 0) + (f.dhTotal ?? 0) > 0 ? ((f.dxZeros ?? 0) + (f.dhZeros ?? 0)) / ((f.dxTotal ?? 0) + (f.dhTotal ?? 0)) : 0,
    macsForward: (f.macs ?? 0) / t.samples,
    macsForwardDense: (f.macsDense ?? 0) / t.samples,
    // The backward runs the event-driven products when they cost less than the dense ones: macs ≤ macsDense.
    macsBackward: (t.backward.macs ?? 0) / t.samples,
    macsBackwardDense: (t.backward.macsDense ?? 0) / t.samples,
  };
}

/**
 * What DeltaGRU and DeltaLSTM cells share: PyTorch-style parameters and initialisation (a
 * TorchCell's), the delta settings, and the delta sparsity figures.
 */
export abstract class DeltaCell extends TorchCell {
  readonly settings: DeltaCellSettings;
  protected readonly owner: string;

  protected constructor(o: DeltaCellOptions, gates: number, owner: string) {
    // Checked first, so a bad option fails before any parameter is allocated.
    const settings = deltaSettings(o, owner);
    super(o, gates);
    this.settings = settings;
    this.owner = owner;
  }

  /** Weights, sizes, chunk budget, thresholds and quantisation, as the native forward takes them (qa only outside training, as the reference). */
  protected forwardArgs(training: boolean) {
    const { thetaX, thetaH, qa, aqi, aqf, nqi, nqf, qw, wqi, wqf } = this.settings;
    return { ...this.weightArgs(), thetaX, thetaH, qa: qa && !training, aqi, aqf, nqi, nqf, qw, wqi, wqf };
  }

  /** Weights, sizes and the gradient buffers the backward adds into (its options come from the saved handle). */
  protected backwardArgs() {
    return { ...this.weightArgs(), ...this.gradArgs() };
  }

  override sparsity(t: StatTotals): SparsityFigures {
    return deltaSparsity(t);
  }
}
