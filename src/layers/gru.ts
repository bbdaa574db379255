// GRU layer (PyTorch nn.GRU names, layouts and initialisation), stacked layers supported.
// Parameters per layer l: weight_ih_l{l} [3H, C_l], weight_hh_l{l} [3H, H], bias_ih_l{l} [3H],
// bias_hh_l{l} [3H]; gate order (r, z, n). The time loop runs in native code, one call per layer.
import { Rng } from '../util/rng.js';
import { call, type LayerSteps } from './drive.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { expectShape, type Tensor } from './tensor.js';

export interface GRUOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Input/output as [N, T, C] instead of the engine's time-major [T, N, C]. */
  batchFirst?: boolean;
  /** Seed for PyTorch's default initialisation U(−1/√H, 1/√H). */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "rnn." */
  prefix?: string;
}

export interface GRUForwardOptions {
  training?: boolean;
  /** Initial state [numLayers, N, H]; zeros when absent. */
  h0?: Tensor;
}

export interface GRUOutput {
  /** Last layer's outputs [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Final state of every layer [numLayers, N, H]. */
  hN: Tensor;
}

export interface GRUGradientsIn {
  /** dL/d output, same shape as output. */
  output: Tensor;
  /** dL/d hN [numLayers, N, H], optional. */
  hN?: Tensor;
}

export interface GRUGradients {
  input: Tensor | null;
  h0: Tensor;
  params: Record<string, Float32Array>;
}

interface LayerParams {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter;
  biasHh: Parameter;
}

interface Saved {
  T: number;
  N: number;
  xs: Float32Array[];
  ys: Float32Array[];
  caches: Float32Array[];
  h0s: (Float32Array | null)[];
}

export class GRU extends RecurrentLayer<GRUForwardOptions, GRUOutput, GRUGradientsIn, GRUGradients> {
  protected readonly owner = 'GRU';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  private readonly layers: LayerParams[] = [];
  private saved: Saved | null = null;

  constructor(o: GRUOptions) {
    super();
    const numLayers = o.numLayers ?? 1;
    for (const [k, v] of [['inputSize', o.inputSize], ['hiddenSize', o.hiddenSize], ['numLayers', numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`GRU: ${k} must be an integer >= 1, got ${v}`);
    }
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.numLayers = numLayers;
    this.batchFirst = o.batchFirst ?? false;
    const H = o.hiddenSize;
    const p = o.prefix ?? '';
    const rng = new Rng(o.seed ?? 0, 0x6a0);
    const bound = 1 / Math.sqrt(H);
    for (let l = 0; l < numLayers; l++) {
      const C = l === 0 ? o.inputSize : H;
      const layer: LayerParams = {
        weightIh: makeParameter(`${p}weight_ih_l${l}`, [3 * H, C]),
        weightHh: makeParameter(`${p}weight_hh_l${l}`, [3 * H, H]),
        biasIh: makeParameter(`${p}bias_ih_l${l}`, [3 * H]),
        biasHh: makeParameter(`${p}bias_hh_l${l}`, [3 * H]),
      };
      for (const param of Object.values(layer)) fillUniform(param, rng, bound);
      this.layers.push(layer);
    }
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((l) => [l.weightIh, l.weightHh, l.biasIh, l.biasHh]);
  }

  protected *forwardSteps(xIn: Tensor, opts: GRUForwardOptions): LayerSteps<GRUOutput> {
    const { x, T, N } = this.timeMajorInput(xIn, opts.h0);
    const H = this.hiddenSize;
    const L = this.numLayers;
    const training = opts.training ?? true;
    const saved: Saved = { T, N, xs: [], ys: [], caches: [], h0s: [] };
    const hN = new Float32Array(L * N * H);
    let input = x.data;
    for (let l = 0; l < L; l++) {
      const w = this.layers[l];
      const h0 = opts.h0 ? opts.h0.data.subarray(l * N * H, (l + 1) * N * H) : null;
      const C = l === 0 ? this.inputSize : H;
      const r = yield* call('gruForward', {
        x: input, h0, weightIh: w.weightIh.data, weightHh: w.weightHh.data, biasIh: w.biasIh.data, biasHh: w.biasHh.data,
        T, N, C, H, training,
      });
      saved.xs.push(input);
      saved.ys.push(r.y);
      saved.caches.push(r.cache);
      saved.h0s.push(h0);
      hN.set(r.y.subarray((T - 1) * N * H, T * N * H), l * N * H);
      input = r.y;
    }
    this.saved = training ? saved : null;
    return { output: this.callerLayout(input, T, N, H), hN: { data: hN, shape: [L, N, H] } };
  }

  protected *backwardSteps(g: GRUGradientsIn, needInputGrad: boolean): LayerSteps<GRUGradients> {
    const s = this.saved;
    if (!s) throw new Error('GRU.backward: call forward in training mode first');
    const { T, N } = s;
    const H = this.hiddenSize;
    const L = this.numLayers;
    let dy = this.timeMajorGradient('output', g.output, T, N, H);
    if (g.hN) expectShape('hN gradient', g.hN, [L, N, H]);
    const dh0 = new Float32Array(L * N * H);
    const params: Record<string, Float32Array> = {};
    let dx: Float32Array | null = null;
    for (let l = L - 1; l >= 0; l--) {
      const w = this.layers[l];
      const C = l === 0 ? this.inputSize : H;
      const r = yield* call('gruBackward', {
        x: s.xs[l], h0: s.h0s[l], weightIh: w.weightIh.data, weightHh: w.weightHh.data, biasIh: w.biasIh.data,
        biasHh: w.biasHh.data, T, N, C, H, training: true, y: s.ys[l], cache: s.caches[l], dy,
        dhT: g.hN ? g.hN.data.subarray(l * N * H, (l + 1) * N * H) : null, needDx: l > 0 || needInputGrad,
      });
      dh0.set(r.dh0, l * N * H);
      params[w.weightIh.name] = r.dWeightIh;
      params[w.weightHh.name] = r.dWeightHh;
      params[w.biasIh.name] = r.dBiasIh;
      params[w.biasHh.name] = r.dBiasHh;
      if (l > 0) dy = r.dx!;
      else dx = r.dx;
    }
    const input = dx ? this.callerLayout(dx, T, N, this.inputSize) : null;
    return { input, h0: { data: dh0, shape: [L, N, H] }, params };
  }
}
