// The leaky, non-spiking readout of a spiking classifier (the S3GD reference's SNNReadout):
// out_0 = 0, out_{t+1} = β_r·out_t + (1 − β_r)·(spk_t @ w) over T values, logits = max | sum |
// mean | last over time (native/include/evnn/lif_readout.h has the exact indexing). Its input
// gradient is dense, as the reference's, or only at an S3GD layer's active entries. w [H, O] is
// used as spk @ w.
import { call, type LayerSteps } from '../layers/drive.js';
import type { Parameter } from '../layers/parameters.js';
import type { Saved } from '../native/addon.js';

export type ReadoutReduce = 'max' | 'sum' | 'mean' | 'last';
export const READOUT_REDUCES: readonly ReadoutReduce[] = ['max', 'sum', 'mean', 'last'];

export interface ReadoutSaved {
  handle: Saved;
  B: number;
  T: number;
}

export class LeakyReadout {
  constructor(
    readonly w: Parameter,
    readonly betaReadout: number,
    readonly reduce: ReadoutReduce,
  ) {
    if (!READOUT_REDUCES.includes(reduce)) throw new RangeError(`readout must be one of ${READOUT_REDUCES.join(', ')}, got ${String(reduce)}`);
  }

  get inputSize(): number {
    return this.w.shape[0];
  }

  get outputSize(): number {
    return this.w.shape[1];
  }

  /** spk [B, T, H] → logits [B, O]; training keeps a handle (it references spk) for backward. */
  *forwardSteps(spk: Float32Array, B: number, T: number, training: boolean): LayerSteps<{ logits: Float32Array; saved: ReadoutSaved | null }> {
    const r = yield* call('lifReadoutForward', {
      B, T, H: this.inputSize, O: this.outputSize, spk, w: this.w.tensor, beta: this.betaReadout, reduce: this.reduce, training,
    });
    return { logits: r.logits, saved: r.saved ? { handle: r.saved, B, T } : null };
  }

  /** Adds dL/dw into w.grad; returns dL/dspk [B, T, H] when asked for. */
  *backwardSteps(saved: ReadoutSaved, dlogits: Float32Array, needDspk: boolean): LayerSteps<Float32Array | null> {
    const r = yield* call('lifReadoutBackward', { saved: saved.handle, w: this.w.tensor, dw: this.w.gradTensor, dlogits, needDspk });
    return r.dspk;
  }

  /**
   * Adds dL/dw into w.grad; returns dL/dspk only at the active entries of `at` (an S3GD LIF
   * handle over this readout's input), one value per entry in its order: all that layer's S3GD
   * backward reads, without the dense [B, T, H] array.
   */
  *backwardActiveSteps(saved: ReadoutSaved, dlogits: Float32Array, at: Saved): LayerSteps<Float32Array> {
    const r = yield* call('lifReadoutBackward', { saved: saved.handle, w: this.w.tensor, dw: this.w.gradTensor, dlogits, needDspk: true, at });
    return r.dspkActive!;
  }
}
