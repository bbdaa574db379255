// One training epoch and one evaluation pass. Batches are built in TypeScript while the previous
// native call runs (the native calls are async), so data preparation overlaps compute.
import { native } from '../native/addon.js';
import type { Parameter } from '../layers/parameters.js';
import { epochOrder, sequentialOrder, slices, type Batch, type BatchSource } from './batches.js';
import { NonFiniteLossError } from './errors.js';
import type { Optimizer } from './optimizer.js';

export interface TrainableModel {
  /** Each parameter once (a tied weight is one Parameter); its `grad` holds the batch's gradient after trainBatch. */
  parameters(): Parameter[];
  /**
   * Zeroes the gradients, then forward, loss and backward on one batch, every use of a weight
   * adding into its `grad`. key seeds the batch's random masks (zoneout, DropConnect), so a
   * resumed run draws the same ones.
   */
  trainBatch(batch: Batch, key: { epoch: number; batch: number }): Promise<{ loss: number; correct: number; activity?: number }>;
  evalBatch(batch: Batch): Promise<{ loss: number; correct: number; activity?: number }>;
}

export interface ProgressSink {
  start(epoch: number, totalBatches: number): void;
  update(batch: number, s: { loss: number; accuracy: number; samplesPerSec: number; activity?: number }): void;
}

export interface EpochStats {
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  samplesPerSec: number;
  /** Mean event rate of a sparse model's layers (absent for dense models). */
  activity?: number;
  /** Each event-emitting layer's event rate, by layer name (language models). */
  layerActivity?: Record<string, number>;
}

export interface TrainEpochOptions {
  epoch: number;
  seed: number;
  batchSize: number;
  lr: number;
  /** Max global gradient norm; 0 disables clipping. */
  gradClip: number;
  progress?: ProgressSink;
}

/**
 * Runs `step` on each batch in order and hands its result to `done`. Batch b+1 is built here on
 * the main thread while step(b)'s native work runs on a worker, so data preparation overlaps compute.
 */
async function forEachBatch<R>(
  source: BatchSource,
  parts: readonly Int32Array[],
  step: (batch: Batch, index: number) => Promise<R>,
  done: (result: R, batch: Batch, index: number) => void,
  key?: { epoch: number; seed: number },
): Promise<void> {
  let next: Batch | undefined = parts.length > 0 ? source.batch(parts[0], key) : undefined;
  for (let b = 0; b < parts.length; b++) {
    const batch = next!;
    const pending = step(batch, b);
    next = b + 1 < parts.length ? source.batch(parts[b + 1], key) : undefined;
    done(await pending, batch, b);
  }
}

export async function trainEpoch(model: TrainableModel, opt: Optimizer, source: BatchSource, o: TrainEpochOptions): Promise<EpochStats> {
  const addon = native();
  const parts = [...slices(epochOrder(source.count, o.seed, o.epoch), o.batchSize)];
  o.progress?.start(o.epoch, parts.length);
  const t0 = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  const activity = new ActivityMean();
  const grads = model.parameters().map((p) => p.grad);
  await forEachBatch(source, parts, (batch, b) => model.trainBatch(batch, { epoch: o.epoch, batch: b }), (r, batch, b) => {
    if (!Number.isFinite(r.loss)) throw new NonFiniteLossError(o.epoch, b, 'the loss');
    const norm = o.gradClip > 0 ? addon.clipGlobalNorm(grads, o.gradClip) : addon.globalNorm(grads);
    if (!Number.isFinite(norm)) throw new NonFiniteLossError(o.epoch, b, 'the gradient norm');
    opt.step(o.lr);
    const n = batch.labels.length;
    lossSum += r.loss * n;
    correct += r.correct;
    seen += n;
    activity.add(r.activity, n);
    const seconds = (performance.now() - t0) / 1000;
    o.progress?.update(b + 1, { loss: lossSum / seen, accuracy: correct / seen, samplesPerSec: seen / seconds, activity: activity.value() });
  }, { epoch: o.epoch, seed: o.seed });
  const seconds = (performance.now() - t0) / 1000;
  return { loss: lossSum / seen, accuracy: correct / seen, samples: seen, seconds, samplesPerSec: seen / seconds, activity: activity.value() };
}

/** Sample-weighted mean of the batches' event rates; undefined when the model reports none. */
class ActivityMean {
  private sum = 0;
  private n = 0;
  add(activity: number | undefined, samples: number): void {
    if (activity === undefined) return;
    this.sum += activity * samples;
    this.n += samples;
  }
  value(): number | undefined {
    return this.n > 0 ? this.sum / this.n : undefined;
  }
}

export async function evaluate(model: TrainableModel, source: BatchSource, batchSize: number): Promise<EpochStats> {
  const t0 = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  const activity = new ActivityMean();
  const parts = [...slices(sequentialOrder(source.count), batchSize)];
  await forEachBatch(source, parts, (batch) => model.evalBatch(batch), (r, batch) => {
    lossSum += r.loss * batch.labels.length;
    correct += r.correct;
    seen += batch.labels.length;
    activity.add(r.activity, batch.labels.length);
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    loss: seen ? lossSum / seen : NaN, accuracy: seen ? correct / seen : NaN, samples: seen, seconds,
    samplesPerSec: seen / seconds, activity: activity.value(),
  };
}
