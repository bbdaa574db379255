// What the public PyTorch-style layers (GRU, LSTM) share: a stack of one family's cells named
// weight_ih_l{l}, …, dropout between layers, and states given and returned as [numLayers, N, H]
// tensors by state name (h; h and c).
import { Rng } from '../util/rng.js';
import type { RecurrentCell } from './cell.js';
import type { LayerSteps } from './drive.js';
import { torchNaming } from './naming.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { checkLayerSizes } from './sizes.js';
import { RecurrentStack } from './stack.js';
import type { TorchCellOptions } from './torch-cell.js';
import type { Tensor } from './tensor.js';

export interface TorchLayerOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Input/output as [N, T, C] instead of the engine's time-major [T, N, C]. */
  batchFirst?: boolean;
  /** Dropout between layers (on every layer's output but the last), as PyTorch's dropout. */
  dropout?: number;
  /** Seed for PyTorch's default initialisation U(−1/√H, 1/√H) and the dropout masks. */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "rnn." */
  prefix?: string;
  /** Scratch budget of the native kernels (floats per time-chunk buffer); 0 = default. For tests. */
  chunkFloats?: number;
}

export abstract class TorchLayer<ForwardOptions, Output, GradientsIn, Gradients> extends RecurrentLayer<
  ForwardOptions, Output, GradientsIn, Gradients
> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  protected readonly stack: RecurrentStack;
  private readonly seed: number;
  private calls = 0;

  protected constructor(owner: string, o: TorchLayerOptions, initStream: number, cell: (c: TorchCellOptions) => RecurrentCell) {
    super();
    this.numLayers = checkLayerSizes(owner, o);
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.batchFirst = o.batchFirst ?? false;
    this.seed = o.seed ?? 0;
    const init = new Rng(this.seed, initStream);
    const name = torchNaming(o.prefix ?? '');
    this.stack = new RecurrentStack(Array.from({ length: this.numLayers }, (_, l) => cell({
      inputSize: l === 0 ? o.inputSize : o.hiddenSize, hiddenSize: o.hiddenSize, name: (k) => name(k, l, this.numLayers), init,
      chunkFloats: o.chunkFloats,
    })), { dropout: o.dropout });
  }

  /** Forward over x with initial states by name ([numLayers, N, H] each); the final states by name. */
  protected *forwardStates(xIn: Tensor, training: boolean, given: Record<string, Tensor | undefined>): LayerSteps<{ output: Tensor; states: Record<string, Tensor> }> {
    const { x, T, N } = this.timeMajorInput(xIn);
    const r = yield* this.runStack(x, T, N, {
      training, state0: this.initialStates(N, given), noise: { seed: this.seed, epoch: 0, batch: this.calls++ },
    });
    const names = Object.keys(r.states[0]);
    return {
      output: this.callerLayout(r.output, T, N, this.hiddenSize),
      states: Object.fromEntries(names.map((k) => [k, this.stacked(r.states.map((s) => s[k]), N)])),
    };
  }

  /** Backward from the output's and the final states' gradients (by name); the initial states' gradients by name. */
  protected *backwardStates(output: Tensor | undefined, finals: Record<string, Tensor | undefined>, needInputGrad: boolean): LayerSteps<{
    input: Tensor | null; states: Record<string, Tensor>; params: Record<string, Float32Array>;
  }> {
    const s = this.savedState();
    const per = Object.fromEntries(Object.entries(finals).map(([k, t]) => [k, this.perLayer(`${k}N gradient`, t, s.N)]));
    const given = Object.keys(per).filter((k) => per[k]);
    const states = given.length > 0 ? Array.from({ length: this.numLayers }, (_, l) => Object.fromEntries(given.map((k) => [k, per[k]![l]]))) : undefined;
    const r = yield* this.stack.backward(s, {
      output: this.timeMajorGradient('output', output, s.T, s.N, this.hiddenSize), states,
    }, needInputGrad);
    const names = Object.keys(r.states[0]);
    return {
      input: r.input ? this.callerLayout(r.input, s.T, s.N, this.inputSize) : null,
      states: Object.fromEntries(names.map((k) => [k, this.stacked(r.states.map((st) => st[k]), s.N)])),
      params: this.gradientRecord(),
    };
  }
}
