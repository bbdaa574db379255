// DeltaGRU layer (gaochangw/DeltaRNN's DeltaGRU): nn.GRU's names, layouts and gate order
// (weight_ih_l{l} [3H, C_l], weight_hh_l{l} [3H, H], bias_ih_l{l}, bias_hh_l{l}; r, z, n), so a
// GRU state dict loads strictly with loadState; stacked layers supported (a RecurrentStack of
// DeltaGRUCells). Every sequence starts from h = 0, as the reference: there is no h0.
import { DeltaGRUCell } from './delta-gru-cell.js';
import { DeltaLayer, type DeltaLayerGradients, type DeltaLayerOptions } from './delta-layer.js';
import type { LayerSteps } from './drive.js';
import { FAMILIES } from './families.js';
import type { Tensor } from './tensor.js';

/** Thresholds thetaX, thetaH (default 0: the GRU) and the fixed-point options, as DeltaGRUCell's. */
export type DeltaGRUOptions = DeltaLayerOptions;

export interface DeltaGRUForwardOptions {
  training?: boolean;
  /** Not supported: a DeltaGRU starts from zero (given, it is refused with a RangeError). */
  h0?: never;
}

export interface DeltaGRUOutput {
  /** Last layer's outputs [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Final state of every layer [numLayers, N, H]. */
  hN: Tensor;
}

export interface DeltaGRUGradientsIn {
  /** dL/d output, same shape as output. */
  output: Tensor;
  /** dL/d hN [numLayers, N, H], optional. */
  hN?: Tensor;
}

/** dL/d input and the parameters' gradients by name (no initial state, so no gradient of one). */
export type DeltaGRUGradients = DeltaLayerGradients;

export class DeltaGRU extends DeltaLayer<DeltaGRUForwardOptions, DeltaGRUOutput, DeltaGRUGradientsIn> {
  protected readonly owner = 'DeltaGRU';

  constructor(o: DeltaGRUOptions) {
    super('DeltaGRU', o, FAMILIES.deltagru.initStream, (c) => new DeltaGRUCell(c));
  }

  protected *forwardSteps(x: Tensor, opts: DeltaGRUForwardOptions): LayerSteps<DeltaGRUOutput> {
    // A given h0 travels to the cells, which refuse it with the reason.
    const r = yield* this.forwardStates(x, opts.training ?? true, { h: opts.h0 });
    return { output: r.output, hN: r.states.h };
  }

  protected *backwardSteps(g: DeltaGRUGradientsIn, needInputGrad: boolean): LayerSteps<DeltaGRUGradients> {
    const r = yield* this.backwardStates(g.output, { h: g.hN }, needInputGrad);
    return { input: r.input, params: r.params };
  }
}
