// EGRU layer (Subramoney et al., ICLR 2023) with EvNN's parameter names, layouts, initialisation
// and options, stacked layers supported. One layer: kernel [C,3H], recurrent_kernel [H,3H],
// bias [3H], recurrent_bias [3H], thr [H] (gate blocks z, r, g); a stack names layer l's
// parameters rnns.{l}.kernel, … (EvNN's language-model convention). The time loop and the
// event-driven products run in native code (native/src/cpu/egru.cc), one call per layer.
import { native, type EgruBackwardResult, type EgruForwardResult, type EgruStats } from '../native/addon.js';
import { Rng } from '../util/rng.js';
import { call, type LayerSteps } from './drive.js';
import { makeParameter, type Parameter } from './parameters.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { expectShape, type Tensor } from './tensor.js';

export interface EGRUOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Input/output as [N, T, C] instead of the engine's time-major [T, N, C]. */
  batchFirst?: boolean;
  /** Mean μ of the initial thresholds, drawn from Beta(3μ/(1−μ), 3). EvNN default 0.3. */
  thrMean?: number;
  /** γ of the surrogate γ·max(0, 1 − ε|v|). EvNN default 0.7. */
  dampeningFactor?: number;
  /** ε of the surrogate (its support is |v| < 1/ε). EvNN default 1. */
  pseudoDerivativeSupport?: number;
  /** Zoneout probability (training: a 0/1 keep-mask per step, unit and sample). */
  zoneout?: number;
  /** DropConnect probability on recurrent_kernel (one mask per forward, scaled 1/(1−p)). */
  dropconnect?: number;
  /** EvNN's per-layer gradient clipping: scales each layer's parameter and initial-state gradients to this L2 norm; 0 = off. */
  gradClip?: number;
  /** Gain of the Xavier-normal initialisation of kernel and recurrent_kernel. */
  weightInitGain?: number;
  /** Seed for initialisation and for zoneout/DropConnect masks drawn by the layer. */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "rnn." */
  prefix?: string;
  /** Scratch budget of the native kernels (floats per time-chunk buffer); 0 = default. For tests. */
  chunkFloats?: number;
}

export interface EGRUForwardOptions {
  training?: boolean;
  /** Initial event output y_0 per layer [numLayers, N, H]; zeros when absent. c always starts at 0. */
  h0?: Tensor;
  /**
   * Zoneout keep-masks, time-major [T, N, H] (one layer) or [numLayers, T, N, H], values 0 or 1;
   * used exactly as given. Drawn from `noise` (or the layer's own generator) when absent.
   */
  zoneoutMask?: Tensor;
  /**
   * DropConnect keep-masks of recurrent_kernel, [H, 3H] (one layer) or [numLayers, H, 3H], values 0
   * or 1; the kernel used is recurrent_kernel ⊙ m / (1 − p). Drawn from `noise` when absent.
   */
  dropconnectMask?: Tensor;
  /** Generator for the masks drawn in this call (zoneout, DropConnect). */
  noise?: Rng;
  /** Which of the last layer's o and trace to return (both by default); an unwanted one is null and costs no memory. */
  outputs?: { o?: boolean; trace?: boolean };
}

export interface EGRUOutput {
  /** Last layer's event output y [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Last layer's internal state c (after the soft reset), same layout. */
  c: Tensor;
  /** Last layer's events o ∈ {0, 1}, same layout (null when not asked for in outputs). */
  o: Tensor | null;
  /** Last layer's output trace (0.9·tr + 0.1·y), same layout (null when not asked for). */
  trace: Tensor | null;
  /** y at the last step of every layer [numLayers, N, H]. */
  hN: Tensor;
  /** Events and work per layer. */
  stats: EgruStats[];
}

export interface EGRUGradientsIn {
  /** dL/d output (y of the last layer). */
  output?: Tensor;
  /** dL/d c, dL/d o, dL/d trace of the last layer (same layout as output). */
  c?: Tensor;
  o?: Tensor;
  trace?: Tensor;
  /** dL/d hN [numLayers, N, H]. */
  hN?: Tensor;
}

export interface EGRUGradients {
  input: Tensor | null;
  /** dL/d y_0 [numLayers, N, H]. */
  h0: Tensor;
  params: Record<string, Float32Array>;
  /** Work per layer (backwardActive is reported by forward). */
  stats: EgruStats[];
}

export const EGRU_DEFAULTS = {
  thrMean: 0.3,
  dampeningFactor: 0.7,
  pseudoDerivativeSupport: 1.0,
  zoneout: 0,
  dropconnect: 0,
  gradClip: 0,
  weightInitGain: 1.0,
} as const;

interface LayerParams {
  kernel: Parameter;
  recurrentKernel: Parameter;
  bias: Parameter;
  recurrentBias: Parameter;
  thr: Parameter;
}

interface SavedLayer {
  x: Float32Array;
  y0: Float32Array | null;
  mask: Uint8Array | null;
  /** recurrent_kernel as used (after DropConnect) and its scaled keep-mask, or null */
  recurrent: Float32Array;
  dropMask: Float32Array | null;
  fwd: EgruForwardResult;
}

interface Saved {
  T: number;
  N: number;
  layers: SavedLayer[];
}

export class EGRU extends RecurrentLayer<EGRUForwardOptions, EGRUOutput, EGRUGradientsIn, EGRUGradients> {
  protected readonly owner = 'EGRU';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly thrMean: number;
  readonly dampeningFactor: number;
  readonly pseudoDerivativeSupport: number;
  readonly zoneout: number;
  readonly dropconnect: number;
  readonly gradClip: number;
  private readonly chunkFloats: number;
  private readonly layers: LayerParams[] = [];
  private readonly rng: Rng;
  private saved: Saved | null = null;

  constructor(o: EGRUOptions) {
    super();
    const numLayers = o.numLayers ?? 1;
    for (const [k, v] of [['inputSize', o.inputSize], ['hiddenSize', o.hiddenSize], ['numLayers', numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`EGRU: ${k} must be an integer >= 1, got ${v}`);
    }
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.numLayers = numLayers;
    this.batchFirst = o.batchFirst ?? false;
    this.thrMean = o.thrMean ?? EGRU_DEFAULTS.thrMean;
    this.dampeningFactor = o.dampeningFactor ?? EGRU_DEFAULTS.dampeningFactor;
    this.pseudoDerivativeSupport = o.pseudoDerivativeSupport ?? EGRU_DEFAULTS.pseudoDerivativeSupport;
    this.zoneout = o.zoneout ?? EGRU_DEFAULTS.zoneout;
    this.dropconnect = o.dropconnect ?? EGRU_DEFAULTS.dropconnect;
    this.gradClip = o.gradClip ?? EGRU_DEFAULTS.gradClip;
    this.chunkFloats = o.chunkFloats ?? 0;
    const gain = o.weightInitGain ?? EGRU_DEFAULTS.weightInitGain;
    if (!(this.thrMean > 0 && this.thrMean < 1)) throw new RangeError(`EGRU: thrMean must be in (0, 1), got ${this.thrMean}`);
    for (const [k, v] of [['zoneout', this.zoneout], ['dropconnect', this.dropconnect]] as const) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`EGRU: ${k} must be in [0, 1), got ${v}`);
    }
    for (const [k, v] of [['dampeningFactor', this.dampeningFactor], ['pseudoDerivativeSupport', this.pseudoDerivativeSupport], ['gradClip', this.gradClip], ['weightInitGain', gain]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`EGRU: ${k} must be a finite number >= 0, got ${v}`);
    }
    const H = o.hiddenSize;
    const init = new Rng(o.seed ?? 0, 0xe6a0);
    this.rng = new Rng(o.seed ?? 0, 0xe6a1);
    const prefix = o.prefix ?? '';
    for (let l = 0; l < numLayers; l++) {
      const C = l === 0 ? o.inputSize : H;
      const p = numLayers === 1 ? prefix : `${prefix}rnns.${l}.`;
      const layer: LayerParams = {
        kernel: makeParameter(`${p}kernel`, [C, 3 * H]),
        recurrentKernel: makeParameter(`${p}recurrent_kernel`, [H, 3 * H]),
        bias: makeParameter(`${p}bias`, [3 * H]),
        recurrentBias: makeParameter(`${p}recurrent_bias`, [3 * H]),
        thr: makeParameter(`${p}thr`, [H]),
      };
      // EvNN: Xavier-normal weights, zero biases, thresholds ~ Beta(3μ/(1−μ), 3) (mean μ).
      for (const w of [layer.kernel, layer.recurrentKernel]) {
        const std = gain * Math.sqrt(2 / (w.shape[0] + w.shape[1]));
        for (let i = 0; i < w.data.length; i++) w.data[i] = init.normal() * std;
      }
      const a = (3 * this.thrMean) / (1 - this.thrMean);
      for (let i = 0; i < H; i++) layer.thr.data[i] = init.beta(a, 3);
      this.layers.push(layer);
    }
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((l) => [l.kernel, l.recurrentKernel, l.bias, l.recurrentBias, l.thr]);
  }

  protected *forwardSteps(xIn: Tensor, opts: EGRUForwardOptions): LayerSteps<EGRUOutput> {
    const { x, T, N } = this.timeMajorInput(xIn, opts.h0);
    const H = this.hiddenSize;
    const L = this.numLayers;
    const training = opts.training ?? true;
    const noise = opts.noise ?? this.rng;
    const masks = training && this.zoneout > 0 ? this.zoneoutMasks(opts.zoneoutMask, T, N, noise) : null;
    const saved: Saved = { T, N, layers: [] };
    const stats: EgruStats[] = [];
    const hN = new Float32Array(L * N * H);
    let input = x.data;
    let last: EgruForwardResult | null = null;
    for (let l = 0; l < L; l++) {
      const w = this.layers[l];
      // EvNN clamps the thresholds in place before every forward pass.
      for (let i = 0; i < H; i++) w.thr.data[i] = Math.min(1, Math.max(0, w.thr.data[i]));
      const drop = training && this.dropconnect > 0 ? this.dropConnect(w.recurrentKernel.data, l, opts.dropconnectMask, noise) : null;
      const recurrent = drop ? drop.kernel : w.recurrentKernel.data;
      const y0 = opts.h0 ? opts.h0.data.subarray(l * N * H, (l + 1) * N * H) : null;
      const mask = masks ? masks[l] : null;
      const r = yield* call('egruForward', {
        x: input, y0, zoneoutMask: mask, kernel: w.kernel.data, recurrentKernel: recurrent, bias: w.bias.data,
        recurrentBias: w.recurrentBias.data, thr: w.thr.data, T, N, C: l === 0 ? this.inputSize : H, H, training,
        zoneout: this.zoneout, dampening: this.dampeningFactor, support: this.pseudoDerivativeSupport,
        sparseInput: l > 0, chunkFloats: this.chunkFloats,
        keepO: l === L - 1 && (opts.outputs?.o ?? true), keepTrace: l === L - 1 && (opts.outputs?.trace ?? true),
      });
      saved.layers.push({ x: input, y0, mask, recurrent, dropMask: drop ? drop.mask : null, fwd: r });
      stats.push(r.stats);
      hN.set(r.y.subarray((T - 1) * N * H, T * N * H), l * N * H);
      input = r.y;
      last = r;
    }
    this.saved = training ? saved : null;
    const out = (data: Float32Array): Tensor => this.callerLayout(data, T, N, H);
    const maybe = (data: Float32Array | null): Tensor | null => (data ? out(data) : null);
    return {
      output: out(last!.y), c: out(last!.c), o: maybe(last!.o), trace: maybe(last!.trace),
      hN: { data: hN, shape: [L, N, H] }, stats,
    };
  }

  protected *backwardSteps(g: EGRUGradientsIn, needInputGrad: boolean): LayerSteps<EGRUGradients> {
    const s = this.saved;
    if (!s) throw new Error('EGRU.backward: call forward in training mode first');
    const { T, N } = s;
    const H = this.hiddenSize;
    const L = this.numLayers;
    const upstream = (name: string, t: Tensor | undefined): Float32Array | null => (t ? this.timeMajorGradient(name, t, T, N, H) : null);
    let dy = upstream('output', g.output);
    const dc = upstream('c', g.c);
    const dO = upstream('o', g.o);
    const dtrace = upstream('trace', g.trace);
    if (g.hN) expectShape('hN gradient', g.hN, [L, N, H]);
    const dh0 = new Float32Array(L * N * H);
    const params: Record<string, Float32Array> = {};
    const stats: EgruStats[] = new Array<EgruStats>(L);
    let dx: Float32Array | null = null;
    for (let l = L - 1; l >= 0; l--) {
      const w = this.layers[l];
      const sl = s.layers[l];
      if (g.hN) {
        // hN is y at the last step: its gradient adds to dy there.
        const withLast = dy ? dy.slice() : new Float32Array(T * N * H);
        const gl = g.hN.data.subarray(l * N * H, (l + 1) * N * H);
        for (let i = 0; i < N * H; i++) withLast[(T - 1) * N * H + i] += gl[i];
        dy = withLast;
      }
      const top = l === L - 1;
      const r: EgruBackwardResult = yield* call('egruBackward', {
        x: sl.x, y0: sl.y0, zoneoutMask: sl.mask, kernel: w.kernel.data, recurrentKernel: sl.recurrent, bias: w.bias.data,
        recurrentBias: w.recurrentBias.data, thr: w.thr.data, T, N, C: l === 0 ? this.inputSize : H, H, training: true,
        zoneout: this.zoneout, dampening: this.dampeningFactor, support: this.pseudoDerivativeSupport,
        sparseInput: l > 0, chunkFloats: this.chunkFloats, keepO: false, keepTrace: false,
        y: sl.fwd.y, c: sl.fwd.c, cache: sl.fwd.cache, active: sl.fwd.active,
        dy, dc: top ? dc : null, do: top ? dO : null, dtrace: top ? dtrace : null,
        needDx: l > 0 || needInputGrad, dxActive: l > 0 ? s.layers[l - 1].fwd.active : null, needDy0: true,
      });
      if (sl.dropMask) {
        const m = sl.dropMask;
        for (let i = 0; i < m.length; i++) r.dRecurrentKernel[i] *= m[i];
      }
      if (this.gradClip > 0) clipLayerGradients(r, this.gradClip);
      dh0.set(r.dy0!, l * N * H);
      params[w.kernel.name] = r.dKernel;
      params[w.recurrentKernel.name] = r.dRecurrentKernel;
      params[w.bias.name] = r.dBias;
      params[w.recurrentBias.name] = r.dRecurrentBias;
      params[w.thr.name] = r.dThr;
      stats[l] = r.stats;
      if (l > 0) dy = r.dx!;
      else dx = r.dx;
    }
    const input = dx ? this.callerLayout(dx, T, N, this.inputSize) : null;
    return { input, h0: { data: dh0, shape: [L, N, H] }, params, stats };
  }

  /** One 0/1 byte mask per layer: the caller's (checked) or drawn with keep probability 1 − p. */
  private zoneoutMasks(given: Tensor | undefined, T: number, N: number, noise: Rng): Uint8Array[] {
    const per = T * N * this.hiddenSize;
    if (given) return this.callerMasks('zoneoutMask', given, [T, N, this.hiddenSize]).map((m) => Uint8Array.from(m));
    const keep = 1 - this.zoneout;
    return Array.from({ length: this.numLayers }, () => {
      const m = new Uint8Array(per);
      for (let i = 0; i < per; i++) m[i] = noise.uniform() < keep ? 1 : 0;
      return m;
    });
  }

  /**
   * recurrent_kernel ⊙ m / (1 − p) and that scaled mask (the backward multiplies by it too); m is
   * layer l's part of the caller's mask (checked) or drawn in row-major order from noise.
   */
  private dropConnect(kernel: Float32Array, l: number, given: Tensor | undefined, noise: Rng): { kernel: Float32Array; mask: Float32Array } {
    const scale = 1 / (1 - this.dropconnect);
    const n = kernel.length;
    const mask = new Float32Array(n);
    if (given) {
      const m = this.callerMasks('dropconnectMask', given, [this.hiddenSize, 3 * this.hiddenSize])[l];
      for (let i = 0; i < n; i++) mask[i] = m[i] * scale;
    } else {
      for (let i = 0; i < n; i++) mask[i] = noise.uniform() < this.dropconnect ? 0 : scale;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = kernel[i] * mask[i];
    return { kernel: out, mask };
  }

  /**
   * A caller's per-layer 0/1 masks: shape `inner` for a single layer, or [numLayers, ...inner];
   * a value other than 0 or 1 is a RangeError naming its index. Returns one view per layer.
   */
  private callerMasks(name: string, given: Tensor, inner: number[]): Float32Array[] {
    const L = this.numLayers;
    expectShape(name, given, given.shape.length === inner.length && L === 1 ? inner : [L, ...inner]);
    given.data.forEach((v, i) => {
      if (v !== 0 && v !== 1) throw new RangeError(`${name} must hold only 0 and 1, got ${v} at index ${i}`);
    });
    const per = given.data.length / L;
    return Array.from({ length: L }, (_, l) => given.data.subarray(l * per, (l + 1) * per));
  }
}

/**
 * EvNN's per-layer clipping: the L2 norm over the initial-state and parameter gradients; when it
 * exceeds maxNorm all of them (not dx) are scaled by maxNorm / (norm + 1e-6).
 */
function clipLayerGradients(r: EgruBackwardResult, maxNorm: number): void {
  const arrays = [r.dy0!, r.dKernel, r.dRecurrentKernel, r.dBias, r.dRecurrentBias, r.dThr];
  const norm = native().globalNorm(arrays);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef >= 1) return;
  for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] *= coef;
}
