// What the float64 DeltaGRU and DeltaLSTM oracles (delta-gru.ts, delta-lstm.ts) share, kept in one
// place because the reference's two layers share it: the options, the thresholding of Δx and Δh
// against the memories x̂ and ĥ (or the held decisions of `masks`), the quantisers of qa, the
// memory starts from the bias sums under qw (with the held linearisation of `heldBiasSums`), the
// zero and MAC counts; on the backward, a step's gate gradients against x̂_t and ĥ_t and the
// routing of dL/dx̂, dL/dĥ to the x and h of the last update (the masks held constant).
import {
  DEFAULT_ACTIVATION, DEFAULT_NONLINEAR, DEFAULT_WEIGHT, passThrough, quantize, quantizeIf, type FixedPointFormat,
} from './fixed-point.js';

export interface DeltaDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

export interface DeltaOptions {
  thetaX: number;
  thetaH: number;
  /** fixed threshold decisions (1 = kept), [T, N, C] and [T, N, H]; overrides the thresholds */
  masks?: { maskX: Uint8Array; maskH: Uint8Array };
  /** fixed-point activations (inference only), in `activation` and (gate outputs) `nonlinear` */
  qa?: boolean;
  /** the memory starts quantised in the `weight` format */
  qw?: boolean;
  /** defaults Q3.5, Q2.6, Q1.7 (the engine's) */
  activation?: FixedPointFormat;
  nonlinear?: FixedPointFormat;
  weight?: FixedPointFormat;
  /**
   * under qw: a base run's tape.biasSums, held: Q_w(s) becomes Q_w(s0) + (s − s0) where Q_w(s0)
   * does not saturate, else Q_w(s0), the linearisation the bias gradient is the derivative of
   * (for finite differences, like the held masks)
   */
  heldBiasSums?: Float64Array;
}

/** The part of a delta oracle's tape both families keep. */
export interface DeltaTape {
  /** x̂ after step t's update [T, N, C]; ĥ likewise [T, N, H] */
  xHat: Float64Array;
  hHat: Float64Array;
  maskX: Uint8Array;
  maskH: Uint8Array;
  /** the memory starts' bias sums [4H] (which sums: the family's file), and d(start)/d(sum): 1, or under qw passThrough of the sum */
  biasSums: Float64Array;
  biasPass: Float64Array;
  /** made with qa (not differentiable: the backward refuses it) */
  qa: boolean;
}

export interface DeltaStats {
  dxZeros: number;
  dxTotal: number;
  dhZeros: number;
  dhTotal: number;
  zeroDx: number;
  zeroDh: number;
  /** (zeros of Δx + zeros of Δh) / (entries of both) */
  zeroBoth: number;
  /** multiply-accumulates of the products over nonzero Δ entries (G = 3H or 4H each), and of the dense layer's T·N·(C + H)·G */
  macs: number;
  macsDense: number;
}

export interface DeltaGradients {
  dx: Float64Array;
  dWeightIh: Float64Array;
  dWeightHh: Float64Array;
  dBiasIh: Float64Array;
  dBiasHh: Float64Array;
}

/** PyTorch weights, weight_ih [G, C] and weight_hh [G, H] (GruParams, LstmParams). */
export interface DeltaWeights {
  weightIh: Float64Array;
  weightHh: Float64Array;
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Q_a and Q_n under qa, the identity otherwise. */
export function deltaQuantizers(o: DeltaOptions): { qa: boolean; qA: (v: number) => number; qN: (v: number) => number } {
  const qa = o.qa ?? false;
  const fa = o.activation ?? DEFAULT_ACTIVATION;
  const fn = o.nonlinear ?? DEFAULT_NONLINEAR;
  return { qa, qA: (v) => quantizeIf(v, fa, qa), qN: (v) => quantizeIf(v, fn, qa) };
}

/** The shared tape, zeroed; biasSums [4H] for the caller to fill, biasPass 1. */
export function deltaTape(d: DeltaDims, qa: boolean): DeltaTape {
  const { T, N, C, H } = d;
  return {
    xHat: new Float64Array(T * N * C),
    hHat: new Float64Array(T * N * H),
    maskX: new Uint8Array(T * N * C),
    maskH: new Uint8Array(T * N * H),
    biasSums: new Float64Array(4 * H),
    biasPass: new Float64Array(4 * H).fill(1),
    qa,
  };
}

/** The memory starts from tape.biasSums: the sums, or under qw Q_w of them (held: see heldBiasSums); fills tape.biasPass under qw. */
export function memoryStarts(tape: DeltaTape, o: DeltaOptions): Float64Array {
  const qw = o.qw ?? false;
  const fw = o.weight ?? DEFAULT_WEIGHT;
  const start = new Float64Array(tape.biasSums.length);
  for (let k = 0; k < start.length; k++) {
    const s = tape.biasSums[k];
    if (!qw) start[k] = s;
    else if (o.heldBiasSums) {
      const s0 = o.heldBiasSums[k];
      start[k] = quantize(s0, fw) + passThrough(s0, fw) * (s - s0);
    } else start[k] = quantize(s, fw);
    if (qw) tape.biasPass[k] = passThrough(s, fw);
  }
  return start;
}

/**
 * The deltas of one row and step: Δx = Q_a(x_t) − x̂ and Δh = h_{t−1} − ĥ, zeroed where |Δ| < Θ
 * (Θ = Q_a(Θ) under qa) or where the held masks say; the memory moves to the value where |Δ| ≥ the
 * update threshold — the same Θ, except under qa with rawUpdateTheta (the DeltaLSTM, as the
 * reference's: zeroing at Q_a(Θ), the update at the unquantised Θ, so with Q_a(Θ) < Θ a Δ in
 * [Q_a(Θ), Θ) is passed on without moving the memory, and passed again the next step; the
 * reference's DeltaGRU updates at Q_a(Θ)). Ties |Δ| = Θ kept. Records x̂, ĥ and the memory
 * updates (the masks) in the tape and counts the exact zeros of the Δ passed on (a kept Δ of 0
 * counts too) for the stats.
 */
export class DeltaThresholds {
  /** the last step's Δx [C] and Δh [H], zero where dropped */
  readonly dx: Float64Array;
  readonly dh: Float64Array;
  private readonly xHat: Float64Array;
  private readonly hHat: Float64Array;
  private readonly thetaX: number;
  private readonly thetaH: number;
  private readonly updateX: number;
  private readonly updateH: number;
  private dxZeros = 0;
  private dhZeros = 0;
  private nonzero = 0;

  constructor(
    private readonly d: DeltaDims, private readonly o: DeltaOptions, private readonly qA: (v: number) => number, private readonly tape: DeltaTape,
    rawUpdateTheta = false,
  ) {
    this.dx = new Float64Array(d.C);
    this.dh = new Float64Array(d.H);
    this.xHat = new Float64Array(d.N * d.C);
    this.hHat = new Float64Array(d.N * d.H);
    this.thetaX = qA(o.thetaX);
    this.thetaH = qA(o.thetaH);
    this.updateX = rawUpdateTheta ? o.thetaX : this.thetaX;
    this.updateH = rawUpdateTheta ? o.thetaH : this.thetaH;
  }

  /** Row b at step t, from x [T, N, C] and the outputs so far y [T, N, H] (h_{−1} = 0). */
  step(t: number, b: number, x: Float64Array, y: Float64Array): void {
    const { N, C, H } = this.d;
    const { tape, o } = this;
    for (let c = 0; c < C; c++) {
      const at = (t * N + b) * C + c;
      this.dx[c] = this.entry(this.qA(x[at]), this.xHat, b * C + c, this.thetaX, this.updateX, o.masks?.maskX, at, tape.maskX, tape.xHat);
      if (this.dx[c] === 0) this.dxZeros++;
      else this.nonzero++;
    }
    for (let k = 0; k < H; k++) {
      const at = (t * N + b) * H + k;
      const hp = t > 0 ? y[((t - 1) * N + b) * H + k] : 0;
      this.dh[k] = this.entry(hp, this.hHat, b * H + k, this.thetaH, this.updateH, o.masks?.maskH, at, tape.maskH, tape.hHat);
      if (this.dh[k] === 0) this.dhZeros++;
      else this.nonzero++;
    }
  }

  /** The counts of the run so far; G (3H or 4H) products per nonzero delta. */
  stats(G: number): DeltaStats {
    const { T, N, C, H } = this.d;
    const { dxZeros, dhZeros } = this;
    const dxTotal = T * N * C;
    const dhTotal = T * N * H;
    return {
      dxZeros,
      dxTotal,
      dhZeros,
      dhTotal,
      zeroDx: dxTotal > 0 ? dxZeros / dxTotal : 0,
      zeroDh: dhTotal > 0 ? dhZeros / dhTotal : 0,
      zeroBoth: dxTotal + dhTotal > 0 ? (dxZeros + dhZeros) / (dxTotal + dhTotal) : 0,
      macs: this.nonzero * G,
      macsDense: (dxTotal + dhTotal) * G,
    };
  }

  /**
   * One entry's delta against memory hat[i]: passed on where |Δ| ≥ theta, hat[i] moved to v where
   * |Δ| ≥ update (both as `held` says, if given); the update and memory written to the tape at `at`.
   */
  private entry(
    v: number, hat: Float64Array, i: number, theta: number, update: number, held: Uint8Array | undefined, at: number,
    mask: Uint8Array, hatTape: Float64Array,
  ): number {
    const dl = v - hat[i];
    const keep = held ? held[at] === 1 : Math.abs(dl) >= theta;
    const moves = held ? held[at] === 1 : Math.abs(dl) >= update;
    if (moves) hat[i] = v;
    mask[at] = moves ? 1 : 0;
    hatTape[at] = hat[i];
    return keep ? dl : 0;
  }
}

/** Zeroed gradients for G = 3H or 4H gate rows. */
export function deltaGradients(d: DeltaDims, G: number): DeltaGradients {
  return {
    dx: new Float64Array(d.T * d.N * d.C),
    dWeightIh: new Float64Array(G * d.C),
    dWeightHh: new Float64Array(G * d.H),
    dBiasIh: new Float64Array(G),
    dBiasHh: new Float64Array(G),
  };
}

/**
 * The backward of row b's step t after its gate gradients: M = start + W x̂_t + U ĥ_t, so the
 * pre-activation gradients dAx (of the W products, and b_ih) and dAh (of the U products, and b_hh;
 * the LSTM passes dAx again) add into the weights' gradients against x̂_t, ĥ_t and into dL/dx̂
 * (accX [N, C]) and dL/dĥ (accH [N, H]). Then x̂_t = m_t ⊙ x_t + (1 − m_t) ⊙ x̂_{t−1} routes
 * them: where the entry was updated, dL/dx̂ is that x's gradient (dx) and dL/dĥ is added into
 * dhPrev (dL/dh_{t−1}; at t = 0 it reaches the constant h_{−1} = 0, unused), and both restart at zero.
 */
export function backStep(
  p: DeltaWeights, tape: DeltaTape, d: DeltaDims, t: number, b: number, dAx: Float64Array, dAh: Float64Array,
  g: DeltaGradients, accX: Float64Array, accH: Float64Array, dhPrev: Float64Array,
): void {
  const { N, C, H } = d;
  const xOff = (t * N + b) * C;
  const hOff = (t * N + b) * H;
  for (let k = 0; k < dAx.length; k++) {
    g.dBiasIh[k] += dAx[k];
    g.dBiasHh[k] += dAh[k];
    for (let c = 0; c < C; c++) {
      g.dWeightIh[k * C + c] += dAx[k] * tape.xHat[xOff + c];
      accX[b * C + c] += dAx[k] * p.weightIh[k * C + c];
    }
    for (let m = 0; m < H; m++) {
      g.dWeightHh[k * H + m] += dAh[k] * tape.hHat[hOff + m];
      accH[b * H + m] += dAh[k] * p.weightHh[k * H + m];
    }
  }
  for (let c = 0; c < C; c++) {
    if (tape.maskX[xOff + c] === 1) {
      g.dx[xOff + c] = accX[b * C + c];
      accX[b * C + c] = 0;
    }
  }
  for (let m = 0; m < H; m++) {
    if (tape.maskH[hOff + m] === 1) {
      dhPrev[b * H + m] += accH[b * H + m];
      accH[b * H + m] = 0;
    }
  }
}
