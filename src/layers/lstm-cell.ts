// LSTM cell (PyTorch nn.LSTM, gate blocks i, f, g, o): weight_ih [4H,C], weight_hh [4H,H],
// bias_ih, bias_hh; state {h, c}. Forward and backward run in native/src/cpu/lstm.cc.
import type { Rng } from '../util/rng.js';
import type { CellBackward, CellForward, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell } from './cell.js';
import { call } from './drive.js';
import { fillUniform, makeParameter, type Parameter } from './parameters.js';

export interface LSTMCellOptions {
  inputSize: number;
  hiddenSize: number;
  name: (local: string) => string;
  /** Draws the PyTorch initialisation U(−1/√H, 1/√H), in parameter order. */
  init: Rng;
  chunkFloats?: number;
}

export class LSTMCell implements RecurrentCell {
  readonly family = 'lstm';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly stateNames = ['h', 'c'] as const;
  readonly primaryState = 'h';
  readonly tapNames = [] as const;
  readonly emitsEvents = false;
  readonly maskShapes = {};
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter;
  readonly biasHh: Parameter;
  private readonly chunkFloats: number;

  constructor(o: LSTMCellOptions) {
    const C = o.inputSize;
    const H = o.hiddenSize;
    this.inputSize = C;
    this.hiddenSize = H;
    this.chunkFloats = o.chunkFloats ?? 0;
    this.weightIh = makeParameter(o.name('weight_ih'), [4 * H, C]);
    this.weightHh = makeParameter(o.name('weight_hh'), [4 * H, H]);
    this.biasIh = makeParameter(o.name('bias_ih'), [4 * H]);
    this.biasHh = makeParameter(o.name('bias_hh'), [4 * H]);
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
    const r = yield* call('lstmForward', {
      ...this.args(), x: x.data, h0: state0.h ?? null, c0: state0.c ?? null, T, N, training: o.training,
    });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H), c: r.cN }, taps: {}, stats: null,
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('lstmBackward', {
      ...this.args(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output, dhN: g.state.h ?? null, dcN: g.state.c ?? null,
      dWeightIh: this.weightIh.grad, dWeightHh: this.weightHh.grad, dBiasIh: this.biasIh.grad, dBiasHh: this.biasHh.grad,
      needDx: needInputGrad,
    });
    return { input: r.dx, state: { h: r.dh0, c: r.dc0 }, stats: null };
  }

  sparsity(): Record<string, never> {
    return {};
  }
}
