// A language model's training epoch and evaluation pass over a batchified token stream, as EvNN's
// LM script runs them (benchmarks/lm/train.py, see shared/references/evnn-lm.md §1): segments in
// order with the state carried from one to the next (reset at the start of each pass); in training
// AWD-style variable BPTT — the base length bptt with probability 0.95, else bptt/2, then
// ~N(base, 5), at least 5 — with the learning rate scaled by length/bptt for that step; evaluation
// at fixed length. The mean is over the tokens scored (EvNN divides by all rows, the last one
// included, a (steps − 1)/steps bias this does not copy).
import type { LanguageModel } from '../models/language-model.js';
import { native } from '../native/addon.js';
import { segment, segmentStarts, type BatchedTokens } from '../data/token-stream.js';
import { Rng } from '../util/rng.js';
import { NonFiniteLossError } from './errors.js';
import type { EpochStats, ProgressSink } from './loop.js';
import type { Optimizer } from './optimizer.js';

export interface LmEpochOptions {
  epoch: number;
  seed: number;
  bptt: number;
  /** AWD-style random segment lengths (EvNN's training); false: every segment bptt long */
  variableBptt: boolean;
  lr: number;
  /** max global gradient norm; 0 = off */
  gradClip: number;
  progress?: ProgressSink;
}

/** The length of the next training segment (EvNN's train.py:322-329). */
export function nextSegmentLength(rng: Rng, bptt: number, variable: boolean): number {
  if (!variable) return bptt;
  const base = rng.uniform() < 0.95 ? bptt : bptt / 2;
  return Math.max(5, Math.floor(base + 5 * rng.normal()));
}

export async function trainLmEpoch(model: LanguageModel, opt: Optimizer, stream: BatchedTokens, o: LmEpochOptions): Promise<EpochStats> {
  const addon = native();
  const grads = model.parameters().map((p) => p.grad);
  const rng = new Rng(o.seed, o.epoch, 0x1b77);
  model.resetState();
  const t0 = performance.now();
  const totals = new Totals();
  // An estimate for the progress bar: segments of about bptt steps.
  o.progress?.start(o.epoch, Math.max(1, Math.ceil((stream.steps - 2) / o.bptt)));
  for (let i = 0, b = 0; i < stream.steps - 2; b++) {
    const len = nextSegmentLength(rng, o.bptt, o.variableBptt);
    const seg = segment(stream, i, len);
    const r = await model.trainSegment(seg.input, seg.target, seg.steps, seg.batchSize, { epoch: o.epoch, batch: b });
    if (!Number.isFinite(r.loss)) throw new NonFiniteLossError(o.epoch, b, 'the loss');
    const norm = o.gradClip > 0 ? addon.clipGlobalNorm(grads, o.gradClip) : addon.globalNorm(grads);
    if (!Number.isFinite(norm)) throw new NonFiniteLossError(o.epoch, b, 'the gradient norm');
    opt.step((o.lr * len) / o.bptt);
    totals.add(r);
    i += seg.steps;
    const seconds = (performance.now() - t0) / 1000;
    o.progress?.update(b + 1, { loss: totals.loss(), accuracy: totals.accuracy(), samplesPerSec: totals.tokens / seconds, activity: totals.activity() });
  }
  return totals.stats((performance.now() - t0) / 1000);
}

/** Loss (mean token cross-entropy), next-token accuracy and activity over the stream at fixed length bptt. */
export async function evaluateLm(model: LanguageModel, stream: BatchedTokens, bptt: number): Promise<EpochStats> {
  model.resetState();
  const t0 = performance.now();
  const totals = new Totals();
  for (const start of segmentStarts(stream.steps, bptt)) {
    const seg = segment(stream, start, bptt);
    totals.add(await model.evalSegment(seg.input, seg.target, seg.steps, seg.batchSize));
  }
  return totals.stats((performance.now() - t0) / 1000);
}

/** Token-weighted sums over the segments of a pass. */
class Totals {
  tokens = 0;
  private lossSum = 0;
  private correct = 0;
  private activitySum = 0;
  private activityTokens = 0;
  private layerSums: Record<string, number> = {};

  add(r: { loss: number; tokens: number; correct: number; activity?: number; layerActivity?: Record<string, number> }): void {
    for (const [layer, a] of Object.entries(r.layerActivity ?? {})) this.layerSums[layer] = (this.layerSums[layer] ?? 0) + a * r.tokens;
    this.lossSum += r.loss * r.tokens;
    this.correct += r.correct;
    this.tokens += r.tokens;
    if (r.activity !== undefined) {
      this.activitySum += r.activity * r.tokens;
      this.activityTokens += r.tokens;
    }
  }

  loss(): number {
    return this.tokens > 0 ? this.lossSum / this.tokens : NaN;
  }

  accuracy(): number {
    return this.tokens > 0 ? this.correct / this.tokens : NaN;
  }

  activity(): number | undefined {
    return this.activityTokens > 0 ? this.activitySum / this.activityTokens : undefined;
  }

  stats(seconds: number): EpochStats {
    const layers = Object.entries(this.layerSums);
    return {
      loss: this.loss(), accuracy: this.accuracy(), samples: this.tokens, seconds, samplesPerSec: this.tokens / seconds,
      activity: this.activity(),
      ...(layers.length > 0 ? { layerActivity: Object.fromEntries(layers.map(([l, s]) => [l, s / this.tokens])) } : {}),
    };
  }
}
