// Oracle for one EGRU layer (Subramoney et al., ICLR 2023; DESIGN §3), following EvNN's C++ path.
// kernel [C, 3H], recurrentKernel [H, 3H], bias / recurrentBias [3H]; gate blocks in columns (z, r, g).
//   Wx = x_t·kernel + bias,  Rh = y_{t−1}·recurrentKernel + recurrentBias
//   z = σ(Wx_z + Rh_z), r = σ(Wx_r + Rh_r), g = tanh(Wx_g + r ⊙ Rh_g)
//   u = z ⊙ c_{t−1} + (1 − z) ⊙ g, then zoneout turns u into c'
//   v = c' − ϑ, o = H(v) with H(0) = 0, y = o ⊙ c', c = c' − o ⊙ ϑ (soft reset), tr_t = 0.9 tr_{t−1} + 0.1 y_t
// The recurrence reads the event output y, not c; a given initial state sets y_{−1} only, c_{−1} = 0.
// Backward is exact BPTT with ∂o/∂v replaced by the surrogate γ·max(0, 1 − ε|v|).
// Time-major x [T, N, C]; every output [T, N, H].
import type { Rng } from '../../src/util/rng.js';
import { randomUniform } from './random.js';

export interface EgruParams {
  kernel: Float64Array;
  recurrentKernel: Float64Array;
  bias: Float64Array;
  recurrentBias: Float64Array;
  thr: Float64Array;
}

export interface EgruDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

export interface EgruOptions {
  training: boolean;
  /** zoneout probability p; 0 disables zoneout */
  zoneout: number;
  /** γ, height of the surrogate derivative */
  dampening: number;
  /** ε, the surrogate is zero where |v| ≥ 1/ε */
  support: number;
  /** [T, N, H], used (as given) only when training with zoneout > 0 */
  zoneoutMask: Float64Array | null;
}

/** Intermediates of the forward pass, each [T, N, H]. */
export interface EgruTape {
  yPrev: Float64Array;
  cPrev: Float64Array;
  z: Float64Array;
  r: Float64Array;
  g: Float64Array;
  /** Rh_g = (y_{t−1}·recurrentKernel + recurrentBias)_g, the part r multiplies */
  qg: Float64Array;
  /** c' (after zoneout, before the event decision) */
  cPrime: Float64Array;
}

export interface EgruForwardOut {
  y: Float64Array;
  c: Float64Array;
  o: Float64Array;
  trace: Float64Array;
  tape: EgruTape;
}

export interface EgruUpstream {
  dy: Float64Array | null;
  dc: Float64Array | null;
  do: Float64Array | null;
  dtrace: Float64Array | null;
}

export interface EgruGradients {
  dx: Float64Array;
  dy0: Float64Array;
  dKernel: Float64Array;
  dRecurrentKernel: Float64Array;
  dBias: Float64Array;
  dRecurrentBias: Float64Array;
  dThr: Float64Array;
}

/** The event decision o as a function of v and of the flat index (t·N + n)·H + j. */
export type FiringFn = (v: number, at: number) => number;

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

/** H(v) with H(0) = 0: a unit fires only strictly above its threshold. */
export const heaviside: FiringFn = (v) => (v > 0 ? 1 : 0);

type ZoneoutMode = 'none' | 'mask' | 'mix';

function zoneoutMode(o: EgruOptions, d: EgruDims): ZoneoutMode {
  if (!(o.zoneout > 0)) return 'none';
  if (!o.training) return 'mix';
  const n = d.T * d.N * d.H;
  if (!o.zoneoutMask || o.zoneoutMask.length !== n) throw new Error(`EGRU: training zoneout needs a mask of length ${n}`);
  return 'mask';
}

export function egruForward(p: EgruParams, x: Float64Array, y0: Float64Array | null, d: EgruDims, o: EgruOptions): EgruForwardOut {
  return egruForwardWithFiring(p, x, y0, d, o, heaviside);
}

/**
 * The forward with the event decision o = fire(v) supplied by the caller. Only tests use anything
 * but `heaviside`: a smooth stand-in lets finite differences see the surrogate derivative.
 */
export function egruForwardWithFiring(
  p: EgruParams, x: Float64Array, y0: Float64Array | null, d: EgruDims, o: EgruOptions, fire: FiringFn,
): EgruForwardOut {
  const { T, N, C, H } = d;
  const G = 3 * H;
  const mode = zoneoutMode(o, d);
  const size = T * N * H;
  const out: EgruForwardOut = {
    y: new Float64Array(size),
    c: new Float64Array(size),
    o: new Float64Array(size),
    trace: new Float64Array(size),
    tape: {
      yPrev: new Float64Array(size), cPrev: new Float64Array(size), z: new Float64Array(size),
      r: new Float64Array(size), g: new Float64Array(size), qg: new Float64Array(size), cPrime: new Float64Array(size),
    },
  };
  const tape = out.tape;
  let yPrev = y0 ? Float64Array.from(y0) : new Float64Array(N * H);
  let cPrev = new Float64Array(N * H); // c_{−1} = 0 even when y0 is given (EvNN)
  let trPrev = new Float64Array(N * H);
  const wx = new Float64Array(G);
  const rh = new Float64Array(G);
  for (let t = 0; t < T; t++) {
    const yNext = new Float64Array(N * H);
    const cNext = new Float64Array(N * H);
    const trNext = new Float64Array(N * H);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < G; k++) {
        let a = p.bias[k];
        for (let i = 0; i < C; i++) a += x[(t * N + n) * C + i] * p.kernel[i * G + k];
        wx[k] = a;
        let b = p.recurrentBias[k];
        for (let i = 0; i < H; i++) b += yPrev[n * H + i] * p.recurrentKernel[i * G + k];
        rh[k] = b;
      }
      for (let j = 0; j < H; j++) {
        const at = (t * N + n) * H + j;
        const cp = cPrev[n * H + j];
        const z = sigmoid(wx[j] + rh[j]);
        const r = sigmoid(wx[H + j] + rh[H + j]);
        const g = Math.tanh(wx[2 * H + j] + r * rh[2 * H + j]);
        const u = z * cp + (1 - z) * g;
        let cPrime = u;
        if (mode === 'mask') cPrime = cp + o.zoneoutMask![at] * (u - cp);
        else if (mode === 'mix') cPrime = o.zoneout * cp + (1 - o.zoneout) * u;
        const thr = p.thr[j];
        const fired = fire(cPrime - thr, at);
        const y = fired * cPrime;
        const c = cPrime - fired * thr;
        const tr = 0.9 * trPrev[n * H + j] + 0.1 * y;
        tape.yPrev[at] = yPrev[n * H + j];
        tape.cPrev[at] = cp;
        tape.z[at] = z;
        tape.r[at] = r;
        tape.g[at] = g;
        tape.qg[at] = rh[2 * H + j];
        tape.cPrime[at] = cPrime;
        out.o[at] = fired;
        out.y[at] = y;
        out.c[at] = c;
        out.trace[at] = tr;
        yNext[n * H + j] = y;
        cNext[n * H + j] = c;
        trNext[n * H + j] = tr;
      }
    }
    yPrev = yNext;
    cPrev = cNext;
    trPrev = trNext;
  }
  return out;
}

/** The surrogate ∂o/∂v = γ·max(0, 1 − ε|v|). */
export function surrogate(v: number, dampening: number, support: number): number {
  return dampening * Math.max(0, 1 - support * Math.abs(v));
}

export function egruBackward(
  p: EgruParams, x: Float64Array, y0: Float64Array | null, fwd: EgruForwardOut, up: EgruUpstream, d: EgruDims, o: EgruOptions,
): EgruGradients {
  void y0; // y_{−1} is on the tape (yPrev at t = 0)
  if (!o.training) throw new Error('EGRU: backward of an evaluation-mode forward');
  const { T, N, C, H } = d;
  const G = 3 * H;
  const mode = zoneoutMode(o, d);
  const tape = fwd.tape;
  const at0 = (a: Float64Array | null, i: number): number => (a ? a[i] : 0);
  const gr: EgruGradients = {
    dx: new Float64Array(T * N * C),
    dy0: new Float64Array(N * H),
    dKernel: new Float64Array(C * G),
    dRecurrentKernel: new Float64Array(H * G),
    dBias: new Float64Array(G),
    dRecurrentBias: new Float64Array(G),
    dThr: new Float64Array(H),
  };
  let dyCarry = new Float64Array(N * H); // dL/dy_t through step t+1's recurrence
  let dcCarry = new Float64Array(N * H); // dL/dc_t through step t+1
  const dtrCarry = new Float64Array(N * H); // total dL/dtr_{t+1}
  const dp = new Float64Array(G); // dL/dWx
  const dq = new Float64Array(G); // dL/dRh
  for (let t = T - 1; t >= 0; t--) {
    const dyPrev = new Float64Array(N * H);
    const dcPrev = new Float64Array(N * H);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        const at = (t * N + n) * H + j;
        const thr = p.thr[j];
        const cPrime = tape.cPrime[at];
        const fired = fwd.o[at];
        const z = tape.z[at], r = tape.r[at], g = tape.g[at], cp = tape.cPrev[at];
        // tr_t = 0.9 tr_{t−1} + 0.1 y_t: tr_t's total gradient also carries every later trace
        const dtr = at0(up.dtrace, at) + 0.9 * dtrCarry[n * H + j];
        dtrCarry[n * H + j] = dtr;
        const gy = at0(up.dy, at) + dyCarry[n * H + j] + 0.1 * dtr;
        const gc = at0(up.dc, at) + dcCarry[n * H + j];
        // y = o c', c = c' − o ϑ, v = c' − ϑ
        const go = at0(up.do, at) + gy * cPrime - gc * thr;
        const dv = go * surrogate(cPrime - thr, o.dampening, o.support);
        const dcPrime = gy * fired + gc + dv;
        gr.dThr[j] += -dv - gc * fired;
        let du = dcPrime;
        if (mode === 'mask') {
          const m = o.zoneoutMask![at];
          dcPrev[n * H + j] += dcPrime * (1 - m);
          du = dcPrime * m;
        }
        // u = z c_prev + (1 − z) g
        const dz = du * (cp - g);
        const dg = du * (1 - z);
        dcPrev[n * H + j] += du * z;
        // g = tanh(Wx_g + r Rh_g); r = σ(·), z = σ(·)
        const daG = dg * (1 - g * g);
        const dr = daG * tape.qg[at];
        const daR = dr * r * (1 - r);
        const daZ = dz * z * (1 - z);
        dp[j] = daZ; dp[H + j] = daR; dp[2 * H + j] = daG;
        dq[j] = daZ; dq[H + j] = daR; dq[2 * H + j] = daG * r;
      }
      for (let k = 0; k < G; k++) {
        gr.dBias[k] += dp[k];
        gr.dRecurrentBias[k] += dq[k];
        for (let i = 0; i < C; i++) {
          gr.dKernel[i * G + k] += x[(t * N + n) * C + i] * dp[k];
          gr.dx[(t * N + n) * C + i] += dp[k] * p.kernel[i * G + k];
        }
        for (let i = 0; i < H; i++) {
          gr.dRecurrentKernel[i * G + k] += tape.yPrev[(t * N + n) * H + i] * dq[k];
          dyPrev[n * H + i] += dq[k] * p.recurrentKernel[i * G + k];
        }
      }
    }
    dyCarry = dyPrev;
    dcCarry = dcPrev; // at t = 0 this is dL/dc_{−1}, a constant: dropped
  }
  gr.dy0.set(dyCarry);
  return gr;
}

/** Weights and biases uniform in ±weightScale, thresholds uniform in [thrLow, thrHigh]; all float32 values. */
export function randomEgruParams(rng: Rng, C: number, H: number, weightScale: number, thrLow: number, thrHigh: number): EgruParams {
  const kernel = randomUniform(rng, C * 3 * H, weightScale);
  const recurrentKernel = randomUniform(rng, H * 3 * H, weightScale);
  const bias = randomUniform(rng, 3 * H, weightScale);
  const recurrentBias = randomUniform(rng, 3 * H, weightScale);
  const thr = new Float64Array(H);
  for (let j = 0; j < H; j++) thr[j] = Math.fround(thrLow + (thrHigh - thrLow) * rng.uniform());
  return { kernel, recurrentKernel, bias, recurrentBias, thr };
}

/**
 * min |c' − ϑ| over (t, n, j). Where this is within float32 rounding, an engine may legitimately take
 * the other event decision, so comparison tests should reject such cases.
 */
export function minDistanceToThreshold(fwd: EgruForwardOut, p: EgruParams, d: EgruDims): number {
  let m = Infinity;
  for (let i = 0; i < fwd.tape.cPrime.length; i++) m = Math.min(m, Math.abs(fwd.tape.cPrime[i] - p.thr[i % d.H]));
  return m;
}

/** min ||v| − 1/ε| over (t, n, j): distance to the surrogate's kink (support is ε). */
export function minDistanceToSupportEdge(fwd: EgruForwardOut, p: EgruParams, d: EgruDims, support: number): number {
  let m = Infinity;
  for (let i = 0; i < fwd.tape.cPrime.length; i++) {
    m = Math.min(m, Math.abs(Math.abs(fwd.tape.cPrime[i] - p.thr[i % d.H]) - 1 / support));
  }
  return m;
}
