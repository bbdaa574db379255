// LSTM cell (PyTorch nn.LSTM, gate blocks i, f, g, o): weight_ih [4H,C], weight_hh [4H,H],
// bias_ih, bias_hh; state {h, c}. Forward and backward run in native/src/cpu/lstm.cc.
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
} from './cell.js';
import { call } from './drive.js';
import { TorchCell, type TorchCellOptions } from './torch-cell.js';

export type LSTMCellOptions = TorchCellOptions;

export class LSTMCell extends TorchCell implements RecurrentCell {
  readonly family = 'lstm';
  readonly stateNames = ['h', 'c'] as const;

  constructor(o: LSTMCellOptions) {
    super(o, 4);
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* call('lstmForward', {
      ...this.weightArgs(), ...this.dropArgs(o), x: x.data, h0: state0.h ?? null, c0: state0.c ?? null, T, N, training: o.training,
    });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H), c: r.cN }, taps: {}, stats: null,
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('lstmBackward', {
      ...this.weightArgs(), ...this.gradArgs(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output,
      dhN: g.state.h ?? null, dcN: g.state.c ?? null, needDx: needInputGrad,
    });
    return { input: r.dx, state: { h: r.dh0, c: r.dc0 }, stats: null };
  }
}
