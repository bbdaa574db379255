// DeltaGRU cell (gaochangw/DeltaRNN's DeltaGRU, DESIGN §3): PyTorch nn.GRU's parameters
// (weight_ih [3H,C], weight_hh [3H,H], bias_ih, bias_hh, gate blocks r, z, n) and state {h}; a
// GRU checkpoint loads as it is. Per step only the input and hidden deltas of at least Θx, Θh
// enter the products; forward and backward run in native/src/cpu/delta_gru.cc.
//
// Initialisation: TorchCell's (PyTorch's U(−1/√H, 1/√H)). The reference initialises Xavier-uniform
// per gate for weight_ih, orthogonal per gate for weight_hh and zero biases, but in evnn a delta
// model is normally retrained from a pretrained GRU checkpoint, which replaces the initial values.
import type { NativeAddon } from '../native/addon.js';
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
  SparsityFigures, StatTotals,
} from './cell.js';
import type { NativeRequest } from './drive.js';
import type { Parameter } from './parameters.js';
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

export interface DeltaGRUCellOptions extends Omit<TorchCellOptions, 'dropconnect'>, Partial<DeltaCellSettings> {}

type DeltaOp = 'deltaGruForward' | 'deltaGruBackward' | 'deltaLstmForward' | 'deltaLstmBackward';

/**
 * drive.ts's `call` for the delta ops. Its NativeRequest type lists the ops it was written with;
 * runSync/runAsync dispatch by name (and `${op}Async`), so these run the same way, typed here.
 */
export function* deltaCall<K extends DeltaOp>(op: K, args: Parameters<NativeAddon[K]>[0]): Generator<NativeRequest, ReturnType<NativeAddon[K]>, unknown> {
  return (yield { op, args } as unknown as NativeRequest) as ReturnType<NativeAddon[K]>;
}

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
    // The backward's products are dense (BPTT through the held masks): macs = macsDense.
    macsBackward: (t.backward.macs ?? 0) / t.samples,
    macsBackwardDense: (t.backward.macsDense ?? 0) / t.samples,
  };
}

/** TorchCell's parameters, initialisation and native arguments, held by a delta cell. */
class TorchParams extends TorchCell {
  constructor(o: TorchCellOptions, gates: number) {
    super(o, gates);
  }
  weights() {
    return this.weightArgs();
  }
  grads() {
    return this.gradArgs();
  }
}

/**
 * What DeltaGRU and DeltaLSTM cells share: PyTorch-style parameters (a TorchCell's), the delta
 * settings, no taps, dense output, and the delta sparsity figures. It holds a TorchCell rather than
 * extending one because TorchCell types sparsity() as a dense family's (always {}).
 */
export abstract class DeltaCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly tapNames: readonly string[] = [];
  readonly emitsEvents = false;
  readonly settings: DeltaCellSettings;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;
  readonly biasHh: Parameter;
  protected readonly torch: TorchParams;

  protected constructor(o: DeltaGRUCellOptions, gates: number, protected readonly owner: string) {
    // Checked first, so a bad option fails before any parameter is allocated.
    this.settings = deltaSettings(o, owner);
    this.torch = new TorchParams(o, gates);
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    ({ weightIh: this.weightIh, weightHh: this.weightHh, biasIh: this.biasIh, biasHh: this.biasHh } = this.torch);
  }

  parameters(): Parameter[] {
    return this.torch.parameters();
  }

  /** Weights, sizes, chunk budget, thresholds and quantisation, as the native forward takes them (qa only outside training, as the reference). */
  protected forwardArgs(training: boolean) {
    const { thetaX, thetaH, qa, aqi, aqf, nqi, nqf, qw, wqi, wqf } = this.settings;
    return { ...this.torch.weights(), thetaX, thetaH, qa: qa && !training, aqi, aqf, nqi, nqf, qw, wqi, wqf };
  }

  /** Weights, sizes and the gradient buffers the backward adds into (its options come from the saved handle). */
  protected backwardArgs() {
    return { ...this.torch.weights(), ...this.torch.grads() };
  }

  sparsity(t: StatTotals): SparsityFigures {
    return deltaSparsity(t);
  }
}

export class DeltaGRUCell extends DeltaCell implements RecurrentCell {
  readonly family = 'deltagru';
  readonly stateNames = ['h'] as const;

  constructor(o: DeltaGRUCellOptions) {
    super(o, 3, 'DeltaGRU');
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    refuseInitialState(this.owner, state0);
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* deltaCall('deltaGruForward', { ...this.forwardArgs(o.training), x: x.data, T, N, training: o.training });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H) }, taps: {}, stats: { ...r.stats },
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* deltaCall('deltaGruBackward', {
      ...this.backwardArgs(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output, dhN: g.state.h ?? null, needDx: needInputGrad,
    });
    // No initial state, so no gradient of one.
    return { input: r.dx, state: {}, stats: { ...r.stats } };
  }
}
