// GRU cell (PyTorch nn.GRU, gate blocks r, z, n): weight_ih [3H,C], weight_hh [3H,H], bias_ih,
// bias_hh; state {h}. Forward and backward run in native/src/cpu/gru.cc.
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
} from './cell.js';
import { call } from './drive.js';
import { TorchCell, type TorchCellOptions } from './torch-cell.js';

export type GRUCellOptions = TorchCellOptions;

export class GRUCell extends TorchCell implements RecurrentCell {
  readonly family = 'gru';
  readonly stateNames = ['h'] as const;

  constructor(o: GRUCellOptions) {
    super(o, 3);
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* call('gruForward', { ...this.weightArgs(), ...this.dropArgs(o), x: x.data, h0: state0.h ?? null, T, N, training: o.training });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H) }, taps: {}, stats: null,
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('gruBackward', {
      ...this.weightArgs(), ...this.gradArgs(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output,
      dhT: g.state.h ?? null, needDx: needInputGrad,
    });
    return { input: r.dx, state: { h: r.dh0 }, stats: null };
  }
}
