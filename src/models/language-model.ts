// EvNN's language model (benchmarks/lm/models.py, see shared/references/evnn-lm.md §2): an
// embedding with word dropout, embedding dropout, a recurrent stack whose layers hand each other
// their outputs (an EGRU's event output y) with dropout between them, output dropout, and a decoder
// tied to the embedding with a zero bias; the loss is the mean token cross-entropy and the task
// metric perplexity. The state of every layer (an EGRU's y; an LSTM's h and c) is carried,
// detached, from one segment to the next, taken before dropout; an EGRU's c restarts at 0 in every
// segment, as EvNN's kernel does. Names are EvNN's: embeddings.weight, rnns.{l}.kernel, …,
// decoder.decoder.weight (the embedding's, tied) and decoder.decoder.bias.
import type { CellState, CellStats } from '../layers/cell.js';
import { call, runAsync, type LayerSteps } from '../layers/drive.js';
import { Embedding } from '../layers/embedding.js';
import { buildStack, perLayerNaming, type StackSpec } from '../layers/families.js';
import { Linear } from '../layers/linear.js';
import { loadStateInto, stateOf, zeroGrads, type Parameter, type StateRecord } from '../layers/parameters.js';
import type { RecurrentStack } from '../layers/stack.js';
import { native, type NoiseKey, type Saved } from '../native/addon.js';
import { batchActivity, SparsityMeter, type LayerSparsity } from './sparsity-meter.js';
import { perplexityMetric, type TaskMetric } from './task-metric.js';

export interface LanguageModelOptions {
  vocabSize: number;
  /** embedding width; the last recurrent layer must be as wide (the decoder is tied to the embedding) */
  embDim: number;
  /** the recurrent stack (rnn.dropout: EvNN's dropout_forward between layers) */
  rnn: StackSpec;
  seed: number;
  /** whole vocabulary rows dropped in training (EvNN's dropout_words) */
  dropoutWords?: number;
  /** dropout on the embedded input (EvNN's dropout_emb) */
  dropoutEmb?: number;
  /** dropout on the last layer's output (EvNN hard-codes 0.5) */
  dropoutOutput?: number;
  /**
   * What one dropout mask element covers, for the embedding, between-layer and output dropout:
   * 'evnn' one (step, unit), shared across the batch and resampled every step (EvNN's
   * VariationalDropout on batch-first input; the default); 'locked' one (sample, unit), shared
   * across the segment's steps (AWD-LSTM's); 'element' one per (step, sample, unit).
   */
  dropoutMode?: DropoutMode;
}

export type DropoutMode = 'evnn' | 'locked' | 'element';
const SHARE = { element: 0, evnn: 1, locked: 2 } as const;

/** Which segment of which epoch: keys every mask of the step (word, embedding, DropConnect, dropout). */
export interface SegmentKey {
  epoch: number;
  batch: number;
}

export interface SegmentResult {
  /** mean cross-entropy over the segment's T·N tokens */
  loss: number;
  tokens: number;
  /** tokens whose most likely prediction was the target */
  correct: number;
  /** mean event rate of the layers that emit events (absent for dense stacks) */
  activity?: number;
  /** each event-emitting layer's event rate, by layer name (rnns.0, …) */
  layerActivity?: Record<string, number>;
}

// Mask streams of the model's own dropouts (the stack's layers use their indices 0, 1, …).
const EMBEDDING_DROPOUT = 1000;
const OUTPUT_DROPOUT = 1001;
const WORD_DROPOUT = 1002;

export class LanguageModel {
  readonly taskMetric: TaskMetric = perplexityMetric;
  readonly options: LanguageModelOptions;
  readonly embedding: Embedding;
  readonly rnn: RecurrentStack;
  readonly decoder: Linear;
  private readonly meter: SparsityMeter;
  /** the carried state of every layer; null at the start of an epoch or an evaluation */
  private hidden: Partial<CellState>[] | null = null;

  constructor(o: LanguageModelOptions) {
    this.options = o;
    this.embedding = new Embedding({ numEmbeddings: o.vocabSize, embeddingDim: o.embDim, initRange: 0.1, seed: o.seed, prefix: 'embeddings.' });
    this.rnn = buildStack({ ...o.rnn, dropoutShare: SHARE[o.dropoutMode ?? 'evnn'] }, o.embDim, o.seed, 'rnns.', perLayerNaming(o.rnn.type, 'rnns.'));
    if (this.rnn.outputSize !== o.embDim) {
      throw new RangeError(`LanguageModel: the last layer has ${this.rnn.outputSize} units, but the decoder is tied to the ${o.embDim}-wide embedding`);
    }
    this.decoder = new Linear({ inFeatures: o.embDim, outFeatures: o.vocabSize, prefix: 'decoder.decoder.', weight: this.embedding.weight });
    this.decoder.bias!.data.fill(0);
    this.meter = new SparsityMeter(this.rnn.cells, this.rnn.cells.map((_, l) => `rnns.${l}`));
  }

  /** Each parameter once; the tied decoder weight is the embedding's. */
  parameters(): Parameter[] {
    return [...new Set([...this.embedding.parameters(), ...this.rnn.parameters(), ...this.decoder.parameters()])];
  }

  /** EvNN's state_dict names, the tied weight under both of its names. */
  state(): StateRecord {
    const s = stateOf(this.parameters());
    s['decoder.decoder.weight'] = { data: s['embeddings.weight'].data.slice(), shape: [...s['embeddings.weight'].shape] };
    return s;
  }

  /** Takes EvNN's names; decoder.decoder.weight, when present, must equal embeddings.weight (they are one tensor). */
  loadState(record: StateRecord): void {
    const { 'decoder.decoder.weight': tied, ...rest } = record;
    const emb = rest['embeddings.weight'];
    if (tied && emb && (tied.data.length !== emb.data.length || tied.data.some((v, i) => v !== emb.data[i]))) {
      throw new RangeError('LanguageModel.loadState: decoder.decoder.weight differs from embeddings.weight, but the two are tied');
    }
    loadStateInto(this.parameters(), rest, 'LanguageModel');
  }

  /** Forgets the carried state (the start of an epoch or an evaluation pass). */
  resetState(): void {
    this.hidden = null;
  }

  /** The state carried into the next segment, per layer (null after resetState). */
  carriedState(): Partial<CellState>[] | null {
    return this.hidden;
  }

  /** Sets the state carried into the next segment (e.g. to evaluate from a given state). */
  setCarriedState(states: Partial<CellState>[] | null): void {
    this.hidden = states;
  }

  /**
   * One training segment: input and target token ids [T, N] time-major (target = the next token).
   * Zeroes the gradients, then forward, loss and backward; the state carries to the next segment.
   */
  async trainSegment(input: Int32Array, target: Int32Array, T: number, N: number, key: SegmentKey): Promise<SegmentResult> {
    zeroGrads(this.parameters());
    return runAsync(this.segmentSteps(input, target, T, N, { seed: this.options.seed, epoch: key.epoch, batch: key.batch }));
  }

  /** One evaluation segment (no dropout, nothing kept for backward); the state carries on. */
  async evalSegment(input: Int32Array, target: Int32Array, T: number, N: number): Promise<SegmentResult> {
    return runAsync(this.segmentSteps(input, target, T, N, null));
  }

  sparsity(): LayerSparsity[] {
    return this.meter.take();
  }

  private *segmentSteps(input: Int32Array, target: Int32Array, T: number, N: number, noise: Omit<NoiseKey, 'layer'> | null): LayerSteps<SegmentResult> {
    const training = noise !== null;
    const o = this.options;
    const E = o.embDim;
    const V = o.vocabSize;
    const n = T * N;
    if (input.length !== n || target.length !== n) throw new RangeError(`LanguageModel: input and target must hold T·N = ${n} token ids`);
    const key = (layer: number): NoiseKey | null => (noise ? { ...noise, layer } : null);
    const emb = yield* this.embedding.forwardSteps(input, [T, N], { training, wordDropout: o.dropoutWords ?? 0, noise: key(WORD_DROPOUT) });
    const share = SHARE[o.dropoutMode ?? 'evnn'];
    const x = yield* dropout(emb.data, [T, N, E], o.dropoutEmb ?? 0, share, key(EMBEDDING_DROPOUT));
    const fwd = yield* this.rnn.forward(x.y, T, N, { training, noise, state0: this.hidden ?? undefined });
    this.hidden = fwd.states;
    const out = yield* dropout(fwd.output, [T, N, E], o.dropoutOutput ?? 0.5, share, key(OUTPUT_DROPOUT));
    const logits = yield* this.decoder.forwardSteps({ data: out.y, shape: [n, E] }, training);
    const ce = native().softmaxCrossEntropy(logits.data, target, n, V);
    const activity = batchActivity(this.rnn.cells, fwd.stats, T, N);
    const layerActivity = this.layerActivity(fwd.stats, T, N);
    if (!training) return { loss: ce.loss, tokens: n, correct: ce.correct, activity, layerActivity };
    const dOut = (yield* this.decoder.backwardSteps({ data: ce.dlogits, shape: [n, V] }, true)).input!.data;
    const dSeq = yield* dropoutBackward(out.saved, dOut, [T, N, E]);
    const bwd = yield* this.rnn.backward(fwd.saved!, { output: dSeq }, true, true);
    const dEmb = yield* dropoutBackward(x.saved, bwd.input!, [T, N, E]);
    yield* this.embedding.backwardSteps({ data: dEmb, shape: [n, E] });
    this.meter.add(fwd.stats, bwd.stats as (CellStats | null)[], T, N);
    return { loss: ce.loss, tokens: n, correct: ce.correct, activity, layerActivity };
  }

  /** The event rate of each layer that reports one, in one segment. */
  private layerActivity(stats: readonly (CellStats | null)[], T: number, N: number): Record<string, number> | undefined {
    const out: Record<string, number> = {};
    this.rnn.cells.forEach((c, l) => {
      const a = c.sparsity({ forward: stats[l] ?? {}, backward: {}, units: T * N * c.hiddenSize, samples: N }).activity;
      if (a !== undefined) out[`rnns.${l}`] = a;
    });
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

/** The gradient through a dropout (none: dy itself); frees the mask's engine state. */
function* dropoutBackward(saved: Saved | null, dy: Float32Array, [T, N, H]: readonly number[]): LayerSteps<Float32Array> {
  if (!saved) return dy;
  const { dx } = yield* call('dropoutBackward', { saved, dy, T, N, H });
  saved.release();
  return dx;
}

/** Inverted dropout of x [T, N, H] in training (noise given and p > 0); otherwise x itself. */
function* dropout(x: Float32Array, [T, N, H]: readonly number[], p: number, share: number, noise: NoiseKey | null): LayerSteps<{ y: Float32Array; saved: Saved | null }> {
  if (!noise || p === 0) return { y: x, saved: null };
  return yield* call('dropoutForward', { x, T, N, H, p, share, training: true, noise });
}
