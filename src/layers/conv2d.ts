// 2-D convolution with PyTorch nn.Conv2d's names, layout and default initialisation: NCHW input,
// weight [O, C, KH, KW], bias [O]; dilation 1, groups 1. The math is the engine's
// (native/include/evnn/conv2d.h: im2col + GEMM).
import { Rng } from '../util/rng.js';
import { call, type LayerSteps } from './drive.js';
import { ParametrizedLayer, type BackwardOptions } from './feed-forward-layer.js';
import { outSize, pairOf, type Pair } from './conv-geometry.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';
import { expectShape, type Tensor } from './tensor.js';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  /** default 1 */
  stride?: Pair;
  /** zero padding on each side, default 0 */
  padding?: Pair;
  bias?: boolean;
  /**
   * A ReLU fused after the convolution (a Conv2d + ReLU pair in one engine pass, no second
   * output array); forward returns max(0, conv + b) and backward takes dy through it.
   */
  relu?: boolean;
  /** Seed for PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in) for weight and bias. */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "conv.0." */
  prefix?: string;
}

/** needInputGrad defaults to true (pass false for a layer fed by data). */
export type Conv2dBackwardOptions = BackwardOptions;

export interface Conv2dGradients {
  input: Tensor | null;
  /** This call's gradient per parameter name (copies of the grad buffers). */
  params: Record<string, Float32Array>;
}

/**
 * x [N, C, H, W] → y [N, O, OH, OW]; in training mode x (and with relu, y) is kept for backward,
 * which takes dy [N, O, OH, OW].
 */
export class Conv2d extends ParametrizedLayer<Conv2dGradients> {
  protected readonly stateOwner = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly relu: boolean;
  /** the input, and with the fused ReLU the output (its gate) */
  private saved: { x: Tensor; y: Tensor | null } | null = null;

  constructor(o: Conv2dOptions) {
    super();
    for (const k of ['inChannels', 'outChannels'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`Conv2d: ${k} must be an integer >= 1, got ${o[k]}`);
    }
    this.inChannels = o.inChannels;
    this.outChannels = o.outChannels;
    this.kernelSize = pairOf(o.kernelSize, 'kernelSize', 'Conv2d', 1);
    this.stride = pairOf(o.stride ?? 1, 'stride', 'Conv2d', 1);
    this.padding = pairOf(o.padding ?? 0, 'padding', 'Conv2d', 0);
    this.relu = o.relu ?? false;
    const prefix = o.prefix ?? '';
    const [kh, kw] = this.kernelSize;
    this.weight = makeParameter(`${prefix}weight`, [o.outChannels, o.inChannels, kh, kw]);
    this.bias = o.bias === false ? null : makeParameter(`${prefix}bias`, [o.outChannels]);
    // PyTorch: kaiming_uniform_(a=√5) on the weight, i.e. bound 1/√fan_in, and the same bound for the bias.
    const rng = new Rng(o.seed ?? 0, 0xc02d);
    const bound = 1 / Math.sqrt(o.inChannels * kh * kw);
    fillUniform(this.weight, rng, bound);
    if (this.bias) fillUniform(this.bias, rng, bound);
  }

  /** [OH, OW] for an H×W input (0 where the kernel does not fit). */
  outputSize(h: number, w: number): [number, number] {
    return [
      outSize(h, this.kernelSize[0], this.stride[0], this.padding[0]),
      outSize(w, this.kernelSize[1], this.stride[1], this.padding[1]),
    ];
  }

  parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  private geometry(x: Tensor) {
    expectShape('x', x, [null, this.inChannels, null, null]);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [OH, OW] = this.outputSize(H, W);
    if (OH < 1 || OW < 1) {
      throw new RangeError(
        `Conv2d: the ${this.kernelSize.join('×')} kernel does not fit the ${H}×${W} input padded by ${this.padding.join('×')}`,
      );
    }
    const [KH, KW] = this.kernelSize, [SH, SW] = this.stride, [PH, PW] = this.padding;
    return { N, C, H, W, O: this.outChannels, KH, KW, SH, SW, PH, PW, OH, OW };
  }

  *forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor> {
    const { OH, OW, ...g } = this.geometry(x);
    const { y } = yield* call('conv2dForward', {
      ...g, x: x.data, weight: this.weight.tensor, bias: this.bias?.tensor ?? null, relu: this.relu,
    });
    const out = { data: y, shape: [g.N, this.outChannels, OH, OW] };
    this.saved = training ? { x, y: this.relu ? out : null } : null;
    return out;
  }

  *backwardSteps(dy: Tensor, needDx: boolean): LayerSteps<Conv2dGradients> {
    if (!this.saved) throw new Error('Conv2d.backward: call forward in training mode first');
    const { x, y } = this.saved;
    const g = this.geometry(x);
    expectShape('dy', dy, [g.N, g.O, g.OH, g.OW]);
    const { dx } = yield* call('conv2dBackward', {
      ...g, x: x.data, weight: this.weight.tensor, dy: dy.data, needDx,
      dWeight: this.weight.gradTensor, dBias: this.bias?.gradTensor ?? null, relu: this.relu, y: y?.data ?? null,
    });
    const params = Object.fromEntries(this.parameters().map((p) => [p.name, p.grad.slice()]));
    return { input: dx ? { data: dx, shape: [...x.shape] } : null, params };
  }
}
