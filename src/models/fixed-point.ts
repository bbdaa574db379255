// Fixed-point emulation at the model level (DeltaRNN's qc, qw, qcw): Q(qi.qf) rounds to a multiple
// of 2^−qf and saturates to [−2^(qi−1), 2^(qi−1) − 2^−qf] (the sign bit counted in qi). The
// arithmetic is the engine's (native/include/evnn/fixed_point.h).
import { native } from '../native/addon.js';
import type { Parameter } from '../layers/parameters.js';

export interface FixedPointFormat {
  /** integer bits, the sign bit included */
  qi: number;
  /** fraction bits */
  qf: number;
}

/** A layer output in fixed point with a straight-through gradient (zero where it saturated). */
export class OutputQuantizer {
  constructor(readonly format: FixedPointFormat) {}

  /** Q(x) as a new array (x stays, for the backward). */
  forward(x: Float32Array): Float32Array {
    const q = x.slice();
    native().quantizeInPlace(q, this.format.qi, this.format.qf);
    return q;
  }

  /** dL/dx from dL/dQ(x), in place: straight through where x did not saturate, else 0. */
  backward(x: Float32Array, dq: Float32Array): void {
    native().quantizePassThrough(x, dq, this.format.qi, this.format.qf);
  }
}

/** Quantises parameters in place (the after-epoch weight quantisation). */
export function quantizeParameters(params: readonly Parameter[], f: FixedPointFormat): void {
  for (const p of params) native().quantizeInPlace(p.data, f.qi, f.qf);
}
