// LSTM layer (PyTorch nn.LSTM names, layouts and initialisation), stacked layers supported: a
// RecurrentStack of LSTMCells. Parameters per layer l: weight_ih_l{l} [4H, C_l], weight_hh_l{l}
// [4H, H], bias_ih_l{l} [4H], bias_hh_l{l} [4H]; gate order (i, f, g, o). State: h and c.
import { Rng } from '../util/rng.js';
import type { LayerSteps } from './drive.js';
import { LSTMCell } from './lstm-cell.js';
import { torchNaming } from './naming.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { RecurrentStack } from './stack.js';
import { checkLayerSizes } from './sizes.js';
import type { Tensor } from './tensor.js';

export interface LSTMOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Input/output as [N, T, C] instead of the engine's time-major [T, N, C]. */
  batchFirst?: boolean;
  /** Dropout between layers (on every layer's output but the last), as nn.LSTM's dropout. */
  dropout?: number;
  /** Seed for PyTorch's default initialisation U(−1/√H, 1/√H) and the dropout masks. */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "rnn." */
  prefix?: string;
  /** Scratch budget of the native kernels (floats per time-chunk buffer); 0 = default. For tests. */
  chunkFloats?: number;
}

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

export class LSTM extends RecurrentLayer<LSTMForwardOptions, LSTMOutput, LSTMGradientsIn, LSTMGradients> {
  protected readonly owner = 'LSTM';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  protected readonly stack: RecurrentStack;
  private readonly seed: number;
  private calls = 0;

  constructor(o: LSTMOptions) {
    super();
    this.numLayers = checkLayerSizes('LSTM', o);
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.batchFirst = o.batchFirst ?? false;
    this.seed = o.seed ?? 0;
    const init = new Rng(this.seed, 0x157);
    const name = torchNaming(o.prefix ?? '');
    const cells = Array.from({ length: this.numLayers }, (_, l) => new LSTMCell({
      inputSize: l === 0 ? o.inputSize : o.hiddenSize, hiddenSize: o.hiddenSize, name: (k) => name(k, l, this.numLayers), init,
      chunkFloats: o.chunkFloats,
    }));
    this.stack = new RecurrentStack(cells, { dropout: o.dropout });
  }

  protected *forwardSteps(xIn: Tensor, opts: LSTMForwardOptions): LayerSteps<LSTMOutput> {
    const { x, T, N } = this.timeMajorInput(xIn);
    const r = yield* this.runStack(x, T, N, {
      training: opts.training ?? true, state0: this.initialStates(N, { h: opts.h0, c: opts.c0 }),
      noise: { seed: this.seed, epoch: 0, batch: this.calls++ },
    });
    return {
      output: this.callerLayout(r.output, T, N, this.hiddenSize), hN: this.stacked(r.states.map((s) => s.h), N),
      cN: this.stacked(r.states.map((s) => s.c), N),
    };
  }

  protected *backwardSteps(g: LSTMGradientsIn, needInputGrad: boolean): LayerSteps<LSTMGradients> {
    const s = this.savedState();
    const H = this.hiddenSize;
    const dhN = this.perLayer('hN gradient', g.hN, s.N);
    const dcN = this.perLayer('cN gradient', g.cN, s.N);
    const states = dhN || dcN ? Array.from({ length: this.numLayers }, (_, l) => ({ h: dhN?.[l], c: dcN?.[l] })) : undefined;
    const r = yield* this.stack.backward(s, {
      output: this.timeMajorGradient('output', g.output, s.T, s.N, H), states,
    }, needInputGrad);
    return {
      input: r.input ? this.callerLayout(r.input, s.T, s.N, this.inputSize) : null,
      h0: this.stacked(r.states.map((st) => st.h), s.N), c0: this.stacked(r.states.map((st) => st.c), s.N),
      params: this.gradientRecord(),
    };
  }
}
