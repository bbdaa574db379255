// Oracle for one DeltaGRU layer (gaochangw/DeltaRNN's DeltaGRU, DESIGN §3), PyTorch GRU parameters
// (weight_ih [3H, C], weight_hh [3H, H], biases [3H], gate blocks r, z, n). Per step t, with
// memories x̂ = ĥ = 0 and h_{−1} = 0 at the start:
//   Δx = x_t − x̂, entries with |Δx| < Θx zeroed, x̂ ← x_t exactly where |Δx| ≥ Θx (ties kept)
//   Δh = h_{t−1} − ĥ, likewise with Θh
//   M_r += W_r Δx + U_r Δh, M_z += W_z Δx + U_z Δh, M_xn += W_n Δx, M_hn += U_n Δh
//   (starting at b_ir + b_hr, b_iz + b_hz, b_in, b_hn)
//   r = σ(M_r), z = σ(M_z), n = tanh(M_xn + r ⊙ M_hn), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
// The forward runs the memories literally. Backward is BPTT with the threshold masks held constant:
// M = b + W x̂_t + U ĥ_t, so dL/dx̂_t = Wᵀ dA_t; x̂_t = m_t ⊙ x_t + (1 − m_t) ⊙ x̂_{t−1} routes it to
// the x of the last update (ĥ likewise to h_{t'−1}). Passing `masks` to the forward holds the
// decisions fixed (finite differences; following another implementation's decisions).
//
// Quantisation (the engine's delta_gru::Options; Q_a, Q_n, Q_w the activation, nonlinear and
// weight formats), where the reference's DeltaGRU quantises:
//   qw: the memory starts are Q_w(b_ir + b_hr), Q_w(b_iz + b_hz), Q_w(b_in), Q_w(b_hn); the bias
//       gradient passes straight through (zero where Q_w saturates). `heldBiasSums` (the tape's
//       biasSums of a base run) replaces Q_w(s) by Q_w(s0) + (s − s0) where Q_w(s0) does not
//       saturate, else Q_w(s0): the linearisation that gradient is the derivative of (for finite
//       differences, like the held masks).
//   qa (inference; a qa tape is refused by the backward): x ← Q_a(x); Θ ← Q_a(Θ) for the zeroing
//       and the memory update; M_hn's start once more Q_a; Q_a of M_r, M_z, M_hn and of
//       M_xn + r ⊙ Q_a(M_hn); r, z = Q_n(σ(·)), n = Q_n(tanh(·)); Q_a((1 − z) ⊙ n) and
//       Q_a(z ⊙ h_{t−1}); h = Q_a(their sum). The memories accumulate unquantised.
import {
  DEFAULT_ACTIVATION, DEFAULT_NONLINEAR, DEFAULT_WEIGHT, passThrough, quantize, quantizeIf, type FixedPointFormat,
} from './fixed-point.js';
import type { GruParams } from './gru.js';

export interface DeltaGruDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

export interface DeltaGruOptions {
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
  /** under qw: a base run's tape.biasSums, held (see the header) */
  heldBiasSums?: Float64Array;
}

export interface DeltaGruTape {
  /** each [T, N, H] */
  hPrev: Float64Array;
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  /** M_hn, the hidden part of the candidate before r multiplies it */
  hiddenN: Float64Array;
  /** x̂ after step t's update [T, N, C]; ĥ likewise [T, N, H] */
  xHat: Float64Array;
  hHat: Float64Array;
  maskX: Uint8Array;
  maskH: Uint8Array;
  /** the memory starts' bias sums [4H]: b_ir + b_hr, b_iz + b_hz, b_in, b_hn */
  biasSums: Float64Array;
  /** d(start)/d(sum) [4H]: 1, or under qw passThrough of the sum */
  biasPass: Float64Array;
  /** made with qa (not differentiable: the backward refuses it) */
  qa: boolean;
}

export interface DeltaGruStats {
  dxZeros: number;
  dxTotal: number;
  dhZeros: number;
  dhTotal: number;
  zeroDx: number;
  zeroDh: number;
  /** (zeros of Δx + zeros of Δh) / (entries of both) */
  zeroBoth: number;
  /** multiply-accumulates of the products over nonzero Δ entries (3H each), and of the dense GRU */
  macs: number;
  macsDense: number;
}

export interface DeltaGruForwardOut {
  y: Float64Array;
  tape: DeltaGruTape;
  stats: DeltaGruStats;
}

export interface DeltaGruGradients {
  dx: Float64Array;
  dWeightIh: Float64Array;
  dWeightHh: Float64Array;
  dBiasIh: Float64Array;
  dBiasHh: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function deltaGruForward(p: GruParams, x: Float64Array, d: DeltaGruDims, o: DeltaGruOptions): DeltaGruForwardOut {
  const { T, N, C, H } = d;
  const G = 3 * H;
  const TNH = T * N * H;
  const qa = o.qa ?? false;
  const qw = o.qw ?? false;
  const fa = o.activation ?? DEFAULT_ACTIVATION;
  const fn = o.nonlinear ?? DEFAULT_NONLINEAR;
  const fw = o.weight ?? DEFAULT_WEIGHT;
  const qA = (v: number): number => quantizeIf(v, fa, qa);
  const qN = (v: number): number => quantizeIf(v, fn, qa);
  const tape: DeltaGruTape = {
    hPrev: new Float64Array(TNH),
    r: new Float64Array(TNH),
    z: new Float64Array(TNH),
    n: new Float64Array(TNH),
    hiddenN: new Float64Array(TNH),
    xHat: new Float64Array(T * N * C),
    hHat: new Float64Array(TNH),
    maskX: new Uint8Array(T * N * C),
    maskH: new Uint8Array(TNH),
    biasSums: new Float64Array(4 * H),
    biasPass: new Float64Array(4 * H).fill(1),
    qa,
  };
  const y = new Float64Array(TNH);
  const xHat = new Float64Array(N * C);
  const hHat = new Float64Array(N * H);
  const start = new Float64Array(4 * H);
  for (let j = 0; j < 2 * H; j++) tape.biasSums[j] = p.biasIh[j] + p.biasHh[j];
  for (let j = 0; j < H; j++) {
    tape.biasSums[2 * H + j] = p.biasIh[2 * H + j];
    tape.biasSums[3 * H + j] = p.biasHh[2 * H + j];
  }
  for (let k = 0; k < 4 * H; k++) {
    const s = tape.biasSums[k];
    if (!qw) start[k] = s;
    else if (o.heldBiasSums) {
      const s0 = o.heldBiasSums[k];
      start[k] = quantize(s0, fw) + passThrough(s0, fw) * (s - s0);
    } else start[k] = quantize(s, fw);
    if (qw) tape.biasPass[k] = passThrough(s, fw);
  }
  for (let j = 0; j < H; j++) start[3 * H + j] = qA(start[3 * H + j]); // M_hn's start, under qa
  const mem = new Float64Array(N * 4 * H); // per row: M_r, M_z, M_xn, M_hn
  for (let b = 0; b < N; b++) mem.set(start, b * 4 * H);
  const thetaX = qA(o.thetaX);
  const thetaH = qA(o.thetaH);
  let dxZeros = 0;
  let dhZeros = 0;
  let nonzero = 0;
  const dxv = new Float64Array(C);
  const dhv = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        const at = (t * N + b) * C + c;
        const xv = qA(x[at]);
        const dl = xv - xHat[b * C + c];
        const keep = o.masks ? o.masks.maskX[at] === 1 : Math.abs(dl) >= thetaX;
        dxv[c] = keep ? dl : 0;
        if (keep) xHat[b * C + c] = xv;
        tape.maskX[at] = keep ? 1 : 0;
        tape.xHat[at] = xHat[b * C + c];
        if (dxv[c] === 0) dxZeros++;
        else nonzero++;
      }
      for (let k = 0; k < H; k++) {
        const at = (t * N + b) * H + k;
        const hp = t > 0 ? y[((t - 1) * N + b) * H + k] : 0;
        const dl = hp - hHat[b * H + k];
        const keep = o.masks ? o.masks.maskH[at] === 1 : Math.abs(dl) >= thetaH;
        dhv[k] = keep ? dl : 0;
        if (keep) hHat[b * H + k] = hp;
        tape.maskH[at] = keep ? 1 : 0;
        tape.hHat[at] = hHat[b * H + k];
        if (dhv[k] === 0) dhZeros++;
        else nonzero++;
      }
      const m = b * 4 * H;
      for (let g = 0; g < G; g++) {
        let sx = 0;
        for (let c = 0; c < C; c++) if (dxv[c] !== 0) sx += p.weightIh[g * C + c] * dxv[c];
        let sh = 0;
        for (let k = 0; k < H; k++) if (dhv[k] !== 0) sh += p.weightHh[g * H + k] * dhv[k];
        mem[m + g] += sx;
        mem[m + (g < 2 * H ? g : g + H)] += sh;
      }
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const hp = t > 0 ? y[((t - 1) * N + b) * H + j] : 0;
        const r = qN(sigmoid(qA(mem[m + j])));
        const z = qN(sigmoid(qA(mem[m + H + j])));
        const hn = qA(mem[m + 3 * H + j]);
        const n = qN(Math.tanh(qA(mem[m + 2 * H + j] + r * hn)));
        y[at] = qa ? qA(qA((1 - z) * n) + qA(z * hp)) : (1 - z) * n + z * hp;
        tape.hPrev[at] = hp;
        tape.r[at] = r;
        tape.z[at] = z;
        tape.n[at] = n;
        tape.hiddenN[at] = hn;
      }
    }
  }
  const dxTotal = T * N * C;
  const dhTotal = T * N * H;
  const stats: DeltaGruStats = {
    dxZeros,
    dxTotal,
    dhZeros,
    dhTotal,
    zeroDx: dxTotal > 0 ? dxZeros / dxTotal : 0,
    zeroDh: dhTotal > 0 ? dhZeros / dhTotal : 0,
    zeroBoth: dxTotal + dhTotal > 0 ? (dxZeros + dhZeros) / (dxTotal + dhTotal) : 0,
    macs: nonzero * G,
    macsDense: (dxTotal + dhTotal) * G,
  };
  return { y, tape, stats };
}

/** dy [T, N, H] is dL/dy. The masks of the tape are held constant. */
export function deltaGruBackward(p: GruParams, tape: DeltaGruTape, dy: Float64Array, d: DeltaGruDims): DeltaGruGradients {
  if (tape.qa) throw new Error('deltaGruBackward: a qa (quantised-activation) forward is inference only');
  const { T, N, C, H } = d;
  const G = 3 * H;
  const dx = new Float64Array(T * N * C);
  const dWeightIh = new Float64Array(G * C);
  const dWeightHh = new Float64Array(G * H);
  const dBiasIh = new Float64Array(G);
  const dBiasHh = new Float64Array(G);
  let dh = new Float64Array(N * H);
  const accX = new Float64Array(N * C); // dL/dx̂ carried back through held entries
  const accH = new Float64Array(N * H); // dL/dĥ likewise
  const dGi = new Float64Array(G);
  const dGh = new Float64Array(G);
  for (let t = T - 1; t >= 0; t--) {
    const dhPrev = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const r = tape.r[at];
        const z = tape.z[at];
        const n = tape.n[at];
        const dOut = dh[b * H + j] + dy[at];
        const dAn = dOut * (1 - z) * (1 - n * n);
        const dAr = dAn * tape.hiddenN[at] * r * (1 - r);
        const dAz = dOut * (tape.hPrev[at] - n) * z * (1 - z);
        dhPrev[b * H + j] += dOut * z;
        dGi[j] = dAr;
        dGi[H + j] = dAz;
        dGi[2 * H + j] = dAn;
        dGh[j] = dAr;
        dGh[H + j] = dAz;
        dGh[2 * H + j] = dAn * r;
      }
      const xOff = (t * N + b) * C;
      const hOff = (t * N + b) * H;
      for (let g = 0; g < G; g++) {
        dBiasIh[g] += dGi[g];
        dBiasHh[g] += dGh[g];
        for (let c = 0; c < C; c++) {
          dWeightIh[g * C + c] += dGi[g] * tape.xHat[xOff + c];
          accX[b * C + c] += dGi[g] * p.weightIh[g * C + c];
        }
        for (let k = 0; k < H; k++) {
          dWeightHh[g * H + k] += dGh[g] * tape.hHat[hOff + k];
          accH[b * H + k] += dGh[g] * p.weightHh[g * H + k];
        }
      }
      for (let c = 0; c < C; c++) {
        if (tape.maskX[xOff + c] === 1) {
          dx[xOff + c] = accX[b * C + c];
          accX[b * C + c] = 0;
        }
      }
      for (let k = 0; k < H; k++) {
        if (tape.maskH[hOff + k] === 1) {
          dhPrev[b * H + k] += accH[b * H + k]; // at t = 0 it reaches the constant h_{−1} = 0: unused
          accH[b * H + k] = 0;
        }
      }
    }
    dh = dhPrev;
  }
  for (let j = 0; j < 2 * H; j++) {
    dBiasIh[j] *= tape.biasPass[j];
    dBiasHh[j] *= tape.biasPass[j];
  }
  for (let j = 0; j < H; j++) {
    dBiasIh[2 * H + j] *= tape.biasPass[2 * H + j];
    dBiasHh[2 * H + j] *= tape.biasPass[3 * H + j];
  }
  return { dx, dWeightIh, dWeightHh, dBiasIh, dBiasHh };
}
