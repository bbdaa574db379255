// GestureClassifier: EvNN's DVS128 Gesture model (benchmarks/dvs_gesture/models.py, the optimised
// one): the AlexNet-style front end on every frame (conv.*), dropout, a recurrent stack (EvNN's
// EGRU of 795 units, read through its output trace), dropout, and a linear classifier (fc.*) read
// at the last step or averaged over every step (readout 'mean', EvNN's --use-all-timesteps). The
// classifier is linear, so the mean of its logits over time is the classifier of the mean output:
// the engine averages the [T, N, H] output once and classifies [N, H]. Parameter names are EvNN's
// module's: conv.0.weight … conv.15.bias, layers.{l}.<the family's single-layer names>, fc.weight,
// fc.bias. Nothing here depends on the family.
import { denseInput, type Batch } from '../data/batch-source.js';
import type { CellStats } from '../layers/cell.js';
import { runAsync } from '../layers/drive.js';
import { buildStack, FAMILIES, type StackSpec } from '../layers/families.js';
import { Linear } from '../layers/linear.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import { loadStateInto, stateOf, zeroGrads } from '../layers/parameters.js';
import type { RecurrentStack } from '../layers/stack.js';
import { native, type Saved } from '../native/addon.js';
import { ConvFrontEnd } from './conv-front-end.js';
import type { BatchKey, BatchResult } from './sequence-classifier.js';
import { batchActivity, SparsityMeter, type LayerSparsity } from './sparsity-meter.js';
import { addTapRegularizers, type TapRegularizer } from './tap-regularizers.js';
import { accuracyMetric, type TaskMetric } from './task-metric.js';

export interface GestureClassifierOptions {
  /** side of the (square) frames */
  frameSize: number;
  /** channels per frame (1: EvNN's polarities merged by mean) */
  inChannels?: number;
  numClasses: number;
  rnn: StackSpec;
  seed: number;
  /** EvNN's dropout on the front end's output and on the stack's output (0: none) */
  dropout?: number;
  /** last: classify the last step; mean: the mean over time (EvNN's --use-all-timesteps) */
  readout?: 'last' | 'mean';
  /** read this tap of the last layer instead of its output (EvNN's EGRU: 'trace') */
  readoutTap?: string;
  /** regularisers on the last layer's taps (EvNN's activity term) */
  regularizers?: readonly TapRegularizer[];
  /** the front end's conv widths (tests use small ones; default EvNN's) */
  convChannels?: readonly [number, number, number, number, number];
}

// Noise keys of the model's own dropouts (purpose: dropout), apart from the stack's layer indices.
const FRONT_DROPOUT_LAYER = 1000;
const OUTPUT_DROPOUT_LAYER = 1001;

export class GestureClassifier {
  readonly taskMetric: TaskMetric = accuracyMetric;
  readonly frontEnd: ConvFrontEnd;
  readonly rnn: RecurrentStack;
  readonly fc: Linear;
  readonly options: GestureClassifierOptions;
  private readonly meter: SparsityMeter;
  private readonly lastTaps: ReadonlySet<string>;

  constructor(o: GestureClassifierOptions) {
    this.options = o;
    const p = o.dropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new RangeError(`GestureClassifier: dropout must be in [0, 1), got ${p}`);
    this.frontEnd = new ConvFrontEnd({ frameSize: o.frameSize, inChannels: o.inChannels ?? 1, channels: o.convChannels, seed: o.seed, prefix: 'conv.' });
    // EvNN keeps one module per layer in a ModuleList `layers`: layers.{l}.<single-layer names>.
    const single = FAMILIES[o.rnn.type].naming;
    this.rnn = buildStack(o.rnn, this.frontEnd.outFeatures, o.seed, 'layers.', (local, l) => single(`layers.${l}.`)(local, 0, 1));
    const cells = this.rnn.cells;
    const last = cells[cells.length - 1];
    const wanted = [...(o.readoutTap ? [o.readoutTap] : []), ...(o.regularizers ?? []).map((r) => r.tap)];
    for (const tap of wanted) {
      if (!last.tapNames.includes(tap)) throw new RangeError(`GestureClassifier: a ${last.family} layer has no '${tap}' tap (it has: ${last.tapNames.join(', ') || 'none'})`);
    }
    this.lastTaps = new Set(wanted);
    this.meter = new SparsityMeter(cells, cells.map((_, l) => `layers.${l}`));
    this.fc = new Linear({ inFeatures: this.rnn.outputSize, outFeatures: o.numClasses, seed: o.seed, prefix: 'fc.' });
  }

  parameters(): Parameter[] {
    return [...new Set([...this.frontEnd.parameters(), ...this.rnn.parameters(), ...this.fc.parameters()])];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'GestureClassifier');
  }

  /** Zeroes the gradients, then forward, loss and backward on one batch of frames x [T, N, C, S, S]. */
  async trainBatch(batch: Batch, key: BatchKey = { epoch: 0, batch: 0 }): Promise<BatchResult> {
    const x = denseInput(batch, 'GestureClassifier');
    const [T, N] = x.shape;
    const L = this.rnn.numLayers;
    const H = this.rnn.outputSize;
    const F = this.frontEnd.outFeatures;
    const noise = { seed: this.options.seed, epoch: key.epoch, batch: key.batch };
    const addon = native();
    zeroGrads(this.parameters());
    const features = await this.frontEnd.forwardAsync(x, { training: true });
    const d0 = await this.dropout(features.data, T, N, F, { ...noise, layer: FRONT_DROPOUT_LAYER });
    const fwd = await runAsync(this.rnn.forward(d0.y, T, N, { training: true, noise, taps: this.tapsPerLayer() }));
    const taps = fwd.taps[L - 1];
    const tap = this.options.readoutTap;
    const d1 = await this.dropout(tap ? taps[tap] : fwd.output, T, N, H, { ...noise, layer: OUTPUT_DROPOUT_LAYER });
    const { logits, read } = await this.head(d1.y, T, N, true);
    const K = this.options.numClasses;
    const ce = addon.softmaxCrossEntropy(logits, batch.labels, N, K);
    const g = await this.fc.backwardAsync({ data: ce.dlogits, shape: [N, K] }, { accumulate: true });
    let dSeq: Float32Array = new Float32Array(T * N * H);
    if (read === 'mean') await addon.timeMeanBackwardAsync({ T, N, H, dy: g.input!.data, dx: dSeq });
    else dSeq.set(g.input!.data, (T - 1) * N * H);
    if (d1.saved) dSeq = (await addon.dropoutBackwardAsync({ saved: d1.saved, dy: dSeq, T, N, H })).dx;
    const tapGrads: Record<string, Float32Array> = tap ? { [tap]: dSeq } : {};
    addTapRegularizers(this.options.regularizers ?? [], taps, tapGrads);
    const bwd = await runAsync(this.rnn.backward(fwd.saved!, {
      output: tap ? null : dSeq, taps: this.rnn.cells.map((_, l) => (l === L - 1 ? tapGrads : undefined)),
    }, true, true));
    let dFeatures = bwd.input!;
    if (d0.saved) dFeatures = (await addon.dropoutBackwardAsync({ saved: d0.saved, dy: dFeatures, T, N, H: F })).dx;
    await this.frontEnd.backwardAsync({ data: dFeatures, shape: [T, N, F] }, { accumulate: true });
    this.meter.add(fwd.stats, bwd.stats, T, N);
    return { loss: ce.loss, correct: ce.correct, activity: this.activity(fwd.stats, T, N) };
  }

  /** Loss and correct count without keeping anything for backward. */
  async evalBatch(batch: Batch): Promise<BatchResult> {
    const x = denseInput(batch, 'GestureClassifier');
    const [T, N] = x.shape;
    const L = this.rnn.numLayers;
    const tap = this.options.readoutTap;
    const features = await this.frontEnd.forwardAsync(x, { training: false });
    const fwd = await runAsync(this.rnn.forward(features.data, T, N, {
      training: false, taps: this.rnn.cells.map((_, l) => (l === L - 1 && tap ? new Set([tap]) : undefined)),
    }));
    const { logits } = await this.head(tap ? fwd.taps[L - 1][tap] : fwd.output, T, N, false);
    const ce = native().softmaxCrossEntropy(logits, batch.labels, N, this.options.numClasses);
    return { loss: ce.loss, correct: ce.correct, activity: this.activity(fwd.stats, T, N) };
  }

  /** Sparsity of the training batches since the last call; dense layers report none. */
  sparsity(): LayerSparsity[] {
    return this.meter.take();
  }

  /** The classifier on the last step, or on the mean over time. */
  private async head(seq: Float32Array, T: number, N: number, training: boolean): Promise<{ logits: Float32Array; read: 'last' | 'mean' }> {
    const H = this.rnn.outputSize;
    const read = this.options.readout ?? 'last';
    const rows = read === 'mean'
      ? (await native().timeMeanForwardAsync({ T, N, H, x: seq })).y
      : seq.subarray((T - 1) * N * H, T * N * H);
    const logits = await this.fc.forwardAsync({ data: rows, shape: [N, H] }, { training });
    return { logits: logits.data, read };
  }

  /** Inverted dropout in training (the engine's Philox masks); the identity when p is 0. */
  private async dropout(x: Float32Array, T: number, N: number, H: number, noise: { seed: number; epoch: number; batch: number; layer: number }): Promise<{ y: Float32Array; saved: Saved | null }> {
    const p = this.options.dropout ?? 0;
    if (p === 0) return { y: x, saved: null };
    return native().dropoutForwardAsync({ x, T, N, H, p, share: 0, training: true, noise });
  }

  private tapsPerLayer(): (ReadonlySet<string> | undefined)[] {
    return this.rnn.cells.map((_, l) => (l === this.rnn.numLayers - 1 ? this.lastTaps : undefined));
  }

  private activity(stats: readonly (CellStats | null)[], T: number, N: number): number | undefined {
    return batchActivity(this.rnn.cells, stats, T, N);
  }
}
