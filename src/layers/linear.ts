// Linear layer (PyTorch nn.Linear names and layout): y = x Wᵀ + b over the last dimension.
import { Rng } from '../util/rng.js';
import { call, type LayerSteps } from './drive.js';
import { ParametrizedLayer, type BackwardOptions } from './feed-forward-layer.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';
import { expectShape, type Tensor } from './tensor.js';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  /** Seed for the default initialisation U(−1/√in, 1/√in) (PyTorch's). */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "readout." */
  prefix?: string;
  /**
   * Tie the weight to an existing parameter of shape [out, in] (a language model's decoder tied
   * to its embedding): both uses add into its one gradient buffer.
   */
  weight?: Parameter;
}

/** needInputGrad defaults to true. */
export type LinearBackwardOptions = BackwardOptions;

export interface LinearGradients {
  /** Gradient of the input (null when not asked for). */
  input: Tensor | null;
  /** This call's gradient per parameter name (copies of the grad buffers). */
  params: Record<string, Float32Array>;
}

/** x [..., in] → y [..., out]; in training mode x is kept for backward, which takes dy [..., out]. */
export class Linear extends ParametrizedLayer<LinearGradients> {
  protected readonly stateOwner = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  private saved: Tensor | null = null;

  constructor(o: LinearOptions) {
    super();
    for (const k of ['inFeatures', 'outFeatures'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`Linear: ${k} must be an integer >= 1, got ${o[k]}`);
    }
    this.inFeatures = o.inFeatures;
    this.outFeatures = o.outFeatures;
    const prefix = o.prefix ?? '';
    if (o.weight && (o.weight.shape.length !== 2 || o.weight.shape[0] !== o.outFeatures || o.weight.shape[1] !== o.inFeatures)) {
      throw new RangeError(`Linear: a tied weight must have shape [${o.outFeatures}, ${o.inFeatures}], got [${o.weight.shape.join(', ')}]`);
    }
    this.weight = o.weight ?? makeParameter(`${prefix}weight`, [o.outFeatures, o.inFeatures]);
    this.bias = o.bias === false ? null : makeParameter(`${prefix}bias`, [o.outFeatures]);
    const rng = new Rng(o.seed ?? 0, 0x11ea);
    const bound = 1 / Math.sqrt(o.inFeatures);
    if (!o.weight) fillUniform(this.weight, rng, bound);
    if (this.bias) fillUniform(this.bias, rng, bound);
  }

  parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  private dims(x: Tensor) {
    expectShape('x', x, [...x.shape.slice(0, -1).map(() => null), this.inFeatures]);
    return { M: x.data.length / this.inFeatures, I: this.inFeatures, O: this.outFeatures };
  }

  *forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor> {
    const d = this.dims(x);
    const { y } = yield* call('linearForward', { x: x.data, weight: this.weight.tensor, bias: this.bias?.tensor ?? null, ...d });
    this.saved = training ? x : null;
    return { data: y, shape: [...x.shape.slice(0, -1), this.outFeatures] };
  }

  *backwardSteps(dy: Tensor, needDx: boolean): LayerSteps<LinearGradients> {
    const x = this.saved;
    if (!x) throw new Error('Linear.backward: call forward in training mode first');
    expectShape('dy', dy, [...x.shape.slice(0, -1), this.outFeatures]);
    const r = yield* call('linearBackward', {
      x: x.data, weight: this.weight.tensor, ...this.dims(x), dy: dy.data, needDx,
      dWeight: this.weight.gradTensor, dBias: this.bias?.gradTensor ?? null,
    });
    const params = Object.fromEntries(this.parameters().map((p) => [p.name, p.grad.slice()]));
    return { input: r.dx ? { data: r.dx, shape: [...x.shape] } : null, params };
  }
}
