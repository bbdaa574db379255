// EGRU cell (Subramoney et al., ICLR 2023) with EvNN's names, layouts, initialisation and
// options: kernel [C,3H], recurrent_kernel [H,3H], bias [3H], recurrent_bias [3H], thr [H] (gate
// blocks z, r, g); state {y} (a given state sets y_0 only; c restarts at 0, as in EvNN); taps c,
// o and the output trace. Everything arithmetic — threshold clamping, zoneout and DropConnect
// masks, per-layer clipping, the event-driven products — runs in native/src/cpu/egru.cc.
import type { Rng } from '../util/rng.js';
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
  SparsityFigures, StatTotals,
} from './cell.js';
import { call } from './drive.js';
import { makeParameter, type Parameter } from './parameters.js';

/** EvNN's EGRU options (evnn_pytorch.EGRU) and their defaults. */
export interface EGRUCellSettings {
  /** Mean μ of the initial thresholds, drawn from Beta(3μ/(1−μ), 3). */
  thrMean: number;
  /** γ of the surrogate γ·max(0, 1 − ε|v|). */
  dampeningFactor: number;
  /** ε of the surrogate (its support is |v| < 1/ε). */
  pseudoDerivativeSupport: number;
  /** Zoneout probability (training: a 0/1 keep-mask per step, unit and sample). */
  zoneout: number;
  /** DropConnect probability on recurrent_kernel (one mask per forward, scaled 1/(1−p)). */
  dropconnect: number;
  /** EvNN's per-layer gradient clipping (L2 norm of the layer's parameter and initial-state gradients); 0 = off. */
  gradClip: number;
  /** Gain of the Xavier-normal initialisation of kernel and recurrent_kernel. */
  weightInitGain: number;
}

export const EGRU_DEFAULTS: EGRUCellSettings = {
  thrMean: 0.3,
  dampeningFactor: 0.7,
  pseudoDerivativeSupport: 1.0,
  zoneout: 0,
  dropconnect: 0,
  gradClip: 0,
  weightInitGain: 1.0,
};

export interface EGRUCellOptions extends Partial<EGRUCellSettings> {
  inputSize: number;
  hiddenSize: number;
  name: (local: string) => string;
  /** Draws the initialisation: Xavier-normal weights, then Beta thresholds. */
  init: Rng;
  chunkFloats?: number;
}

/** Checks EGRU settings, naming the option (RangeError); returns them with defaults filled in. */
export function egruSettings(o: Partial<EGRUCellSettings>, owner = 'EGRU'): EGRUCellSettings {
  const s: EGRUCellSettings = { ...EGRU_DEFAULTS };
  for (const k of Object.keys(EGRU_DEFAULTS) as (keyof EGRUCellSettings)[]) if (o[k] !== undefined) s[k] = o[k]!;
  if (!(s.thrMean > 0 && s.thrMean < 1)) throw new RangeError(`${owner}: thrMean must be in (0, 1), got ${s.thrMean}`);
  for (const k of ['zoneout', 'dropconnect'] as const) {
    if (!(s[k] >= 0 && s[k] < 1)) throw new RangeError(`${owner}: ${k} must be in [0, 1), got ${s[k]}`);
  }
  for (const k of ['dampeningFactor', 'pseudoDerivativeSupport', 'gradClip', 'weightInitGain'] as const) {
    if (!(Number.isFinite(s[k]) && s[k] >= 0)) throw new RangeError(`${owner}: ${k} must be a finite number >= 0, got ${s[k]}`);
  }
  return s;
}

export class EGRUCell implements RecurrentCell {
  readonly family = 'egru';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateNames = ['y'] as const;
  readonly tapNames = ['c', 'o', 'trace'] as const;
  readonly emitsEvents = true;
  readonly settings: EGRUCellSettings;
  readonly kernel: Parameter;
  readonly recurrentKernel: Parameter;
  readonly bias: Parameter;
  readonly recurrentBias: Parameter;
  readonly thr: Parameter;
  private readonly chunkFloats: number;

  constructor(o: EGRUCellOptions) {
    const C = o.inputSize;
    const H = o.hiddenSize;
    this.inputSize = C;
    this.hiddenSize = H;
    this.settings = egruSettings(o);
    this.chunkFloats = o.chunkFloats ?? 0;
    this.kernel = makeParameter(o.name('kernel'), [C, 3 * H]);
    this.recurrentKernel = makeParameter(o.name('recurrent_kernel'), [H, 3 * H]);
    this.bias = makeParameter(o.name('bias'), [3 * H]);
    this.recurrentBias = makeParameter(o.name('recurrent_bias'), [3 * H]);
    this.thr = makeParameter(o.name('thr'), [H]);
    // EvNN: Xavier-normal weights, zero biases, thresholds ~ Beta(3μ/(1−μ), 3) (mean μ).
    const gain = this.settings.weightInitGain;
    for (const w of [this.kernel, this.recurrentKernel]) {
      const std = gain * Math.sqrt(2 / (w.shape[0] + w.shape[1]));
      for (let i = 0; i < w.data.length; i++) w.data[i] = o.init.normal() * std;
    }
    const a = (3 * this.settings.thrMean) / (1 - this.settings.thrMean);
    for (let i = 0; i < H; i++) this.thr.data[i] = o.init.beta(a, 3);
  }

  parameters(): Parameter[] {
    return [this.kernel, this.recurrentKernel, this.bias, this.recurrentBias, this.thr];
  }

  private args() {
    return {
      kernel: this.kernel.tensor, recurrentKernel: this.recurrentKernel.tensor, bias: this.bias.tensor,
      recurrentBias: this.recurrentBias.tensor, thr: this.thr.tensor, C: this.inputSize, H: this.hiddenSize,
      chunkFloats: this.chunkFloats,
    };
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    const { T, N } = x;
    const H = this.hiddenSize;
    const s = this.settings;
    const r = yield* call('egruForward', {
      ...this.args(), x: x.data, y0: state0.y ?? null, T, N, training: o.training,
      zoneoutMask: o.masks.zoneout ?? null, dropconnectMask: o.masks.dropconnect ?? null, noise: o.noise,
      zoneout: s.zoneout, dropconnect: s.dropconnect, dampening: s.dampeningFactor, support: s.pseudoDerivativeSupport,
      sparseInput: x.events, keepO: o.taps.has('o'), keepTrace: o.taps.has('trace'),
    });
    const taps: Record<string, Float32Array> = {};
    if (o.taps.has('c')) taps.c = r.c;
    if (r.o) taps.o = r.o;
    if (r.trace) taps.trace = r.trace;
    return {
      output: r.y, state: { y: r.y.slice((T - 1) * N * H, T * N * H) }, taps, stats: { ...r.stats },
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('egruBackward', {
      ...this.args(), saved: saved.handle, below: saved.below, dxActive: null, T: saved.T, N: saved.N,
      dy: g.output, dyN: g.state.y ?? null, dc: g.taps.c ?? null, do: g.taps.o ?? null, dtrace: g.taps.trace ?? null,
      gradClip: this.settings.gradClip,
      dKernel: this.kernel.gradTensor, dRecurrentKernel: this.recurrentKernel.gradTensor, dBias: this.bias.gradTensor,
      dRecurrentBias: this.recurrentBias.gradTensor, dThr: this.thr.gradTensor, needDx: needInputGrad, needDy0: true,
    });
    return { input: r.dx, state: { y: r.dy0! }, stats: { ...r.stats } };
  }

  sparsity(t: StatTotals): SparsityFigures {
    if (t.samples === 0) return {};
    return {
      activity: (t.forward.events ?? 0) / t.units,
      backwardSparsity: 1 - (t.forward.backwardActive ?? 0) / t.units,
      macsForward: (t.forward.macs ?? 0) / t.samples,
      macsForwardDense: (t.forward.macsDense ?? 0) / t.samples,
      macsBackward: (t.backward.macs ?? 0) / t.samples,
      macsBackwardDense: (t.backward.macsDense ?? 0) / t.samples,
    };
  }
}
