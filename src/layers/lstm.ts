// LSTM layer (PyTorch nn.LSTM names, layouts and initialisation), stacked layers supported: a
// RecurrentStack of LSTMCells. Parameters per layer l: weight_ih_l{l} [4H, C_l], weight_hh_l{l}
// [4H, H], bias_ih_l{l} [4H], bias_hh_l{l} [4H]; gate order (i, f, g, o). State: h and c.
import type { LayerSteps } from './drive.js';
import { LSTMCell } from './lstm-cell.js';
import { FAMILIES } from './families.js';
import { TorchLayer, type TorchLayerOptions } from './torch-layer.js';
import type { Tensor } from './tensor.js';

export type LSTMOptions = TorchLayerOptions;

export interface LSTMForwardOptions {
  training?: boolean;
  /** Initial hidden and cell states [numLayers, N, H]; zeros when absent. */
  h0?: Tensor;
  c0?: Tensor;
}

export interface LSTMOutput {
  /** Last layer's outputs [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Final hidden and cell state of every layer [numLayers, N, H]. */
  hN: Tensor;
  cN: Tensor;
}

export interface LSTMGradientsIn {
  /** dL/d output, same shape as output. */
  output: Tensor;
  /** dL/d hN and dL/d cN [numLayers, N, H], optional. */
  hN?: Tensor;
  cN?: Tensor;
}

export interface LSTMGradients {
  input: Tensor | null;
  h0: Tensor;
  c0: Tensor;
  params: Record<string, Float32Array>;
}

export class LSTM extends TorchLayer<LSTMForwardOptions, LSTMOutput, LSTMGradientsIn, LSTMGradients> {
  protected readonly owner = 'LSTM';

  constructor(o: LSTMOptions) {
    super('LSTM', o, FAMILIES.lstm.initStream, (c) => new LSTMCell(c));
  }

  protected *forwardSteps(x: Tensor, opts: LSTMForwardOptions): LayerSteps<LSTMOutput> {
    const r = yield* this.forwardStates(x, opts.training ?? true, { h: opts.h0, c: opts.c0 });
    return { output: r.output, hN: r.states.h, cN: r.states.c };
  }

  protected *backwardSteps(g: LSTMGradientsIn, needInputGrad: boolean): LayerSteps<LSTMGradients> {
    const r = yield* this.backwardStates(g.output, { h: g.hN, c: g.cN }, needInputGrad);
    return { input: r.input, h0: r.states.h, c0: r.states.c, params: r.params };
  }
}
