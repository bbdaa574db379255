// DeltaGRU cell (gaochangw/DeltaRNN's DeltaGRU, DESIGN §3): PyTorch nn.GRU's parameters
// (weight_ih [3H,C], weight_hh [3H,H], bias_ih, bias_hh, gate blocks r, z, n) and state {h}; a
// GRU checkpoint loads as it is. Per step only the input and hidden deltas of at least Θx, Θh
// enter the products; forward and backward run in native/src/cpu/delta_gru.cc.
import type {
  CellBackward, CellForward, CellForwardOptions, CellGradients, CellInput, CellSaved, CellState, CellSteps, RecurrentCell,
} from './cell.js';
import { DeltaCell, refuseInitialState, type DeltaCellOptions } from './delta-cell.js';
import { call } from './drive.js';

export type DeltaGRUCellOptions = DeltaCellOptions;

export class DeltaGRUCell extends DeltaCell implements RecurrentCell {
  readonly family = 'deltagru';
  readonly stateNames = ['h'] as const;

  constructor(o: DeltaGRUCellOptions) {
    super(o, 3, 'DeltaGRU');
  }

  *forward(x: CellInput, state0: Partial<CellState>, o: CellForwardOptions): CellSteps<CellForward> {
    refuseInitialState(this.owner, state0);
    const { T, N } = x;
    const H = this.hiddenSize;
    const r = yield* call('deltaGruForward', { ...this.forwardArgs(o.training), x: x.data, T, N, training: o.training });
    return {
      output: r.y, state: { h: r.y.slice((T - 1) * N * H, T * N * H) }, taps: {}, stats: { ...r.stats },
      saved: r.saved ? { handle: r.saved, T, N, below: x.below } : null,
    };
  }

  *backward(saved: CellSaved, g: CellGradients, needInputGrad: boolean): CellSteps<CellBackward> {
    const r = yield* call('deltaGruBackward', {
      ...this.backwardArgs(), saved: saved.handle, T: saved.T, N: saved.N, dy: g.output, dhN: g.state.h ?? null, needDx: needInputGrad,
    });
    // No initial state, so no gradient of one.
    return { input: r.dx, state: {}, stats: { ...r.stats } };
  }
}
