// LIF spiking layer (DESIGN §3 "LIF spiking layers and S3GD", issue 9), as the S3GD reference
// (npvoid/SparseSpikingBackprop) computes it: batch-major x [B,T,I], one parameter w [I,H] used
// as x_t @ w, a one-step delay, reset by subtraction without gradient, the SuperSpike surrogate,
// and either dense BPTT or the S3GD backward over the active set (b_th < mem < 2ϑ − b_th). The
// arithmetic is the engine's (native/include/evnn/lif.h); this class marshals the calls.
// Its sync and async calls share one code path: generator steps (drive.ts's LayerSteps) that
// yield native requests, answered by runSync (blocking) or runAsync (worker threads).
import type { LifBackwardArgs, LifBackwardResult, LifForwardArgs, LifForwardResult, Saved } from '../native/addon.js';
import { call, runAsync, runSync, type LayerSteps } from './drive.js';
import { Rng } from '../util/rng.js';
import { fillUniform, loadStateInto, makeParameter, stateOf, type Parameter, type StateRecord } from './parameters.js';
import { expectShape, type SpikeEvents, type Tensor } from './tensor.js';

export type LifBackwardKind = 'dense' | 's3gd';
/** normal: N(0, 20·(1−β)/√fan_in) (the reference's Fashion-MNIST init); uniform: U(±1/√fan_in) (N-MNIST, SHD) */
export type LifInit = 'normal' | 'uniform';

export interface LIFOptions {
  inputSize: number;
  hiddenSize: number;
  /** membrane decay per step; or give tauMem (and dt, default 1) for β = exp(−dt/τ_mem). Default exp(−1/10). */
  beta?: number;
  tauMem?: number;
  dt?: number;
  /** ϑ, default 1 */
  threshold?: number;
  /** S3GD band b_th < mem < 2ϑ − b_th, default 0.8 (the paper's B_th = 1 − b_th = 0.2) */
  bTh?: number;
  /** default 's3gd' */
  backward?: LifBackwardKind;
  /** default 'normal' */
  init?: LifInit;
  seed?: number;
  /** the parameter's name (a model's w1, w2, ...), default 'w' */
  name?: string;
}

/** Counts of one forward call (whole batch). */
export interface LIFForwardStats {
  spikes: number;
  /** neuron-steps inside the S3GD band */
  active: number;
  /** B·T·H */
  neuronSteps: number;
  /** nonzero inputs the product ran over */
  inputEvents: number;
  macs: number;
  macsDense: number;
}

/** Counts of one backward call. */
export interface LIFBackwardStats {
  /** S3GD: active entries used; dense: 0 */
  active: number;
  /** S3GD: entries of the lower layer's active set that got a gradient */
  lowerActive: number;
  macs: number;
  /** the dense BPTT's multiply-accumulates for the same call */
  macsDense: number;
  /** the backward's peak scratch (engine workspace) in bytes */
  scratchBytes: number;
}

/** What a training forward keeps for its backward (an engine handle and the batch sizes). */
export interface LIFSaved {
  handle: Saved;
  B: number;
  T: number;
  backward: LifBackwardKind;
}

export interface LIFOutput {
  /** [B, T, H] spikes (0/1) */
  spk: Tensor;
  /** null outside training */
  saved: LIFSaved | null;
  stats: LIFForwardStats;
}

export interface LIFGradientsIn {
  /** dL/dspk [B, T, H] (dense) */
  dspk?: Tensor | null;
  /** s3gd only: one value per entry of this layer's active set (the upper layer's dxActive) */
  dspkActive?: Float32Array | null;
  /** [B·H] added to dL/dspk at every step (a spike-count regulariser's gradient) */
  dspkRow?: Float32Array | null;
  /** s3gd: the layer below's saved forward; dx is produced at its active entries only */
  lower?: LIFSaved | null;
  /** compute the input's gradient (default true; dense: dx [B,T,I]; s3gd: dxActive, needs lower) */
  needInputGrad?: boolean;
}

export interface LIFGradients {
  /** dense path: dL/dx [B, T, I] */
  dx: Tensor | null;
  /** s3gd with lower: dL/dx at each entry of lower's active set (pass it as the lower layer's dspkActive) */
  dxActive: Float32Array | null;
  stats: LIFBackwardStats;
}


export const LIF_DEFAULT_BETA = Math.exp(-1 / 10);
/** the reference's weight_multiplier of the Fashion-MNIST init */
const NORMAL_INIT_GAIN = 20;

/** β from the options (beta, or tauMem with dt), checked. */
export function decayOf(o: { beta?: number; tauMem?: number; dt?: number }, owner: string): number {
  if (o.beta !== undefined && o.tauMem !== undefined) throw new RangeError(`${owner}: give beta or tauMem, not both`);
  if (o.tauMem !== undefined) {
    const dt = o.dt ?? 1;
    if (!(o.tauMem > 0)) throw new RangeError(`${owner}: tauMem must be > 0, got ${o.tauMem}`);
    if (!(dt > 0)) throw new RangeError(`${owner}: dt must be > 0, got ${dt}`);
    return Math.exp(-dt / o.tauMem);
  }
  return checkDecay(o.beta ?? LIF_DEFAULT_BETA, `${owner}: beta`);
}

/** A decay factor in [0, 1) (what the engine accepts), or a RangeError naming it. */
export function checkDecay(v: number, name: string): number {
  if (!(v >= 0 && v < 1)) throw new RangeError(`${name} must be in [0, 1), got ${v}`);
  return v;
}

/** Fills a [fanIn, fanOut] weight with the reference's init for `init` (seeded). */
export function initSpikingWeight(p: Parameter, init: LifInit, fanIn: number, beta: number, rng: Rng): void {
  if (init === 'uniform') {
    fillUniform(p, rng, 1 / Math.sqrt(fanIn));
  } else if (init === 'normal') {
    const std = (NORMAL_INIT_GAIN * (1 - beta)) / Math.sqrt(fanIn);
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * std;
  } else {
    throw new RangeError(`init must be 'normal' or 'uniform', got ${String(init)}`);
  }
}

export class LIF {
  readonly family = 'lif';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly beta: number;
  readonly threshold: number;
  readonly bTh: number;
  readonly backwardKind: LifBackwardKind;
  readonly w: Parameter;

  constructor(o: LIFOptions) {
    for (const k of ['inputSize', 'hiddenSize'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`LIF: ${k} must be an integer >= 1, got ${o[k]}`);
    }
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.beta = decayOf(o, 'LIF');
    this.threshold = o.threshold ?? 1;
    if (!(this.threshold > 0) || !Number.isFinite(this.threshold)) throw new RangeError(`LIF: threshold must be a finite number > 0, got ${o.threshold}`);
    this.bTh = o.bTh ?? 0.8;
    if (!(this.bTh >= 0 && this.bTh < this.threshold)) throw new RangeError(`LIF: bTh must be in [0, threshold), got ${o.bTh}`);
    this.backwardKind = o.backward ?? 's3gd';
    if (this.backwardKind !== 'dense' && this.backwardKind !== 's3gd') throw new RangeError(`LIF: backward must be 'dense' or 's3gd', got ${String(o.backward)}`);
    this.w = makeParameter(o.name ?? 'w', [o.inputSize, o.hiddenSize]);
    initSpikingWeight(this.w, o.init ?? 'normal', o.inputSize, this.beta, new Rng(o.seed ?? 0, 0x11f));
  }

  parameters(): Parameter[] {
    return [this.w];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'LIF');
  }

  /** input: spike events (SpikeEvents, C = inputSize) or a dense [B, T, I] tensor. Training (the default) keeps a handle for backward. */
  forward(input: SpikeEvents | Tensor, opts: { training?: boolean } = {}): LIFOutput {
    return runSync(this.forwardSteps(input, opts.training ?? true));
  }

  forwardAsync(input: SpikeEvents | Tensor, opts: { training?: boolean } = {}): Promise<LIFOutput> {
    return runAsync(this.forwardSteps(input, opts.training ?? true));
  }

  /** Adds dL/dw into w.grad (zero it first for one call's gradient) and returns the input's gradient. */
  backward(saved: LIFSaved, g: LIFGradientsIn): LIFGradients {
    return runSync(this.backwardSteps(saved, g));
  }

  backwardAsync(saved: LIFSaved, g: LIFGradientsIn): Promise<LIFGradients> {
    return runAsync(this.backwardSteps(saved, g));
  }

  *forwardSteps(input: SpikeEvents | Tensor, training: boolean): LayerSteps<LIFOutput> {
    const { B, T, source } = this.inputOf(input);
    const H = this.hiddenSize;
    const args: LifForwardArgs = {
      B, T, I: this.inputSize, H, ...source, w: this.w.tensor,
      beta: this.beta, threshold: this.threshold, bTh: this.bTh, training, backward: this.backwardKind,
    };
    const r: LifForwardResult = yield* call('lifForward', args);
    return {
      spk: { data: r.spk, shape: [B, T, H] },
      saved: r.saved ? { handle: r.saved, B, T, backward: this.backwardKind } : null,
      stats: { ...r.stats },
    };
  }

  *backwardSteps(saved: LIFSaved, g: LIFGradientsIn): LayerSteps<LIFGradients> {
    const { B, T } = saved;
    const H = this.hiddenSize;
    const I = this.inputSize;
    if (g.dspk) expectShape('dspk', g.dspk, [B, T, H]);
    if (g.dspkRow && g.dspkRow.length !== B * H) throw new RangeError(`LIF.backward: dspkRow must have B·H = ${B * H} values, got ${g.dspkRow.length}`);
    if (g.dspkActive && saved.backward !== 's3gd') throw new RangeError("LIF.backward: dspkActive needs a forward made with backward 's3gd'");
    if (g.lower && saved.backward !== 's3gd') throw new RangeError("LIF.backward: lower needs a forward made with backward 's3gd' (the dense path's dx is dense)");
    const needDx = g.needInputGrad ?? true;
    const args: LifBackwardArgs = {
      saved: saved.handle, w: this.w.tensor, dw: this.w.gradTensor,
      dspk: g.dspk?.data ?? null, dspkActive: g.dspkActive ?? null, dspkRow: g.dspkRow ?? null,
      lower: g.lower?.handle ?? null, needDx,
    };
    const r: LifBackwardResult = yield* call('lifBackward', args);
    return { dx: r.dx ? { data: r.dx, shape: [B, T, I] } : null, dxActive: r.dxActive, stats: { ...r.stats } };
  }

  private inputOf(input: SpikeEvents | Tensor): { B: number; T: number; source: Pick<LifForwardArgs, 'x' | 'events'> } {
    if ('offsets' in input) {
      const { B, T, C, offsets, index } = input;
      if (C !== this.inputSize) throw new RangeError(`LIF.forward: the events have C = ${C} channels, the layer's inputSize is ${this.inputSize}`);
      if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new RangeError(`LIF.forward: events need B, T >= 1, got B = ${B}, T = ${T}`);
      if (!(offsets instanceof Int32Array) || !(index instanceof Int32Array)) throw new TypeError('LIF.forward: events.offsets and events.index must be Int32Arrays');
      return { B, T, source: { x: null, events: { offsets, index } } };
    }
    expectShape('input', input, [null, null, this.inputSize]);
    const [B, T] = input.shape;
    return { B, T, source: { x: input.data, events: null } };
  }
}
