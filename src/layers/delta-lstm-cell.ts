// DeltaLSTM cell (gaochangw/DeltaRNN's DeltaLSTM, DESIGN §3): PyTorch nn.LSTM's parameters
// (weight_ih [4H,C], weight_hh [4H,H], bias_ih, bias_hh, gate blocks i, f, g, o) and state {h, c};
// an LSTM checkpoint loads as it is. Forward and backward run in native/src/cpu/delta_lstm.cc.
// Initialisation: PyTorch's (see delta-cell.ts for why).
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
} from './cell.js';
import { DeltaCell, refuseInitialState, type DeltaCellOptions } from './delta-cell.js';
import { call } from './drive.js';

export type DeltaLSTMCellOptions = DeltaCellOptions;

export class DeltaLSTMCell extends DeltaCell implements RecurrentCell {
  readonly family = 'deltalstm';
  readonly stateNames = ['h', 'c'] as const;

  constructor(o: DeltaLSTMCellOptions) {
    super(o, 4, 'DeltaLSTM');
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    refuseInitialState(this.owner, state0);
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* call('deltaLstmForward', { ...this.forwardArgs(o.training), x: x.data, T, N, training: o.training });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H), c: r.cN }, taps: {}, stats: { ...r.stats },
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('deltaLstmBackward', {
      ...this.backwardArgs(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output,
      dhN: g.state.h ?? null, dcN: g.state.c ?? null, needDx: needInputGrad,
    });
    // No initial state, so no gradient of one.
    return { input: r.dx, state: {}, stats: { ...r.stats } };
  }
}
