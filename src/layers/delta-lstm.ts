// DeltaLSTM layer (gaochangw/DeltaRNN's DeltaLSTM): nn.LSTM's names, layouts and gate order
// (weight_ih_l{l} [4H, C_l], weight_hh_l{l} [4H, H], bias_ih_l{l}, bias_hh_l{l}; i, f, g, o), so
// an LSTM state dict loads strictly with loadState; stacked layers supported (a RecurrentStack of
// DeltaLSTMCells). Every sequence starts from h = c = 0, as the reference: there is no h0 or c0.
import { DeltaLSTMCell } from './delta-lstm-cell.js';
import { DeltaLayer, type DeltaLayerGradients, type DeltaLayerOptions } from './delta-layer.js';
import type { LayerSteps } from './drive.js';
import { FAMILIES } from './families.js';
import type { Tensor } from './tensor.js';

/** Thresholds thetaX, thetaH (default 0: the LSTM) and the fixed-point options, as DeltaLSTMCell's. */
export type DeltaLSTMOptions = DeltaLayerOptions;

export interface DeltaLSTMForwardOptions {
  training?: boolean;
  /** Not supported: a DeltaLSTM starts from zero (given, they are refused with a RangeError). */
  h0?: never;
  c0?: never;
}

export interface DeltaLSTMOutput {
  /** Last layer's outputs [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Final hidden and cell state of every layer [numLayers, N, H]. */
  hN: Tensor;
  cN: Tensor;
}

export interface DeltaLSTMGradientsIn {
  /** dL/d output, same shape as output. */
  output: Tensor;
  /** dL/d hN and dL/d cN [numLayers, N, H], optional. */
  hN?: Tensor;
  cN?: Tensor;
}

/** dL/d input and the parameters' gradients by name (no initial state, so no gradient of one). */
export type DeltaLSTMGradients = DeltaLayerGradients;

export class DeltaLSTM extends DeltaLayer<DeltaLSTMForwardOptions, DeltaLSTMOutput, DeltaLSTMGradientsIn> {
  protected readonly owner = 'DeltaLSTM';

  constructor(o: DeltaLSTMOptions) {
    super('DeltaLSTM', o, FAMILIES.deltalstm.initStream, (c) => new DeltaLSTMCell(c));
  }

  protected *forwardSteps(x: Tensor, opts: DeltaLSTMForwardOptions): LayerSteps<DeltaLSTMOutput> {
    // Given initial states travel to the cells, which refuse them with the reason.
    const r = yield* this.forwardStates(x, opts.training ?? true, { h: opts.h0, c: opts.c0 });
    return { output: r.output, hN: r.states.h, cN: r.states.c };
  }

  protected *backwardSteps(g: DeltaLSTMGradientsIn, needInputGrad: boolean): LayerSteps<DeltaLSTMGradients> {
    const r = yield* this.backwardStates(g.output, { h: g.hN, c: g.cN }, needInputGrad);
    return { input: r.input, params: r.params };
  }
}
