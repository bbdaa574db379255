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
//       biasSums of a base run) holds the linearisation that gradient is the derivative of.
//   qa (inference; a qa tape is refused by the backward): x ← Q_a(x); Θ ← Q_a(Θ) for the zeroing
//       and the memory update; M_hn's start once more Q_a; Q_a of M_r, M_z, M_hn and of
//       M_xn + r ⊙ Q_a(M_hn); r, z = Q_n(σ(·)), n = Q_n(tanh(·)); Q_a((1 − z) ⊙ n) and
//       Q_a(z ⊙ h_{t−1}); h = Q_a(their sum). The memories accumulate unquantised.
// What the DeltaLSTM shares (thresholds and memories x̂, ĥ, the qw starts, the counts, the
// backward's routing through the held masks) is delta-common.ts's; here the GRU's gates.
import {
  backStep, deltaGradients, deltaQuantizers, deltaTape, DeltaThresholds, memoryStarts, sigmoid,
  type DeltaDims, type DeltaGradients, type DeltaOptions, type DeltaStats, type DeltaTape,
} from './delta-common.js';
import type { GruParams } from './gru.js';

/** The shared part (delta-common.ts); biasSums [4H] are b_ir + b_hr, b_iz + b_hz, b_in, b_hn. */
export interface DeltaGruTape extends DeltaTape {
  /** each [T, N, H] */
  hPrev: Float64Array;
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  /** M_hn, the hidden part of the candidate before r multiplies it */
  hiddenN: Float64Array;
}

export interface DeltaGruForwardOut {
  y: Float64Array;
  tape: DeltaGruTape;
  stats: DeltaStats;
}

export function deltaGruForward(p: GruParams, x: Float64Array, d: DeltaDims, o: DeltaOptions): DeltaGruForwardOut {
  const { T, N, C, H } = d;
  const G = 3 * H;
  const TNH = T * N * H;
  const { qa, qA, qN } = deltaQuantizers(o);
  const tape: DeltaGruTape = {
    ...deltaTape(d, qa),
    hPrev: new Float64Array(TNH),
    r: new Float64Array(TNH),
    z: new Float64Array(TNH),
    n: new Float64Array(TNH),
    hiddenN: new Float64Array(TNH),
  };
  const y = new Float64Array(TNH);
  for (let j = 0; j < 2 * H; j++) tape.biasSums[j] = p.biasIh[j] + p.biasHh[j];
  for (let j = 0; j < H; j++) {
    tape.biasSums[2 * H + j] = p.biasIh[2 * H + j];
    tape.biasSums[3 * H + j] = p.biasHh[2 * H + j];
  }
  const start = memoryStarts(tape, o);
  for (let j = 0; j < H; j++) start[3 * H + j] = qA(start[3 * H + j]); // M_hn's start, under qa
  const mem = new Float64Array(N * 4 * H); // per row: M_r, M_z, M_xn, M_hn
  for (let b = 0; b < N; b++) mem.set(start, b * 4 * H);
  const deltas = new DeltaThresholds(d, o, qA, tape);
  const { dx: dxv, dh: dhv } = deltas;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < N; b++) {
      deltas.step(t, b, x, y);
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
  return { y, tape, stats: deltas.stats(G) };
}

/** dy [T, N, H] is dL/dy. The masks of the tape are held constant. */
export function deltaGruBackward(p: GruParams, tape: DeltaGruTape, dy: Float64Array, d: DeltaDims): DeltaGradients {
  if (tape.qa) throw new Error('deltaGruBackward: a qa (quantised-activation) forward is inference only');
  const { T, N, C, H } = d;
  const G = 3 * H;
  const grads = deltaGradients(d, G);
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
      backStep(p, tape, d, t, b, dGi, dGh, grads, accX, accH, dhPrev);
    }
    dh = dhPrev;
  }
  const { dBiasIh, dBiasHh } = grads;
  for (let j = 0; j < 2 * H; j++) {
    dBiasIh[j] *= tape.biasPass[j];
    dBiasHh[j] *= tape.biasPass[j];
  }
  for (let j = 0; j < H; j++) {
    dBiasIh[2 * H + j] *= tape.biasPass[2 * H + j];
    dBiasHh[2 * H + j] *= tape.biasPass[3 * H + j];
  }
  return grads;
}
