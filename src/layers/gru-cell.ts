// GRU cell (PyTorch nn.GRU, gate blocks r, z, n): weight_ih [3H,C], weight_hh [3H,H], bias_ih,
// bias_hh; state {h}. Forward and backward run in native/src/cpu/gru.cc.
import type { Rng } from '../util/rng.js';
import type { CellBackward, CellForward, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell } from './cell.js';
import { call } from './drive.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';

export interface GRUCellOptions {
  inputSize: number;
  hiddenSize: number;
  /** Full parameter name of a local one (weight_ih, ...): the stack's naming adapter. */
  name: (local: string) => string;
  /** Draws the PyTorch initialisation U(−1/√H, 1/√H), in parameter order. */
  init: Rng;
  chunkFloats?: number;
}

export class GRUCell implements RecurrentCell {
  readonly family = 'gru';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateNames = ['h'] as const;
  readonly primaryState = 'h';
  readonly tapNames = [] as const;
  readonly emitsEvents = false;
  readonly maskShapes = {};
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;
  readonly biasHh: Parameter;
  private readonly chunkFloats: number;

  constructor(o: GRUCellOptions) {
    const C = o.inputSize;
    const H = o.hiddenSize;
    this.inputSize = C;
    this.hiddenSize = H;
    this.chunkFloats = o.chunkFloats ?? 0;
    this.weightIh = makeParameter(o.name('weight_ih'), [3 * H, C]);
    this.weightHh = makeParameter(o.name('weight_hh'), [3 * H, H]);
    this.biasIh = makeParameter(o.name('bias_ih'), [3 * H]);
    this.biasHh = makeParameter(o.name('bias_hh'), [3 * H]);
    for (const p of this.parameters()) fillUniform(p, o.init, 1 / Math.sqrt(H));
  }

  parameters(): Parameter[] {
    return [this.weightIh, this.weightHh, this.biasIh, this.biasHh];
  }

  private args() {
    return {
      weightIh: this.weightIh.data, weightHh: this.weightHh.data, biasIh: this.biasIh.data, biasHh: this.biasHh.data,
      C: this.inputSize, H: this.hiddenSize, chunkFloats: this.chunkFloats,
    };
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: { training: boolean }): CellSteps<CellForward> {
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* call('gruForward', { ...this.args(), x: x.data, h0: state0.h ?? null, T, N, training: o.training });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H) }, taps: {}, stats: null,
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('gruBackward', {
      ...this.args(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output, dhT: g.state.h ?? null,
      dWeightIh: this.weightIh.grad, dWeightHh: this.weightHh.grad, dBiasIh: this.biasIh.grad, dBiasHh: this.biasHh.grad,
      needDx: needInputGrad,
    });
    return { input: r.dx, state: { h: r.dh0 }, stats: null };
  }

  sparsity(): Record<string, never> {
    return {};
  }
}
