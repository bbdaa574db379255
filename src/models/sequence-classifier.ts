// SequenceClassifier: an RNN stack read out by a linear layer from the last time step
// (sMNIST / psMNIST). Parameter names: rnn.<PyTorch GRU names>, readout.weight, readout.bias.
import { native } from '../native/addon.js';
import { GRU } from '../layers/gru.js';
import { Linear } from '../layers/linear.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import { loadStateInto, stateOf } from '../layers/parameters.js';
import type { Tensor } from '../layers/tensor.js';

export interface RnnSpec {
  type: 'gru';
  hiddenSize: number;
  numLayers: number;
}

export interface SequenceClassifierOptions {
  inputSize: number;
  numClasses: number;
  rnn: RnnSpec;
  seed: number;
}

export interface BatchResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Correctly classified rows. */
  correct: number;
}

export interface TrainBatchResult extends BatchResult {
  grads: Record<string, Float32Array>;
}

/** Per-layer sparsity figures for one epoch (empty for dense layers). */
export interface LayerSparsity {
  layer: string;
  activity: number;
  backwardSparsity: number;
  macsForward: number;
  macsForwardDense: number;
  macsBackward: number;
  macsBackwardDense: number;
}

export class SequenceClassifier {
  readonly rnn: GRU;
  readonly readout: Linear;
  readonly options: SequenceClassifierOptions;

  constructor(o: SequenceClassifierOptions) {
    this.options = o;
    this.rnn = new GRU({
      inputSize: o.inputSize, hiddenSize: o.rnn.hiddenSize, numLayers: o.rnn.numLayers, seed: o.seed, prefix: 'rnn.',
    });
    this.readout = new Linear({ inFeatures: o.rnn.hiddenSize, outFeatures: o.numClasses, seed: o.seed, prefix: 'readout.' });
  }

  parameters(): Parameter[] {
    return [...this.rnn.parameters(), ...this.readout.parameters()];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'SequenceClassifier');
  }

  /** Forward, loss and backward on one batch; x is time-major [T, N, C]. */
  async trainBatch(x: Tensor, labels: Int32Array): Promise<TrainBatchResult> {
    const [T, N] = x.shape;
    const H = this.rnn.hiddenSize;
    const logits = await this.readLastStep(x, true);
    const K = this.options.numClasses;
    const ce = native().softmaxCrossEntropy(logits.data, labels, N, K);
    const rg = this.readout.backward({ data: ce.dlogits, shape: [N, K] });
    const dy = new Float32Array(T * N * H);
    dy.set(rg.input!.data, (T - 1) * N * H);
    const g = await this.rnn.backwardAsync({ output: { data: dy, shape: [T, N, H] } }, { needInputGrad: false });
    return { loss: ce.loss, correct: ce.correct, grads: { ...g.params, ...rg.params } };
  }

  /** Loss and correct count without keeping anything for backward. */
  async evalBatch(x: Tensor, labels: Int32Array): Promise<BatchResult> {
    const logits = await this.readLastStep(x, false);
    const ce = native().softmaxCrossEntropy(logits.data, labels, x.shape[1], this.options.numClasses);
    return { loss: ce.loss, correct: ce.correct };
  }

  /** The readout's logits [N, K] from the RNN stack's output at the last time step. */
  private async readLastStep(x: Tensor, training: boolean): Promise<Tensor> {
    const [T, N] = x.shape;
    const H = this.rnn.hiddenSize;
    const { output } = await this.rnn.forwardAsync(x, { training });
    return this.readout.forward({ data: output.data.subarray((T - 1) * N * H), shape: [N, H] }, { training });
  }

  /** Sparsity of the last epoch; a dense GRU has none. */
  sparsity(): LayerSparsity[] {
    return [];
  }
}
