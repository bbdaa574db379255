// SpikingClassifier: feed-forward LIF layers and a leaky readout, trained with S3GD or dense BPTT,
// as the S3GD reference (npvoid/SparseSpikingBackprop): input spikes [B, T, I] → LIF layers
// (w1 [I,H1], w2 [H1,H2], ...) → readout w_{L+1} [H_L, O] reduced over time → logits. Loss =
// NLL(log-softmax(logits)) + the spike-count regulariser on every hidden layer (when given).
// The S3GD chain: the readout's dL/dspk, made at the top layer's active entries only, enters it
// as its dspkActive; each layer's S3GD backward (with the layer below's handle as `lower`) yields
// dL/dx at the lower layer's active entries only, which is that layer's dspkActive; each layer's
// regulariser gradient enters as dspkRow.
// Dense: dx flows dense down the stack. Parameter names are the reference's (w1, w2, w3).
// trainBatch/evalBatch report the NLL as their loss (what the reference records in loss_hist);
// lossAndGrads reports the differentiated objective (NLL + regulariser) and its parts.
import type { Batch } from '../data/batch-source.js';
import {
  checkDecay, initSpikingWeight, LIF, LIF_DEFAULT_BETA,
  type LIFBackwardStats, type LIFForwardStats, type LIFGradients, type LIFSaved, type LifBackwardKind, type LifInit,
} from '../layers/lif.js';
import { call, runAsync, runSync, type LayerSteps } from '../layers/drive.js';
import { loadStateInto, makeParameter, stateOf, zeroGrads, type Parameter, type StateRecord } from '../layers/parameters.js';
import type { SpikeEvents, Tensor } from '../layers/tensor.js';
import { native } from '../native/addon.js';
import { Rng } from '../util/rng.js';
import type { BatchKey, BatchResult } from './sequence-classifier.js';
import { SpikingMeter, spikeRate } from './spiking-meter.js';
import { LeakyReadout, type ReadoutReduce, type ReadoutSaved } from './spiking-readout.js';
import type { LayerSparsity } from './sparsity-meter.js';
import { accuracyMetric, type TaskMetric } from './task-metric.js';

export type { ReadoutReduce } from './spiking-readout.js';

/** The reference's spike-count regulariser (train_and_time.py loss_upper / loss_lower), on every hidden layer. */
export interface SpikeRegularizerOptions {
  lambdaUp: number;
  fUp: number;
  pUp: number;
  lambdaLow: number;
  fLow: number;
}

export interface SpikingClassifierOptions {
  inputSize: number;
  numClasses: number;
  /** LIF layer widths, default [200, 200] */
  hiddenSizes?: readonly number[];
  /** membrane decay, default exp(−1/10) (τ_mem = 10 steps) */
  beta?: number;
  /** readout decay, default exp(−1/10) */
  betaReadout?: number;
  threshold?: number;
  bTh?: number;
  /** default 's3gd' */
  backward?: LifBackwardKind;
  /** default 'max' */
  readout?: ReadoutReduce;
  /** default 'normal' */
  init?: LifInit;
  /** absent or null: no regulariser */
  regularizer?: SpikeRegularizerOptions | null;
  seed?: number;
}

/** Counts of one batch, per hidden layer (backward: null outside training). */
export interface SpikingBatchStats {
  forward: LIFForwardStats[];
  backward: LIFBackwardStats[] | null;
}

export interface SpikingLossAndGrads {
  /** the objective the gradients are of: NLL + regulariser (batch means) */
  loss: number;
  /** NLL of log-softmax(logits), the batch mean */
  nll: number;
  /** the regulariser's part of the loss, per hidden layer */
  regularizerLoss: number[];
  /** dL/d parameter by name (w1 .. w_{L+1}), copies */
  grads: Record<string, Float32Array>;
  /** [B, O] */
  logits: Float32Array;
  correct: number;
  stats: SpikingBatchStats;
}

export interface SpikingForward {
  /** [B, O] */
  logits: Float32Array;
  /** each hidden layer's spikes [B, T, H_l] */
  spikes: Tensor[];
  stats: LIFForwardStats[];
}

interface StepResult {
  loss: number;
  nll: number;
  regularizerLoss: number[];
  logits: Float32Array;
  correct: number;
  spikes: Tensor[];
  stats: SpikingBatchStats;
}

/** Stream of the classifier's weight initialisation (one Rng per weight: (seed, this, l)). */
const INIT_STREAM = 0x5c1;

export class SpikingClassifier {
  readonly taskMetric: TaskMetric = accuracyMetric;
  readonly layers: readonly LIF[];
  readonly readout: LeakyReadout;
  readonly regularizer: SpikeRegularizerOptions | null;
  readonly inputSize: number;
  readonly numClasses: number;
  private readonly trainMeter: SpikingMeter;
  private readonly evalMeter: SpikingMeter;

  constructor(o: SpikingClassifierOptions) {
    for (const k of ['inputSize', 'numClasses'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`SpikingClassifier: ${k} must be an integer >= 1, got ${o[k]}`);
    }
    if (o.numClasses < 2) throw new RangeError(`SpikingClassifier: numClasses must be >= 2, got ${o.numClasses}`);
    const hidden = o.hiddenSizes ?? [200, 200];
    if (hidden.length < 1) throw new RangeError('SpikingClassifier: hiddenSizes needs at least one layer');
    hidden.forEach((h, l) => {
      if (!Number.isInteger(h) || h < 1) throw new RangeError(`SpikingClassifier: hiddenSizes[${l}] must be an integer >= 1, got ${h}`);
    });
    this.inputSize = o.inputSize;
    this.numClasses = o.numClasses;
    this.regularizer = o.regularizer ? checkRegularizer(o.regularizer) : null;
    const seed = o.seed ?? 0;
    const sizes = [o.inputSize, ...hidden];
    this.layers = hidden.map((h, l) => new LIF({
      inputSize: sizes[l], hiddenSize: h, beta: o.beta, threshold: o.threshold, bTh: o.bTh, backward: o.backward,
      init: o.init, name: `w${l + 1}`, seed: new Rng(seed, INIT_STREAM, l).nextU32(),
    }));
    const top = hidden[hidden.length - 1];
    const w = makeParameter(`w${hidden.length + 1}`, [top, o.numClasses]);
    // the reference initialises the readout like the hidden layers (fan-in H_L, the same β)
    initSpikingWeight(w, o.init ?? 'normal', top, this.layers[0].beta, new Rng(seed, INIT_STREAM, hidden.length));
    this.readout = new LeakyReadout(w, checkDecay(o.betaReadout ?? LIF_DEFAULT_BETA, 'SpikingClassifier: betaReadout'), o.readout ?? 'max');
    const names = this.layers.map((_, l) => `lif.${l}`);
    this.trainMeter = new SpikingMeter(names);
    this.evalMeter = new SpikingMeter(names);
  }

  get backwardKind(): LifBackwardKind {
    return this.layers[0].backwardKind;
  }

  /** w1 .. w_L, then the readout's w_{L+1}. */
  parameters(): Parameter[] {
    return [...this.layers.map((l) => l.w), this.readout.w];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'SpikingClassifier');
  }

  /** Zeroes the gradients, then forward, loss and backward on one batch of spike events (batch.events). */
  async trainBatch(batch: Batch, _key: BatchKey = { epoch: 0, batch: 0 }): Promise<BatchResult> {
    const events = eventsOf(batch);
    zeroGrads(this.parameters());
    const r = await runAsync(this.step(events, batch.labels, true));
    this.trainMeter.add(r.stats.forward, r.stats.backward, events.B);
    return { loss: r.nll, correct: r.correct, activity: meanRate(r.stats.forward) };
  }

  /** NLL and correct count without keeping anything for backward; the layers' stats go to evalSparsity(). */
  async evalBatch(batch: Batch): Promise<BatchResult> {
    const events = eventsOf(batch);
    const r = await runAsync(this.step(events, batch.labels, false));
    this.evalMeter.add(r.stats.forward, null, events.B);
    return { loss: r.nll, correct: r.correct, activity: meanRate(r.stats.forward) };
  }

  /**
   * The library's backward: zeroes the gradients, runs forward, loss and backward on the input
   * (events or a dense [B, T, I] tensor) and labels, and returns the loss and every parameter's
   * gradient by name (the grad buffers hold them too).
   */
  lossAndGrads(input: SpikeEvents | Tensor, labels: Int32Array): SpikingLossAndGrads {
    zeroGrads(this.parameters());
    const r = runSync(this.step(input, labels, true));
    const grads = Object.fromEntries(this.parameters().map((p) => [p.name, p.grad.slice()]));
    return { loss: r.loss, nll: r.nll, regularizerLoss: r.regularizerLoss, grads, logits: r.logits, correct: r.correct, stats: r.stats };
  }

  /** Inference: logits and each layer's spikes. */
  forward(input: SpikeEvents | Tensor): SpikingForward {
    return runSync(this.forwardSteps(input));
  }

  /** Sparsity of the training batches since the last call: one row per LIF layer. */
  sparsity(): LayerSparsity[] {
    return this.trainMeter.take();
  }

  /** Sparsity of the evaluation batches since the last call. */
  evalSparsity(): LayerSparsity[] {
    return this.evalMeter.take();
  }

  private *forwardSteps(input: SpikeEvents | Tensor): LayerSteps<SpikingForward> {
    const { B, T } = dimsOf(input);
    let x: SpikeEvents | Tensor = input;
    const spikes: Tensor[] = [];
    const stats: LIFForwardStats[] = [];
    for (const layer of this.layers) {
      const f = yield* layer.forwardSteps(x, false);
      spikes.push(f.spk);
      stats.push(f.stats);
      x = f.spk;
    }
    const { logits } = yield* this.readout.forwardSteps(spikes[spikes.length - 1].data, B, T, false);
    return { logits, spikes, stats };
  }

  private *step(input: SpikeEvents | Tensor, labels: Int32Array, training: boolean): LayerSteps<StepResult> {
    const { B, T } = dimsOf(input);
    if (!(labels instanceof Int32Array) || labels.length !== B) throw new RangeError(`SpikingClassifier: labels must be an Int32Array of B = ${B} values`);
    const saved: LIFSaved[] = [];
    const spikes: Tensor[] = [];
    const forward: LIFForwardStats[] = [];
    let x: SpikeEvents | Tensor = input;
    for (const layer of this.layers) {
      const f = yield* layer.forwardSteps(x, training);
      if (f.saved) saved.push(f.saved);
      spikes.push(f.spk);
      forward.push(f.stats);
      x = f.spk;
    }
    const top = spikes[spikes.length - 1];
    const ro = yield* this.readout.forwardSteps(top.data, B, T, training);
    const ce = native().softmaxCrossEntropy(ro.logits, labels, B, this.numClasses);
    const regularizerLoss: number[] = [];
    const rows: (Float32Array | null)[] = [];
    for (let l = 0; l < this.layers.length; l++) {
      if (!this.regularizer) {
        rows.push(null);
        continue;
      }
      const r = yield* call('spikeCountRegularizer', { B, T, H: this.layers[l].hiddenSize, spk: spikes[l].data, ...this.regularizer });
      regularizerLoss.push(r.loss);
      rows.push(r.dspkRow);
    }
    const loss = ce.loss + regularizerLoss.reduce((a, b) => a + b, 0);
    let backward: LIFBackwardStats[] | null = null;
    if (training) {
      backward = yield* this.backwardSteps(saved, ro.saved!, ce.dlogits, rows);
      for (const s of saved) s.handle.release();
      ro.saved!.handle.release();
    }
    return { loss, nll: ce.loss, regularizerLoss, logits: ro.logits, correct: ce.correct, spikes, stats: { forward, backward } };
  }

  private *backwardSteps(saved: readonly LIFSaved[], ro: ReadoutSaved, dlogits: Float32Array, rows: readonly (Float32Array | null)[]): LayerSteps<LIFBackwardStats[]> {
    const L = this.layers.length;
    const stats: LIFBackwardStats[] = new Array<LIFBackwardStats>(L);
    const s3gd = this.backwardKind === 's3gd';
    let dense: Tensor | null = null;
    let active: Float32Array | null = null;
    if (s3gd) {
      // only at the top layer's active entries: all its S3GD backward reads (exact, no dense array)
      active = yield* this.readout.backwardActiveSteps(ro, dlogits, saved[L - 1].handle);
    } else {
      const dTop = yield* this.readout.backwardSteps(ro, dlogits, true);
      dense = { data: dTop!, shape: [ro.B, ro.T, this.layers[L - 1].hiddenSize] };
    }
    for (let l = L - 1; l >= 0; l--) {
      const g: LIFGradients = yield* this.layers[l].backwardSteps(saved[l], {
        dspk: dense, dspkActive: active, dspkRow: rows[l], lower: s3gd && l > 0 ? saved[l - 1] : null, needInputGrad: l > 0,
      });
      stats[l] = g.stats;
      dense = g.dx;
      active = g.dxActive;
    }
    return stats;
  }
}

function checkRegularizer(r: SpikeRegularizerOptions): SpikeRegularizerOptions {
  for (const k of ['lambdaUp', 'fUp', 'pUp', 'lambdaLow', 'fLow'] as const) {
    if (!(Number.isFinite(r[k]) && r[k] >= 0)) throw new RangeError(`SpikingClassifier: regularizer.${k} must be a finite number >= 0, got ${r[k]}`);
  }
  return { lambdaUp: r.lambdaUp, fUp: r.fUp, pUp: r.pUp, lambdaLow: r.lambdaLow, fLow: r.fLow };
}

function eventsOf(batch: Batch): SpikeEvents {
  if (!batch.events) {
    throw new TypeError('SpikingClassifier reads spike events (batch.events); this batch holds dense input [T, N, C] (use a spike-event dataset: fmnist, nmnist or shd)');
  }
  if (batch.events.B !== batch.labels.length) throw new RangeError(`SpikingClassifier: the batch has ${batch.events.B} event samples but ${batch.labels.length} labels`);
  return batch.events;
}

function dimsOf(input: SpikeEvents | Tensor): { B: number; T: number } {
  if ('offsets' in input) return { B: input.B, T: input.T };
  if (input.shape.length !== 3) throw new RangeError(`SpikingClassifier: a dense input must be [B, T, I], got shape [${input.shape.join(', ')}]`);
  return { B: input.shape[0], T: input.shape[1] };
}

function meanRate(stats: readonly LIFForwardStats[]): number {
  return stats.reduce((a, s) => a + spikeRate(s), 0) / stats.length;
}
