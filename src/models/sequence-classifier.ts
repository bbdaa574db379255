// SequenceClassifier: an RNN stack (GRU or EGRU) read out by a linear layer from the last time
// step (sMNIST / psMNIST), as EvNN's sMNIST script: the EGRU may be read through its output trace,
// and its regularisers join the differentiated loss. Parameter names: rnn.<layer names>
// (PyTorch GRU or EvNN EGRU), readout.weight, readout.bias.
import { native } from '../native/addon.js';
import { EGRU } from '../layers/egru.js';
import { GRU } from '../layers/gru.js';
import { Linear } from '../layers/linear.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import { loadStateInto, stateOf } from '../layers/parameters.js';
import type { Tensor } from '../layers/tensor.js';
import { Rng } from '../util/rng.js';
import { egruRegularizers, type Regularizer } from './egru-regularizers.js';
import { SparsityMeter, type LayerSparsity } from './sparsity-meter.js';

export type { LayerSparsity } from './sparsity-meter.js';

export interface EgruSpec {
  thrMean: number;
  dampeningFactor: number;
  pseudoDerivativeSupport: number;
  zoneout: number;
  dropconnect: number;
  gradClip: number;
  weightInitGain: number;
}

export type RnnSpec =
  | { type: 'gru'; hiddenSize: number; numLayers: number }
  | { type: 'egru'; hiddenSize: number; numLayers: number; egru: EgruSpec };

export interface SequenceClassifierOptions {
  inputSize: number;
  numClasses: number;
  rnn: RnnSpec;
  seed: number;
  /** EGRU only: read out the output trace instead of y. */
  useOutputTrace?: boolean;
  /** EGRU only: EvNN's regularisers on the last layer. */
  activityRegularization?: Regularizer;
  voltageRegularization?: Regularizer;
}

/** Which batch of which epoch: seeds the batch's zoneout/DropConnect masks, so a resumed run draws the same. */
export interface BatchKey {
  epoch: number;
  batch: number;
}

export interface BatchResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Correctly classified rows. */
  correct: number;
  /** Mean event rate of the EGRU layers in this batch (absent for dense models). */
  activity?: number;
}

export interface TrainBatchResult extends BatchResult {
  grads: Record<string, Float32Array>;
}

export class SequenceClassifier {
  readonly rnn: GRU | EGRU;
  readonly readout: Linear;
  readonly options: SequenceClassifierOptions;
  private readonly meter: SparsityMeter | null;

  constructor(o: SequenceClassifierOptions) {
    this.options = o;
    const common = { inputSize: o.inputSize, hiddenSize: o.rnn.hiddenSize, numLayers: o.rnn.numLayers, seed: o.seed, prefix: 'rnn.' };
    this.rnn = o.rnn.type === 'egru' ? new EGRU({ ...common, ...o.rnn.egru }) : new GRU(common);
    this.meter = o.rnn.type === 'egru' ? new SparsityMeter(Array.from({ length: o.rnn.numLayers }, (_, l) => `rnn.${l}`)) : null;
    if (o.rnn.type !== 'egru' && (o.useOutputTrace || o.activityRegularization || o.voltageRegularization)) {
      throw new RangeError('SequenceClassifier: the output trace and the regularisers need an EGRU');
    }
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
  async trainBatch(x: Tensor, labels: Int32Array, key: BatchKey = { epoch: 0, batch: 0 }): Promise<TrainBatchResult> {
    return this.rnn instanceof EGRU ? this.trainEgru(this.rnn, x, labels, key) : this.trainGru(this.rnn, x, labels);
  }

  /** Loss and correct count without keeping anything for backward. */
  async evalBatch(x: Tensor, labels: Int32Array): Promise<BatchResult> {
    const [T, N] = x.shape;
    const H = this.rnn.hiddenSize;
    let seq: Float32Array;
    let activity: number | undefined;
    if (this.rnn instanceof EGRU) {
      const useTrace = this.options.useOutputTrace ?? false;
      const out = await this.rnn.forwardAsync(x, { training: false, outputs: { o: false, trace: useTrace } });
      seq = useTrace ? out.trace!.data : out.output.data;
      activity = meanActivity(out.stats, T * N * H);
    } else {
      seq = (await this.rnn.forwardAsync(x, { training: false })).output.data;
    }
    const logits = this.readout.forward(lastStep(seq, T, N, H), { training: false });
    const ce = native().softmaxCrossEntropy(logits.data, labels, N, this.options.numClasses);
    return { loss: ce.loss, correct: ce.correct, activity };
  }

  /** Sparsity of the training batches since the last call; a dense GRU has none. */
  sparsity(): LayerSparsity[] {
    return this.meter ? this.meter.take() : [];
  }

  private async trainGru(rnn: GRU, x: Tensor, labels: Int32Array): Promise<TrainBatchResult> {
    const [T, N] = x.shape;
    const H = rnn.hiddenSize;
    const { output } = await rnn.forwardAsync(x, { training: true });
    const head = this.readoutLoss(output.data, T, N, H, labels);
    const g = await rnn.backwardAsync({ output: head.dSeq }, { needInputGrad: false });
    return { loss: head.loss, correct: head.correct, grads: { ...g.params, ...head.grads } };
  }

  private async trainEgru(rnn: EGRU, x: Tensor, labels: Int32Array, key: BatchKey): Promise<TrainBatchResult> {
    const [T, N] = x.shape;
    const H = rnn.hiddenSize;
    const noise = new Rng(this.options.seed, key.epoch, key.batch, 0xe6);
    const o = this.options;
    const useTrace = o.useOutputTrace ?? false;
    const needO = (o.activityRegularization?.constant ?? 0) > 0;
    const out = await rnn.forwardAsync(x, { training: true, noise, outputs: { o: needO, trace: useTrace } });
    const head = this.readoutLoss(useTrace ? out.trace!.data : out.output.data, T, N, H, labels);
    const seq = (data: Float32Array | null): Tensor | undefined => (data ? { data, shape: [T, N, H] } : undefined);
    const reg = egruRegularizers(out.o?.data ?? null, out.c.data, o.activityRegularization, o.voltageRegularization);
    const g = await rnn.backwardAsync(
      { output: useTrace ? undefined : head.dSeq, trace: useTrace ? head.dSeq : undefined, o: seq(reg.dO), c: seq(reg.dC) },
      { needInputGrad: false },
    );
    this.meter!.add(out.stats, g.stats, T * N * H, N);
    return { loss: head.loss, correct: head.correct, activity: meanActivity(out.stats, T * N * H), grads: { ...g.params, ...head.grads } };
  }

  /**
   * Readout of a [T, N, H] sequence's last step, cross-entropy, and the readout's backward as the
   * gradient of the whole sequence (zero before the last step).
   */
  private readoutLoss(seq: Float32Array, T: number, N: number, H: number, labels: Int32Array) {
    const K = this.options.numClasses;
    const logits = this.readout.forward(lastStep(seq, T, N, H), { training: true });
    const ce = native().softmaxCrossEntropy(logits.data, labels, N, K);
    const rg = this.readout.backward({ data: ce.dlogits, shape: [N, K] });
    const dSeq = new Float32Array(T * N * H);
    dSeq.set(rg.input!.data, (T - 1) * N * H);
    return { loss: ce.loss, correct: ce.correct, dSeq: { data: dSeq, shape: [T, N, H] } as Tensor, grads: rg.params };
  }
}

/** The [N, H] slice of a [T, N, H] sequence at its last step. */
function lastStep(seq: Float32Array, T: number, N: number, H: number): Tensor {
  return { data: seq.subarray((T - 1) * N * H), shape: [N, H] };
}

function meanActivity(stats: readonly { events: number }[], unitsPerLayer: number): number {
  return stats.reduce((a, s) => a + s.events, 0) / (unitsPerLayer * stats.length);
}
