// Oracle for one DeltaLSTM layer (gaochangw/DeltaRNN's DeltaLSTM, DESIGN §3), PyTorch LSTM
// parameters (weight_ih [4H, C], weight_hh [4H, H], biases [4H], gate blocks i, f, g, o). Per
// step t, with memories x̂ = ĥ = 0 and h_{−1} = c_{−1} = 0 at the start:
//   Δx = x_t − x̂, entries with |Δx| < Θx zeroed, x̂ ← x_t exactly where |Δx| ≥ Θx (ties kept)
//   Δh = h_{t−1} − ĥ, likewise with Θh
//   M += W Δx + U Δh (one memory of 4H per row, starting at b_ih + b_hh)
//   i = σ(M_i), f = σ(M_f), g = tanh(M_g), o = σ(M_o), c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t)
// The forward runs the memory literally. Backward is BPTT with the threshold masks held
// constant: M_t = start + W x̂_t + U ĥ_t, so dL/dx̂_t = Wᵀ dA_t and x̂_t = m_t ⊙ x_t + (1 − m_t) ⊙ x̂_{t−1}
// routes it to the x of the last update (ĥ likewise to h_{t'−1}; h_{−1} = 0 is a constant).
//
// Quantisation (the engine's delta_lstm::Options; Q_a, Q_n, Q_w the activation, nonlinear and
// weight formats), where the reference's DeltaLSTM quantises:
//   qw: the memory start Q_w(b_ih + b_hh); the bias gradient straight through (zero where Q_w
//       saturates); `heldBiasSums` holds a base run's linearisation as in delta-gru.ts.
//   qa (inference; a qa tape is refused by the backward): x ← Q_a(x); Θ ← Q_a(Θ) for the zeroing
//       and the memory update; pre-activations Q_a(M); i, f, o = Q_n(σ(·)), g = Q_n(tanh(·));
//       c_t = Q_a(f ⊙ c_{t−1} + i ⊙ g) (carried on; the products unquantised); h_t =
//       Q_a(o ⊙ Q_n(tanh c_t)). The memory accumulates unquantised.
import type { DeltaGruStats } from './delta-gru.js';
import {
  DEFAULT_ACTIVATION, DEFAULT_NONLINEAR, DEFAULT_WEIGHT, passThrough, quantize, quantizeIf, type FixedPointFormat,
} from './fixed-point.js';
import type { LstmParams } from './lstm.js';

export interface DeltaLstmDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

export interface DeltaLstmOptions {
  thetaX: number;
  thetaH: number;
  /** fixed threshold decisions (1 = kept), [T, N, C] and [T, N, H]; overrides the thresholds */
  masks?: { maskX: Uint8Array; maskH: Uint8Array };
  /** fixed-point activations (inference only), in `activation` and (gate outputs) `nonlinear` */
  qa?: boolean;
  /** the memory start quantised in the `weight` format */
  qw?: boolean;
  /** defaults Q3.5, Q2.6, Q1.7 (the engine's) */
  activation?: FixedPointFormat;
  nonlinear?: FixedPointFormat;
  weight?: FixedPointFormat;
  /** under qw: a base run's tape.biasSums, held (see delta-gru.ts) */
  heldBiasSums?: Float64Array;
}

export interface DeltaLstmTape {
  /** the four activated gates and the cell state after the step, each [T, N, H] */
  i: Float64Array;
  f: Float64Array;
  g: Float64Array;
  o: Float64Array;
  c: Float64Array;
  /** x̂ after step t's update [T, N, C]; ĥ likewise [T, N, H] */
  xHat: Float64Array;
  hHat: Float64Array;
  maskX: Uint8Array;
  maskH: Uint8Array;
  /** b_ih + b_hh [4H], and d(start)/d(sum): 1, or under qw passThrough of the sum */
  biasSums: Float64Array;
  biasPass: Float64Array;
  /** made with qa (not differentiable: the backward refuses it) */
  qa: boolean;
}

/** As DeltaGRU's; the MACs count 4H per nonzero Δ entry, and T·N·(C + H)·4H dense. */
export type DeltaLstmStats = DeltaGruStats;

export interface DeltaLstmForwardOut {
  y: Float64Array;
  /** last cell state [N, H] */
  cN: Float64Array;
  tape: DeltaLstmTape;
  stats: DeltaLstmStats;
}

export interface DeltaLstmGradients {
  dx: Float64Array;
  dWeightIh: Float64Array;
  dWeightHh: Float64Array;
  dBiasIh: Float64Array;
  dBiasHh: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function deltaLstmForward(p: LstmParams, x: Float64Array, d: DeltaLstmDims, o: DeltaLstmOptions): DeltaLstmForwardOut {
  const { T, N, C, H } = d;
  const G = 4 * H;
  const TNH = T * N * H;
  const qa = o.qa ?? false;
  const qw = o.qw ?? false;
  const fa = o.activation ?? DEFAULT_ACTIVATION;
  const fn = o.nonlinear ?? DEFAULT_NONLINEAR;
  const fw = o.weight ?? DEFAULT_WEIGHT;
  const qA = (v: number): number => quantizeIf(v, fa, qa);
  const qN = (v: number): number => quantizeIf(v, fn, qa);
  const tape: DeltaLstmTape = {
    i: new Float64Array(TNH),
    f: new Float64Array(TNH),
    g: new Float64Array(TNH),
    o: new Float64Array(TNH),
    c: new Float64Array(TNH),
    xHat: new Float64Array(T * N * C),
    hHat: new Float64Array(TNH),
    maskX: new Uint8Array(T * N * C),
    maskH: new Uint8Array(TNH),
    biasSums: new Float64Array(G),
    biasPass: new Float64Array(G).fill(1),
    qa,
  };
  const start = new Float64Array(G);
  for (let k = 0; k < G; k++) {
    const s = p.biasIh[k] + p.biasHh[k];
    tape.biasSums[k] = s;
    if (!qw) start[k] = s;
    else if (o.heldBiasSums) {
      const s0 = o.heldBiasSums[k];
      start[k] = quantize(s0, fw) + passThrough(s0, fw) * (s - s0);
    } else start[k] = quantize(s, fw);
    if (qw) tape.biasPass[k] = passThrough(s, fw);
  }
  const y = new Float64Array(TNH);
  const c = new Float64Array(N * H);
  const xHat = new Float64Array(N * C);
  const hHat = new Float64Array(N * H);
  const mem = new Float64Array(N * G);
  for (let b = 0; b < N; b++) mem.set(start, b * G);
  const thetaX = qA(o.thetaX);
  const thetaH = qA(o.thetaH);
  let dxZeros = 0;
  let dhZeros = 0;
  let nonzero = 0;
  const dxv = new Float64Array(C);
  const dhv = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < N; b++) {
      for (let k = 0; k < C; k++) {
        const at = (t * N + b) * C + k;
        const xv = qA(x[at]);
        const dl = xv - xHat[b * C + k];
        const keep = o.masks ? o.masks.maskX[at] === 1 : Math.abs(dl) >= thetaX;
        dxv[k] = keep ? dl : 0;
        if (keep) xHat[b * C + k] = xv;
        tape.maskX[at] = keep ? 1 : 0;
        tape.xHat[at] = xHat[b * C + k];
        if (dxv[k] === 0) dxZeros++;
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
      const m = b * G;
      for (let g = 0; g < G; g++) {
        let s = 0;
        for (let k = 0; k < C; k++) if (dxv[k] !== 0) s += p.weightIh[g * C + k] * dxv[k];
        for (let k = 0; k < H; k++) if (dhv[k] !== 0) s += p.weightHh[g * H + k] * dhv[k];
        mem[m + g] += s;
      }
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const gi = qN(sigmoid(qA(mem[m + j])));
        const gf = qN(sigmoid(qA(mem[m + H + j])));
        const gg = qN(Math.tanh(qA(mem[m + 2 * H + j])));
        const go = qN(sigmoid(qA(mem[m + 3 * H + j])));
        const cn = qA(gf * c[b * H + j] + gi * gg);
        c[b * H + j] = cn;
        y[at] = qA(go * qN(Math.tanh(cn)));
        tape.i[at] = gi;
        tape.f[at] = gf;
        tape.g[at] = gg;
        tape.o[at] = go;
        tape.c[at] = cn;
      }
    }
  }
  const dxTotal = T * N * C;
  const dhTotal = T * N * H;
  const stats: DeltaLstmStats = {
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
  return { y, cN: c, tape, stats };
}

/** dy [T, N, H] is dL/dy, dcN [N, H] dL/dc_T (optional: zero). The masks of the tape are held constant. */
export function deltaLstmBackward(
  p: LstmParams, tape: DeltaLstmTape, dy: Float64Array, d: DeltaLstmDims, dcN?: Float64Array | null,
): DeltaLstmGradients {
  if (tape.qa) throw new Error('deltaLstmBackward: a qa (quantised-activation) forward is inference only');
  const { T, N, C, H } = d;
  const G = 4 * H;
  const dx = new Float64Array(T * N * C);
  const dWeightIh = new Float64Array(G * C);
  const dWeightHh = new Float64Array(G * H);
  const dBias = new Float64Array(G);
  let dh = new Float64Array(N * H); // dL/dh_t through later steps' ĥ
  const dc = dcN ? Float64Array.from(dcN) : new Float64Array(N * H);
  const accX = new Float64Array(N * C); // dL/dx̂ carried back through held entries
  const accH = new Float64Array(N * H); // dL/dĥ likewise
  const dA = new Float64Array(G);
  for (let t = T - 1; t >= 0; t--) {
    const dhPrev = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const i = tape.i[at];
        const f = tape.f[at];
        const g = tape.g[at];
        const o = tape.o[at];
        const tc = Math.tanh(tape.c[at]);
        const cPrev = t > 0 ? tape.c[((t - 1) * N + b) * H + j] : 0;
        const dOut = dh[b * H + j] + dy[at];
        const dC = dc[b * H + j] + dOut * o * (1 - tc * tc);
        dA[j] = dC * g * i * (1 - i);
        dA[H + j] = dC * cPrev * f * (1 - f);
        dA[2 * H + j] = dC * i * (1 - g * g);
        dA[3 * H + j] = dOut * tc * o * (1 - o);
        dc[b * H + j] = dC * f;
      }
      const xOff = (t * N + b) * C;
      const hOff = (t * N + b) * H;
      for (let k = 0; k < G; k++) {
        dBias[k] += dA[k];
        for (let m = 0; m < C; m++) {
          dWeightIh[k * C + m] += dA[k] * tape.xHat[xOff + m];
          accX[b * C + m] += dA[k] * p.weightIh[k * C + m];
        }
        for (let m = 0; m < H; m++) {
          dWeightHh[k * H + m] += dA[k] * tape.hHat[hOff + m];
          accH[b * H + m] += dA[k] * p.weightHh[k * H + m];
        }
      }
      for (let m = 0; m < C; m++) {
        if (tape.maskX[xOff + m] === 1) {
          dx[xOff + m] = accX[b * C + m];
          accX[b * C + m] = 0;
        }
      }
      for (let m = 0; m < H; m++) {
        if (tape.maskH[hOff + m] === 1) {
          dhPrev[b * H + m] = accH[b * H + m]; // at t = 0 it reaches the constant h_{−1} = 0: unused
          accH[b * H + m] = 0;
        }
      }
    }
    dh = dhPrev;
  }
  for (let k = 0; k < G; k++) dBias[k] *= tape.biasPass[k];
  return { dx, dWeightIh, dWeightHh, dBiasIh: dBias, dBiasHh: Float64Array.from(dBias) };
}
