// What PyTorch-style gated cells (nn.GRU, nn.LSTM) share: weight_ih [G·H, C], weight_hh [G·H, H],
// bias_ih, bias_hh with G gate blocks, PyTorch's initialisation U(−1/√H, 1/√H), and the
// arguments every native call of theirs takes.
import type { NoiseKey } from '../native/addon.js';
import type { SparsityFigures, StatTotals } from './cell.js';
import type { Rng } from '../util/rng.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';

export interface TorchCellOptions {
  inputSize: number;
  hiddenSize: number;
  /** Full parameter name of a local one (weight_ih, ...): the stack's naming adapter. */
  name: (local: string) => string;
  /** Draws the PyTorch initialisation U(−1/√H, 1/√H), in parameter order. */
  init: Rng;
  /** Scratch budget of the native kernels (floats per time-chunk buffer); 0 = default. */
  chunkFloats?: number;
  /** AWD's WeightDrop (EvNN's LM baselines): rows of weight_hh dropped with this probability in training; 0 = off */
  dropconnect?: number;
}

export abstract class TorchCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly tapNames: readonly string[] = [];
  readonly emitsEvents = false;
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;
  readonly biasHh: Parameter;
  private readonly chunkFloats: number;
  readonly dropconnect: number;

  protected constructor(o: TorchCellOptions, gates: number) {
    const C = o.inputSize;
    const H = o.hiddenSize;
    this.inputSize = C;
    this.hiddenSize = H;
    this.chunkFloats = o.chunkFloats ?? 0;
    this.dropconnect = o.dropconnect ?? 0;
    if (!(this.dropconnect >= 0 && this.dropconnect < 1)) throw new RangeError(`dropconnect must be in [0, 1), got ${this.dropconnect}`);
    this.weightIh = makeParameter(o.name('weight_ih'), [gates * H, C]);
    this.weightHh = makeParameter(o.name('weight_hh'), [gates * H, H]);
    this.biasIh = makeParameter(o.name('bias_ih'), [gates * H]);
    this.biasHh = makeParameter(o.name('bias_hh'), [gates * H]);
    for (const p of this.parameters()) fillUniform(p, o.init, 1 / Math.sqrt(H));
  }

  parameters(): Parameter[] {
    return [this.weightIh, this.weightHh, this.biasIh, this.biasHh];
  }

  /** Weights, sizes and chunk budget, as every native call of the family takes them. */
  protected weightArgs() {
    return {
      weightIh: this.weightIh.tensor, weightHh: this.weightHh.tensor, biasIh: this.biasIh.tensor, biasHh: this.biasHh.tensor,
      C: this.inputSize, H: this.hiddenSize, chunkFloats: this.chunkFloats,
    };
  }

  /** WeightDrop's arguments of a forward: its probability and the key of its row mask. */
  protected dropArgs(o: { training: boolean; noise?: NoiseKey | null }) {
    return { dropconnect: this.dropconnect, noise: o.training && this.dropconnect > 0 ? o.noise ?? null : null };
  }

  /** The gradient buffers the backward adds into. */
  protected gradArgs() {
    return { dWeightIh: this.weightIh.gradTensor, dWeightHh: this.weightHh.gradTensor, dBiasIh: this.biasIh.gradTensor, dBiasHh: this.biasHh.gradTensor };
  }

  /** Dense families report no sparsity (the delta families override this). */
  sparsity(_t: StatTotals): SparsityFigures {
    return {};
  }
}
