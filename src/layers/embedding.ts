// Token embedding (PyTorch nn.Embedding names and layout: weight [V, D]) with EvNN's word
// dropout: whole vocabulary rows dropped with probability p in training (the engine draws the
// row mask from Philox, keyed like every other mask), the kept rows scaled by 1/(1 − p). The
// gather and its scatter-add backward run in native/src/cpu/embedding.cc.
import type { NoiseKey, Saved } from '../native/addon.js';
import { Rng } from '../util/rng.js';
import { call, runAsync, runSync, type LayerSteps } from './drive.js';
import { fillUniform, loadStateInto, makeParameter, stateOf, zeroGrads, type Parameter, type StateRecord } from './parameters.js';
import type { Tensor } from './tensor.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** U(−initRange, initRange) initialisation (EvNN's language model: 0.1). */
  initRange?: number;
  seed?: number;
  prefix?: string;
}

export interface EmbeddingForwardOptions {
  training?: boolean;
  /** word dropout probability (training only) */
  wordDropout?: number;
  /** keys the row mask the engine draws */
  noise?: NoiseKey | null;
  /** a caller's exact 0/1 row mask [V] */
  rowMask?: Uint8Array;
}

export class Embedding {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly weight: Parameter;
  private saved: { handle: Saved; n: number } | null = null;

  constructor(o: EmbeddingOptions) {
    for (const k of ['numEmbeddings', 'embeddingDim'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`Embedding: ${k} must be an integer >= 1, got ${o[k]}`);
    }
    this.numEmbeddings = o.numEmbeddings;
    this.embeddingDim = o.embeddingDim;
    this.weight = makeParameter(`${o.prefix ?? ''}weight`, [o.numEmbeddings, o.embeddingDim]);
    fillUniform(this.weight, new Rng(o.seed ?? 0, 0xe3b), o.initRange ?? 0.1);
  }

  parameters(): Parameter[] {
    return [this.weight];
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, 'Embedding');
  }

  /** ids of any shape → [...shape, D]. */
  forward(ids: Int32Array, shape: readonly number[], o: EmbeddingForwardOptions = {}): Tensor {
    return runSync(this.forwardSteps(ids, shape, o));
  }

  forwardAsync(ids: Int32Array, shape: readonly number[], o: EmbeddingForwardOptions = {}): Promise<Tensor> {
    return runAsync(this.forwardSteps(ids, shape, o));
  }

  /** Adds the gradient of the weight into its buffer (zeroed first unless `accumulate`). */
  backward(dy: Tensor, o: { accumulate?: boolean } = {}): Record<string, Float32Array> {
    if (!o.accumulate) zeroGrads(this.parameters());
    runSync(this.backwardSteps(dy));
    return { [this.weight.name]: this.weight.grad.slice() };
  }

  *forwardSteps(ids: Int32Array, shape: readonly number[], o: EmbeddingForwardOptions): LayerSteps<Tensor> {
    const n = ids.length;
    if (shape.reduce((a, b) => a * b, 1) !== n) throw new RangeError(`Embedding: ids has ${n} elements but shape [${shape.join(', ')}]`);
    const training = o.training ?? true;
    const r = yield* call('embeddingForward', {
      ids, weight: this.weight.tensor, n, V: this.numEmbeddings, D: this.embeddingDim, training,
      p: o.wordDropout ?? 0, rowMask: o.rowMask ?? null, noise: o.noise ?? null,
    });
    this.saved?.handle.release();
    this.saved = r.saved ? { handle: r.saved, n } : null;
    return { data: r.y, shape: [...shape, this.embeddingDim] };
  }

  *backwardSteps(dy: Tensor): LayerSteps<void> {
    const s = this.saved;
    if (!s) throw new Error('Embedding.backward: call forward in training mode first');
    if (dy.data.length !== s.n * this.embeddingDim) {
      throw new RangeError(`Embedding.backward: dy has ${dy.data.length} elements, expected ${s.n}·${this.embeddingDim}`);
    }
    yield* call('embeddingBackward', {
      saved: s.handle, dy: dy.data, dWeight: this.weight.gradTensor, n: s.n, V: this.numEmbeddings, D: this.embeddingDim,
    });
  }
}
