// FrameClassifier: a recurrent stack (any family) whose every frame is read out by a linear layer
// and trained with frame-wise cross-entropy, as DeltaRNN's keyword spotter (cla-rnn / cla-deltarnn:
// 16 log-mel features → one GRU/DeltaGRU layer → Linear(H → 12), logits per frame). The loss is
// the mean over every frame of the padded batch, padding included (the reference's). A clip's
// prediction is the class of its last frame whose argmax is not silence (silence if none), and
// accuracy counts clips. Parameter names: rnn.<reference names>, cl.weight, cl.bias (the
// reference's classifier), so its checkpoints map one to one.
import { denseInput, type Batch } from '../data/batch-source.js';
import { native } from '../native/addon.js';
import { runAsync } from '../layers/drive.js';
import { buildStack, type StackSpec } from '../layers/families.js';
import { Linear } from '../layers/linear.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import { loadStateInto, stateOf, zeroGrads } from '../layers/parameters.js';
import type { RecurrentStack } from '../layers/stack.js';
import { clipPredictions } from './clip-readout.js';
import { OutputQuantizer, quantizeParameters, type FixedPointFormat } from './fixed-point.js';
import { SparsityMeter, type LayerSparsity } from './sparsity-meter.js';
import { accuracyMetric, type TaskMetric } from './task-metric.js';
import type { BatchKey, BatchResult } from './sequence-classifier.js';

export interface FrameClassifierOptions {
  inputSize: number;
  numClasses: number;
  rnn: StackSpec;
  seed: number;
  /** the class that means "nothing said" (GSCv2's _silence_ = 0) */
  silenceClass?: number;
  /** qc: the classifier's output in fixed point (training too, straight-through gradient) */
  outputFormat?: FixedPointFormat;
  /** qw: every recurrent parameter quantised after each training epoch */
  weightFormat?: FixedPointFormat;
  /** qcw: the classifier's parameters quantised after each training epoch */
  classifierWeightFormat?: FixedPointFormat;
}

export class FrameClassifier {
  readonly taskMetric: TaskMetric = accuracyMetric;
  readonly rnn: RecurrentStack;
  readonly cl: Linear;
  readonly options: FrameClassifierOptions;
  private readonly trainMeter: SparsityMeter;
  private readonly evalMeter: SparsityMeter;
  private readonly output: OutputQuantizer | null;

  constructor(o: FrameClassifierOptions) {
    this.options = o;
    this.rnn = buildStack(o.rnn, o.inputSize, o.seed, 'rnn.');
    const names = this.rnn.cells.map((_, l) => `rnn.${l}`);
    this.trainMeter = new SparsityMeter(this.rnn.cells, names);
    this.evalMeter = new SparsityMeter(this.rnn.cells, names);
    this.cl = new Linear({ inFeatures: this.rnn.outputSize, outFeatures: o.numClasses, seed: o.seed, prefix: 'cl.' });
    this.output = o.outputFormat ? new OutputQuantizer(o.outputFormat) : null;
  }

  parameters(): Parameter[] {
    return [...new Set([...this.rnn.parameters(), ...this.cl.parameters()])];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'FrameClassifier');
  }

  /** Zeroes the gradients, then forward, frame-wise loss and backward on one batch (x [T, N, C], targets [T, N]). */
  async trainBatch(batch: Batch, key: BatchKey = { epoch: 0, batch: 0 }): Promise<BatchResult> {
    const { labels } = batch;
    const x = denseInput(batch, 'FrameClassifier');
    const [T, N] = x.shape;
    const targets = targetsOf(batch);
    const H = this.rnn.outputSize;
    zeroGrads(this.parameters());
    const fwd = await runAsync(this.rnn.forward(x.data, T, N, { training: true, noise: { seed: this.options.seed, epoch: key.epoch, batch: key.batch } }));
    const K = this.options.numClasses;
    const raw = await this.cl.forwardAsync({ data: fwd.output, shape: [T * N, H] }, { training: true });
    const logits = this.output ? this.output.forward(raw.data) : raw.data;
    const ce = native().softmaxCrossEntropy(logits, targets, T * N, K);
    if (this.output) this.output.backward(raw.data, ce.dlogits);
    const g = await this.cl.backwardAsync({ data: ce.dlogits, shape: [T * N, K] }, { accumulate: true });
    const bwd = await runAsync(this.rnn.backward(fwd.saved!, { output: g.input!.data }, false, true));
    this.trainMeter.add(fwd.stats, bwd.stats, T, N);
    return { loss: ce.loss, correct: countCorrect(logits, T, N, K, labels, this.silence()) };
  }

  /** Frame-wise loss and clip accuracy without keeping anything for backward; the layers' stats go to evalSparsity(). */
  async evalBatch(batch: Batch): Promise<BatchResult> {
    const { labels } = batch;
    const x = denseInput(batch, 'FrameClassifier');
    const [T, N] = x.shape;
    const targets = targetsOf(batch);
    const fwd = await runAsync(this.rnn.forward(x.data, T, N, { training: false }));
    const K = this.options.numClasses;
    const raw = await this.cl.forwardAsync({ data: fwd.output, shape: [T * N, this.rnn.outputSize] }, { training: false });
    const logits = this.output ? this.output.forward(raw.data) : raw.data;
    const ce = native().softmaxCrossEntropy(logits, targets, T * N, K);
    this.evalMeter.add(fwd.stats, [], T, N);
    return { loss: ce.loss, correct: countCorrect(logits, T, N, K, labels, this.silence()) };
  }

  /** Sparsity of the training batches since the last call; dense layers report none. */
  sparsity(): LayerSparsity[] {
    return this.trainMeter.take();
  }

  /** Sparsity of the evaluation batches since the last call (the reference's SP_T_* of a test pass). */
  evalSparsity(): LayerSparsity[] {
    return this.evalMeter.take();
  }

  /** The reference's after-epoch weight quantisation (qw for the recurrent layers, qcw for the classifier). */
  afterEpoch(): void {
    const { weightFormat, classifierWeightFormat } = this.options;
    if (weightFormat) quantizeParameters(this.rnn.parameters(), weightFormat);
    if (classifierWeightFormat) quantizeParameters(this.cl.parameters(), classifierWeightFormat);
  }

  private silence(): number {
    return this.options.silenceClass ?? 0;
  }
}

function targetsOf(batch: Batch): Int32Array {
  const [T, N] = denseInput(batch, 'FrameClassifier').shape;
  if (!batch.targets || batch.targets.length !== T * N) {
    throw new RangeError(`FrameClassifier: a batch needs per-frame targets [T=${T}, N=${N}] (a frame-labelled dataset such as gscv2)`);
  }
  return batch.targets;
}

function countCorrect(logits: Float32Array, T: number, N: number, K: number, labels: Int32Array, silence: number): number {
  const predicted = clipPredictions(logits, T, N, K, silence);
  let correct = 0;
  for (let n = 0; n < N; n++) if (predicted[n] === labels[n]) correct++;
  return correct;
}
