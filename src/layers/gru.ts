// GRU layer (PyTorch nn.GRU names, layouts and initialisation), stacked layers supported: a
// RecurrentStack of GRUCells. Parameters per layer l: weight_ih_l{l} [3H, C_l], weight_hh_l{l}
// [3H, H], bias_ih_l{l} [3H], bias_hh_l{l} [3H]; gate order (r, z, n).
import type { LayerSteps } from './drive.js';
import { GRUCell } from './gru-cell.js';
import { FAMILIES } from './families.js';
import { TorchLayer, type TorchLayerOptions } from './torch-layer.js';
import type { Tensor } from './tensor.js';

export type GRUOptions = TorchLayerOptions;

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

export class GRU extends TorchLayer<GRUForwardOptions, GRUOutput, GRUGradientsIn, GRUGradients> {
  protected readonly owner = 'GRU';

  constructor(o: GRUOptions) {
    super('GRU', o, FAMILIES.gru.initStream, (c) => new GRUCell(c));
  }

  protected *forwardSteps(x: Tensor, opts: GRUForwardOptions): LayerSteps<GRUOutput> {
    const r = yield* this.forwardStates(x, opts.training ?? true, { h: opts.h0 });
    return { output: r.output, hN: r.states.h };
  }

  protected *backwardSteps(g: GRUGradientsIn, needInputGrad: boolean): LayerSteps<GRUGradients> {
    const r = yield* this.backwardStates(g.output, { h: g.hN }, needInputGrad);
    return { input: r.input, h0: r.states.h, params: r.params };
  }
}
