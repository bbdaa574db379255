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
//       saturates); `heldBiasSums` holds a base run's linearisation (delta-common.ts).
//   qa (inference; a qa tape is refused by the backward): x ← Q_a(x); Θ ← Q_a(Θ) for the zeroing,
//       the raw Θ for the memory update (as the reference's DeltaLSTM; delta-common.ts);
//       pre-activations Q_a(M); i, f, o = Q_n(σ(·)), g = Q_n(tanh(·));
//       c_t = Q_a(f ⊙ c_{t−1} + i ⊙ g) (carried on; the products unquantised); h_t =
//       Q_a(o ⊙ Q_n(tanh c_t)). The memory accumulates unquantised.
// What the DeltaGRU shares (thresholds and memories x̂, ĥ, the qw starts, the counts, the
// backward's routing through the held masks) is delta-common.ts's; here the LSTM's gates.
import {
  backStep, deltaGradients, deltaQuantizers, deltaTape, DeltaThresholds, memoryStarts, sigmoid,
  type DeltaDims, type DeltaGradients, type DeltaOptions, type DeltaStats, type DeltaTape,
} from './delta-common.js';
import type { LstmParams } from './lstm.js';

/** The shared part (delta-common.ts; biasSums [4H] are b_ih + b_hh) and the LSTM's own. */
export interface DeltaLstmTape extends DeltaTape {
  /** the four activated gates and the cell state after the step, each [T, N, H] */
  i: Float64Array;
  f: Float64Array;
  g: Float64Array;
  o: Float64Array;
  c: Float64Array;
}

export interface DeltaLstmForwardOut {
  y: Float64Array;
  /** last cell state [N, H] */
  cN: Float64Array;
  tape: DeltaLstmTape;
  stats: DeltaStats;
}

export function deltaLstmForward(p: LstmParams, x: Float64Array, d: DeltaDims, o: DeltaOptions): DeltaLstmForwardOut {
  const { T, N, C, H } = d;
  const G = 4 * H;
  const TNH = T * N * H;
  const { qa, qA, qN } = deltaQuantizers(o);
  const tape: DeltaLstmTape = {
    ...deltaTape(d, qa),
    i: new Float64Array(TNH),
    f: new Float64Array(TNH),
    g: new Float64Array(TNH),
    o: new Float64Array(TNH),
    c: new Float64Array(TNH),
  };
  for (let k = 0; k < G; k++) tape.biasSums[k] = p.biasIh[k] + p.biasHh[k];
  const start = memoryStarts(tape, o);
  const y = new Float64Array(TNH);
  const c = new Float64Array(N * H);
  const mem = new Float64Array(N * G);
  for (let b = 0; b < N; b++) mem.set(start, b * G);
  const deltas = new DeltaThresholds(d, o, qA, tape, true);  // the update at the raw Θ
  const { dx: dxv, dh: dhv } = deltas;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < N; b++) {
      deltas.step(t, b, x, y);
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
  return { y, cN: c, tape, stats: deltas.stats(G) };
}

/** dy [T, N, H] is dL/dy, dcN [N, H] dL/dc_T (optional: zero). The masks of the tape are held constant. */
export function deltaLstmBackward(
  p: LstmParams, tape: DeltaLstmTape, dy: Float64Array, d: DeltaDims, dcN?: Float64Array | null,
): DeltaGradients {
  if (tape.qa) throw new Error('deltaLstmBackward: a qa (quantised-activation) forward is inference only');
  const { T, N, C, H } = d;
  const G = 4 * H;
  const grads = deltaGradients(d, G);
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
      // One pre-activation gradient for W and U (and b_ih, b_hh: they enter only as their sum).
      backStep(p, tape, d, t, b, dA, dA, grads, accX, accH, dhPrev);
    }
    dh = dhPrev;
  }
  for (let k = 0; k < G; k++) {
    grads.dBiasIh[k] *= tape.biasPass[k];
    grads.dBiasHh[k] *= tape.biasPass[k];
  }
  return grads;
}
