// SequenceClassifier: a recurrent stack (any family) read out by a linear layer from the last
// time step (sMNIST / psMNIST), as EvNN's sMNIST script. The readout may read a tap of the last
// layer instead of its output (EvNN's output trace), and regularisers on the last layer's taps
// join the differentiated loss. Parameter names: rnn.<reference names>, readout.weight,
// readout.bias. Nothing here depends on the family: the stack's cells say what they offer.
import { native } from '../native/addon.js';
import type { CellStats } from '../layers/cell.js';
import { runAsync } from '../layers/drive.js';
import { buildStack, type StackSpec } from '../layers/families.js';
import { Linear } from '../layers/linear.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import { loadStateInto, stateOf, zeroGrads } from '../layers/parameters.js';
import type { RecurrentStack } from '../layers/stack.js';
import type { Tensor } from '../layers/tensor.js';
import { denseInput, type Batch } from '../data/batch-source.js';
import { batchActivity, SparsityMeter, type LayerSparsity } from './sparsity-meter.js';
import { addTapRegularizers, type TapRegularizer } from './tap-regularizers.js';
import { accuracyMetric, type TaskMetric } from './task-metric.js';

export type { LayerSparsity } from './sparsity-meter.js';
export type { TapRegularizer } from './tap-regularizers.js';

export interface SequenceClassifierOptions {
  inputSize: number;
  numClasses: number;
  rnn: StackSpec;
  seed: number;
  /** Read out this tap of the last layer (EvNN's output trace: 'trace') instead of its output. */
  readoutTap?: string;
  /** Regularisers on the last layer's taps (EvNN's activity and voltage terms). */
  regularizers?: readonly TapRegularizer[];
}

/** Which batch of which epoch: keys the batch's zoneout/DropConnect/dropout masks, so a resumed run draws the same. */
export interface BatchKey {
  epoch: number;
  batch: number;
}

export interface BatchResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Correctly classified rows. */
  correct: number;
  /** Mean event rate of the layers that emit events (absent for dense models). */
  activity?: number;
}

export class SequenceClassifier {
  readonly taskMetric: TaskMetric = accuracyMetric;
  readonly rnn: RecurrentStack;
  readonly readout: Linear;
  readonly options: SequenceClassifierOptions;
  private readonly meter: SparsityMeter;
  private readonly lastTaps: ReadonlySet<string>;

  constructor(o: SequenceClassifierOptions) {
    this.options = o;
    this.rnn = buildStack(o.rnn, o.inputSize, o.seed, 'rnn.');
    const cells = this.rnn.cells;
    const last = cells[cells.length - 1];
    const wanted = [...(o.readoutTap ? [o.readoutTap] : []), ...(o.regularizers ?? []).map((r) => r.tap)];
    for (const tap of wanted) {
      if (!last.tapNames.includes(tap)) {
        throw new RangeError(`SequenceClassifier: a ${last.family} layer has no '${tap}' tap (it has: ${last.tapNames.join(', ') || 'none'})`);
      }
    }
    this.lastTaps = new Set(wanted);
    this.meter = new SparsityMeter(cells, cells.map((_, l) => `rnn.${l}`));
    this.readout = new Linear({ inFeatures: this.rnn.outputSize, outFeatures: o.numClasses, seed: o.seed, prefix: 'readout.' });
  }

  parameters(): Parameter[] {
    return [...new Set([...this.rnn.parameters(), ...this.readout.parameters()])];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'SequenceClassifier');
  }

  /** Zeroes the gradients, then forward, loss and backward on one batch; x is time-major [T, N, C]. */
  async trainBatch(batch: Batch, key: BatchKey = { epoch: 0, batch: 0 }): Promise<BatchResult> {
    const { labels } = batch;
    const x = denseInput(batch, 'SequenceClassifier');
    const [T, N] = x.shape;
    const L = this.rnn.numLayers;
    const H = this.rnn.outputSize;
    zeroGrads(this.parameters());
    const fwd = await runAsync(this.rnn.forward(x.data, T, N, {
      training: true, noise: { seed: this.options.seed, epoch: key.epoch, batch: key.batch }, taps: this.tapsPerLayer(),
    }));
    const taps = fwd.taps[L - 1];
    const tap = this.options.readoutTap;
    const head = this.readoutLoss(tap ? taps[tap] : fwd.output, T, N, H, labels);
    const tapGrads: Record<string, Float32Array> = tap ? { [tap]: head.dSeq } : {};
    addTapRegularizers(this.options.regularizers ?? [], taps, tapGrads);
    const bwd = await runAsync(this.rnn.backward(fwd.saved!, {
      output: tap ? null : head.dSeq, taps: this.rnn.cells.map((_, l) => (l === L - 1 ? tapGrads : undefined)),
    }, false, true));
    this.meter.add(fwd.stats, bwd.stats, T, N);
    return { loss: head.loss, correct: head.correct, activity: this.activity(fwd.stats, T, N) };
  }

  /** Loss and correct count without keeping anything for backward. */
  async evalBatch(batch: Batch): Promise<BatchResult> {
    const { labels } = batch;
    const x = denseInput(batch, 'SequenceClassifier');
    const [T, N] = x.shape;
    const tap = this.options.readoutTap;
    const fwd = await runAsync(this.rnn.forward(x.data, T, N, {
      training: false, taps: this.rnn.cells.map((_, l) => (l === this.rnn.numLayers - 1 && tap ? new Set([tap]) : undefined)),
    }));
    const seq = tap ? fwd.taps[this.rnn.numLayers - 1][tap] : fwd.output;
    const logits = this.readout.forward(lastStep(seq, T, N, this.rnn.outputSize), { training: false });
    const ce = native().softmaxCrossEntropy(logits.data, labels, N, this.options.numClasses);
    return { loss: ce.loss, correct: ce.correct, activity: this.activity(fwd.stats, T, N) };
  }

  /** Sparsity of the training batches since the last call; dense layers report none. */
  sparsity(): LayerSparsity[] {
    return this.meter.take();
  }

  private tapsPerLayer(): (ReadonlySet<string> | undefined)[] {
    return this.rnn.cells.map((_, l) => (l === this.rnn.numLayers - 1 ? this.lastTaps : undefined));
  }

  private activity(stats: readonly (CellStats | null)[], T: number, N: number): number | undefined {
    return batchActivity(this.rnn.cells, stats, T, N);
  }

  /**
   * Readout of a [T, N, H] sequence's last step, cross-entropy, and the readout's backward (added
   * into its gradients) as the gradient of the whole sequence (zero before the last step).
   */
  private readoutLoss(seq: Float32Array, T: number, N: number, H: number, labels: Int32Array) {
    const K = this.options.numClasses;
    const logits = this.readout.forward(lastStep(seq, T, N, H), { training: true });
    const ce = native().softmaxCrossEntropy(logits.data, labels, N, K);
    const rg = this.readout.backward({ data: ce.dlogits, shape: [N, K] }, { accumulate: true });
    const dSeq = new Float32Array(T * N * H);
    dSeq.set(rg.input!.data, (T - 1) * N * H);
    return { loss: ce.loss, correct: ce.correct, dSeq };
  }
}

/** The [N, H] slice of a [T, N, H] sequence at its last step. */
function lastStep(seq: Float32Array, T: number, N: number, H: number): Tensor {
  return { data: seq.subarray((T - 1) * N * H), shape: [N, H] };
}
