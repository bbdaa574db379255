// Oracle for one GRU layer, PyTorch nn.GRU equations (DESIGN §3), gate blocks in the order (r, z, n):
//   r = σ(W_r x + b_ir + U_r h + b_hr)
//   z = σ(W_z x + b_iz + U_z h + b_hz)
//   n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
// W = weight_ih [3H, C], U = weight_hh [3H, H], biases [3H]. Time-major x [T, N, C], y [T, N, H].
// Backward is plain reverse-mode BPTT over a tape of every intermediate.

export interface GruParams {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array;
  biasHh: Float64Array;
}

export interface GruDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

/** Intermediates of the forward pass, each [T, N, H]. */
export interface GruTape {
  hPrev: Float64Array;
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  /** U_n h + b_hn, the hidden part of the candidate before r multiplies it */
  hiddenN: Float64Array;
}

export interface GruForwardOut {
  y: Float64Array;
  tape: GruTape;
}

export interface GruGradients {
  dx: Float64Array;
  dh0: Float64Array;
  dWeightIh: Float64Array;
  dWeightHh: Float64Array;
  dBiasIh: Float64Array;
  dBiasHh: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function gruForward(p: GruParams, x: Float64Array, h0: Float64Array | null, d: GruDims): GruForwardOut {
  const { T, N, C, H } = d;
  const y = new Float64Array(T * N * H);
  const tape: GruTape = {
    hPrev: new Float64Array(T * N * H),
    r: new Float64Array(T * N * H),
    z: new Float64Array(T * N * H),
    n: new Float64Array(T * N * H),
    hiddenN: new Float64Array(T * N * H),
  };
  let h = h0 ? Float64Array.from(h0) : new Float64Array(N * H);
  const gi = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  for (let t = 0; t < T; t++) {
    const hNext = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      const xOff = (t * N + b) * C;
      for (let g = 0; g < 3 * H; g++) {
        let si = p.biasIh[g];
        for (let c = 0; c < C; c++) si += p.weightIh[g * C + c] * x[xOff + c];
        gi[g] = si;
        let sh = p.biasHh[g];
        for (let k = 0; k < H; k++) sh += p.weightHh[g * H + k] * h[b * H + k];
        gh[g] = sh;
      }
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gi[j] + gh[j]);
        const z = sigmoid(gi[H + j] + gh[H + j]);
        const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
        const hp = h[b * H + j];
        const out = (1 - z) * n + z * hp;
        const at = (t * N + b) * H + j;
        tape.hPrev[at] = hp;
        tape.r[at] = r;
        tape.z[at] = z;
        tape.n[at] = n;
        tape.hiddenN[at] = gh[2 * H + j];
        y[at] = out;
        hNext[b * H + j] = out;
      }
    }
    h = hNext;
  }
  return { y, tape };
}

/**
 * dy [T, N, H] is dL/dy from outside; dhT [N, H] (or null) is dL/dh_T from outside (e.g. a carried
 * state). h_T = y[T−1], so both add up at the last step.
 */
export function gruBackward(
  p: GruParams, x: Float64Array, tape: GruTape, dy: Float64Array, dhT: Float64Array | null, d: GruDims,
): GruGradients {
  const { T, N, C, H } = d;
  const dx = new Float64Array(T * N * C);
  const dWeightIh = new Float64Array(3 * H * C);
  const dWeightHh = new Float64Array(3 * H * H);
  const dBiasIh = new Float64Array(3 * H);
  const dBiasHh = new Float64Array(3 * H);
  let dh = dhT ? Float64Array.from(dhT) : new Float64Array(N * H);
  const dGi = new Float64Array(3 * H); // dL/d(W x + b_i) per gate block
  const dGh = new Float64Array(3 * H); // dL/d(U h + b_h) per gate block
  for (let t = T - 1; t >= 0; t--) {
    const dhPrev = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const r = tape.r[at];
        const z = tape.z[at];
        const n = tape.n[at];
        const hp = tape.hPrev[at];
        const dOut = dh[b * H + j] + dy[at];
        // h' = (1 − z) n + z h
        const dn = dOut * (1 - z);
        const dz = dOut * (hp - n);
        dhPrev[b * H + j] += dOut * z;
        // n = tanh(a_n), a_n = gi_n + r ⊙ gh_n
        const dAn = dn * (1 - n * n);
        const dr = dAn * tape.hiddenN[at];
        // r = σ(a_r), z = σ(a_z); a_r = gi_r + gh_r, a_z = gi_z + gh_z
        const dAr = dr * r * (1 - r);
        const dAz = dz * z * (1 - z);
        dGi[j] = dAr;
        dGi[H + j] = dAz;
        dGi[2 * H + j] = dAn;
        dGh[j] = dAr;
        dGh[H + j] = dAz;
        dGh[2 * H + j] = dAn * r;
      }
      const xOff = (t * N + b) * C;
      const hOff = ((t * N + b) * H);
      for (let g = 0; g < 3 * H; g++) {
        dBiasIh[g] += dGi[g];
        dBiasHh[g] += dGh[g];
        for (let c = 0; c < C; c++) {
          dWeightIh[g * C + c] += dGi[g] * x[xOff + c];
          dx[xOff + c] += dGi[g] * p.weightIh[g * C + c];
        }
        for (let k = 0; k < H; k++) {
          dWeightHh[g * H + k] += dGh[g] * tape.hPrev[hOff + k];
          dhPrev[b * H + k] += dGh[g] * p.weightHh[g * H + k];
        }
      }
    }
    dh = dhPrev;
  }
  return { dx, dh0: dh, dWeightIh, dWeightHh, dBiasIh, dBiasHh };
}
