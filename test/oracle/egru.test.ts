import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import {
  egruBackward, egruForward, egruForwardWithFiring, heaviside, minDistanceToSupportEdge, minDistanceToThreshold,
  randomEgruParams, type EgruDims, type EgruOptions, type EgruParams, type FiringFn,
} from './egru.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { randomNormal } from './random.js';

// Weights wide enough that gates saturate and c' spreads over roughly (−1, 1); thresholds low enough
// that a good share of units fire. ε = 3 puts the surrogate's support edge at |v| = 1/3, inside that spread.
const W_SCALE = 1.5;
const THR_LO = 0.05;
const THR_HI = 0.5;
const SUPPORT = 3;
const ZONEOUT = 0.3;

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));
const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;

/** Params with every entry zero except those set by `set`. */
function zeroParams(C: number, H: number, set: (p: EgruParams) => void): EgruParams {
  const p: EgruParams = {
    kernel: new Float64Array(C * 3 * H), recurrentKernel: new Float64Array(H * 3 * H),
    bias: new Float64Array(3 * H), recurrentBias: new Float64Array(3 * H), thr: new Float64Array(H),
  };
  set(p);
  return p;
}

interface Case extends EgruDims { seed: number; withY0: boolean; withZoneout: boolean }

function setup(cs: Case, dampening: number) {
  const { T, N, C, H } = cs;
  const d: EgruDims = { T, N, C, H };
  const rng = new Rng(cs.seed);
  const p = randomEgruParams(rng, C, H, W_SCALE, THR_LO, THR_HI);
  const x = randomNormal(rng, T * N * C);
  const y0 = cs.withY0 ? randomNormal(rng, N * H, 0.5) : null;
  const mask = new Float64Array(T * N * H).map(() => (rng.uniform() < 1 - ZONEOUT ? 1 : 0));
  const opts: EgruOptions = {
    training: true, zoneout: cs.withZoneout ? ZONEOUT : 0, dampening, support: SUPPORT,
    zoneoutMask: cs.withZoneout ? mask : null,
  };
  const [wy, wc, wo, wtr] = [0, 1, 2, 3].map(() => randomNormal(rng, T * N * H));
  return { d, p, x, y0, opts, wy, wc, wo, wtr };
}

/** Checks BPTT's gradients of L = Σ y·wy + c·wc + o·wo + trace·wtr against finite differences of the forward with `fire`. */
function checkAgainstFd(s: ReturnType<typeof setup>, fire: FiringFn): void {
  const { d, p, x, y0, opts, wy, wc, wo, wtr } = s;
  const y0Buf = y0 ?? new Float64Array(d.N * d.H); // perturbed in place for dy0 even without y0
  const loss = (): number => {
    const f = egruForwardWithFiring(p, x, y0Buf, d, opts, fire);
    return dot(f.y, wy) + dot(f.c, wc) + dot(f.o, wo) + dot(f.trace, wtr);
  };
  const fwd = egruForward(p, x, y0, d, opts);
  const g = egruBackward(p, x, y0, fwd, { dy: wy, dc: wc, do: wo, dtrace: wtr }, d, opts);
  assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
  assertAllClose(g.dy0, numericalGradient(loss, y0Buf), FD_TOL, 'dy0');
  assertAllClose(g.dKernel, numericalGradient(loss, p.kernel), FD_TOL, 'dKernel');
  assertAllClose(g.dRecurrentKernel, numericalGradient(loss, p.recurrentKernel), FD_TOL, 'dRecurrentKernel');
  assertAllClose(g.dBias, numericalGradient(loss, p.bias), FD_TOL, 'dBias');
  assertAllClose(g.dRecurrentBias, numericalGradient(loss, p.recurrentBias), FD_TOL, 'dRecurrentBias');
  assertAllClose(g.dThr, numericalGradient(loss, p.thr), FD_TOL, 'dThr');
}

const cases: Case[] = [
  { T: 4, N: 2, C: 3, H: 5, seed: 3, withY0: false, withZoneout: false },
  { T: 4, N: 2, C: 3, H: 5, seed: 4, withY0: true, withZoneout: false },
  { T: 4, N: 2, C: 3, H: 5, seed: 5, withY0: true, withZoneout: true },
  { T: 6, N: 1, C: 2, H: 4, seed: 6, withY0: false, withZoneout: true },
  { T: 3, N: 3, C: 4, H: 3, seed: 10, withY0: true, withZoneout: true },
];

describe('oracle EGRU', () => {
  it.each(cases)('γ = 0: BPTT matches finite differences (T=$T N=$N C=$C H=$H y0=$withY0 zoneout=$withZoneout)', (cs) => {
    const s = setup(cs, 0);
    const fwd = egruForward(s.p, s.x, s.y0, s.d, s.opts);
    // With γ = 0 the forward is smooth wherever no event flips within ±h, and BPTT is its exact derivative.
    expect(minDistanceToThreshold(fwd, s.p, s.d)).toBeGreaterThan(1e-3);
    const active = mean(fwd.o);
    expect(active).toBeGreaterThan(0.2);
    expect(active).toBeLessThan(0.8);
    checkAgainstFd(s, heaviside);
  });

  it.each(cases)('γ > 0: surrogate BPTT matches finite differences of a shifted forward (T=$T N=$N C=$C H=$H)', (cs) => {
    // Replace o = H(v) by o = H(v) + S(v) − S(v₀), where v₀ is each unit's v in the unperturbed forward and
    // S is the antiderivative of the surrogate, S(v) = γ ∫₀^v max(0, 1 − ε|u|) du. At the operating point this
    // forward has exactly the real values (the added term is 0), H is locally constant (no flip within ±h),
    // so its true derivative is the chain with ∂o/∂v = S'(v₀) = γ·max(0, 1 − ε|v₀|): precisely what the
    // surrogate BPTT claims to compute, here checked independently of the backward's code.
    // S is C¹ with kinks in S' at v = 0 and |v| = 1/ε, so both must stay clear of ±h.
    const gamma = 0.7;
    const s = setup(cs, gamma);
    const fwd = egruForward(s.p, s.x, s.y0, s.d, s.opts);
    expect(minDistanceToThreshold(fwd, s.p, s.d)).toBeGreaterThan(1e-3);
    expect(minDistanceToSupportEdge(fwd, s.p, s.d, SUPPORT)).toBeGreaterThan(1e-3);
    const v0 = fwd.tape.cPrime.map((c, i) => c - s.p.thr[i % s.d.H]);
    const inSupport = mean(v0.map((v) => (Math.abs(v) < 1 / SUPPORT ? 1 : 0)));
    expect(inSupport).toBeGreaterThan(0.2); // both sides of the support edge are exercised
    expect(inSupport).toBeLessThan(0.8);
    const S = (v: number): number => {
      const a = Math.min(Math.abs(v), 1 / SUPPORT);
      return gamma * Math.sign(v) * (a - (SUPPORT * a * a) / 2);
    };
    checkAgainstFd(s, (v, at) => heaviside(v, at) + S(v) - S(v0[at]));
  });

  it('hand-worked two steps: soft reset, y = o·c\', recurrence on y', () => {
    // z = σ(0) = ½ and r irrelevant (q_g = 0), g = tanh 3, ϑ = 0.3.
    // t=0: c' = ½ tanh 3 ≈ 0.497 > ϑ → o = 1, y = c', c = c' − 0.3
    // t=1: c' = ½ c₀ + ½ tanh 3 ≈ 0.597 > ϑ → fires again
    const p = zeroParams(1, 1, (q) => { q.bias[2] = 3; q.thr[0] = 0.3; });
    const d = { T: 2, N: 1, C: 1, H: 1 };
    const f = egruForward(p, Float64Array.of(0, 0), null, d, { training: true, zoneout: 0, dampening: 0, support: 1, zoneoutMask: null });
    const g = Math.tanh(3);
    const c0p = 0.5 * g;
    const c1p = 0.5 * (c0p - 0.3) + 0.5 * g;
    expect(Array.from(f.o)).toEqual([1, 1]);
    expect(f.y[0]).toBeCloseTo(c0p, 15);
    expect(f.c[0]).toBeCloseTo(c0p - 0.3, 15);
    expect(f.y[1]).toBeCloseTo(c1p, 15);
    expect(f.c[1]).toBeCloseTo(c1p - 0.3, 15);
    expect(f.trace[1]).toBeCloseTo(0.9 * 0.1 * c0p + 0.1 * c1p, 15);
  });

  it('thresholds at 1: no unit fires, y and o are 0 everywhere', () => {
    const rng = new Rng(11);
    const d = { T: 5, N: 2, C: 3, H: 4 };
    const p = randomEgruParams(rng, d.C, d.H, 0.5, 1, 1);
    const f = egruForward(p, randomNormal(rng, d.T * d.N * d.C, 0.1), null, d,
      { training: true, zoneout: 0, dampening: 0.5, support: 1, zoneoutMask: null });
    expect(f.o.every((v) => v === 0)).toBe(true);
    expect(f.y.every((v) => v === 0)).toBe(true);
    expect(f.trace.every((v) => v === 0)).toBe(true);
    expect(Array.from(f.c)).toEqual(Array.from(f.tape.cPrime));
    expect(f.c.some((v) => v !== 0)).toBe(true);
  });

  it('thresholds at 0 with positive c\': every unit fires and y = c = c\'', () => {
    const d = { T: 4, N: 2, C: 2, H: 3 };
    const rng = new Rng(12);
    // g = tanh(2) > 0 whatever x and y are (its kernel columns are 0), so c' > 0; z, r stay random
    const p = randomEgruParams(rng, d.C, d.H, 1, 0, 0);
    for (let j = 2 * d.H; j < 3 * d.H; j++) {
      for (let i = 0; i < d.C; i++) p.kernel[i * 3 * d.H + j] = 0;
      for (let i = 0; i < d.H; i++) p.recurrentKernel[i * 3 * d.H + j] = 0;
      p.bias[j] = 2;
      p.recurrentBias[j] = 0;
    }
    const f = egruForward(p, randomNormal(rng, d.T * d.N * d.C), null, d,
      { training: true, zoneout: 0, dampening: 0, support: 1, zoneoutMask: null });
    expect(f.o.every((v) => v === 1)).toBe(true);
    expect(Array.from(f.y)).toEqual(Array.from(f.tape.cPrime));
    expect(Array.from(f.c)).toEqual(Array.from(f.tape.cPrime));
  });

  it('zoneout: evaluation mixes p·c_prev + (1−p)·u, training applies the mask as given', () => {
    // z = ½, g = tanh 1, ϑ = 0.9 (never reached), so c = c' and u = ½ c_prev + ½ tanh 1
    const p = zeroParams(1, 1, (q) => { q.bias[2] = 1; q.thr[0] = 0.9; });
    const d = { T: 2, N: 1, C: 1, H: 1 };
    const x = Float64Array.of(0, 0);
    const g = Math.tanh(1);
    const ev = egruForward(p, x, null, d, { training: false, zoneout: 0.25, dampening: 0, support: 1, zoneoutMask: null });
    const e0 = 0.75 * (0.5 * g);
    const e1 = 0.25 * e0 + 0.75 * (0.5 * e0 + 0.5 * g);
    expect(ev.c[0]).toBeCloseTo(e0, 15);
    expect(ev.c[1]).toBeCloseTo(e1, 15);
    const trOpts: EgruOptions = { training: true, zoneout: 0.25, dampening: 0, support: 1, zoneoutMask: Float64Array.of(1, 0) };
    const tr = egruForward(p, x, null, d, trOpts);
    expect(tr.c[0]).toBeCloseTo(0.5 * g, 15); // m = 1: the new value
    expect(tr.c[1]).toBe(tr.c[0]); // m = 0: the state is kept
    const up = { dy: null, dc: Float64Array.of(1, 1), do: null, dtrace: null };
    expect(() => egruBackward(p, x, null, ev, up, d, { ...trOpts, training: false })).toThrow(/evaluation/);
    expect(() => egruForward(p, x, null, d, { ...trOpts, zoneoutMask: null })).toThrow(/mask/);
  });

  it('y0 sets only y_{−1}: it enters the gates but c starts at 0', () => {
    // Only U_z = 2 and b_g = 1 are nonzero: z = σ(2·y0), g = tanh 1, c' = (1 − z)·g + z·0.
    const p = zeroParams(1, 1, (q) => { q.recurrentKernel[0] = 2; q.bias[2] = 1; q.thr[0] = 0.9; });
    const d = { T: 1, N: 1, C: 1, H: 1 };
    const opts: EgruOptions = { training: true, zoneout: 0, dampening: 0, support: 1, zoneoutMask: null };
    const f = egruForward(p, Float64Array.of(0), Float64Array.of(0.5), d, opts);
    expect(f.tape.z[0]).toBeCloseTo(sigmoid(1), 15);
    expect(f.c[0]).toBeCloseTo((1 - sigmoid(1)) * Math.tanh(1), 15);
    expect(egruForward(p, Float64Array.of(0), null, d, opts).c[0]).toBeCloseTo(0.5 * Math.tanh(1), 15);
  });

  it('trace follows tr_t = 0.9·tr_{t−1} + 0.1·y_t from 0', () => {
    const s = setup(cases[2], 0);
    const { y, trace } = egruForward(s.p, s.x, s.y0, s.d, s.opts);
    const NH = s.d.N * s.d.H;
    for (let i = 0; i < y.length; i++) {
      const prev = i < NH ? 0 : trace[i - NH];
      expect(trace[i]).toBeCloseTo(0.9 * prev + 0.1 * y[i], 15);
    }
    expect(y.some((v) => v !== 0)).toBe(true);
  });

  it('H(0) = 0: a unit exactly at its threshold does not fire', () => {
    const rng = new Rng(13);
    const d = { T: 1, N: 1, C: 3, H: 6 };
    const p = randomEgruParams(rng, d.C, d.H, 1, 1, 1);
    const x = randomNormal(rng, d.C);
    const opts: EgruOptions = { training: true, zoneout: 0, dampening: 0, support: 1, zoneoutMask: null };
    // c' at t = 0 does not depend on ϑ, so setting ϑ = c' puts every unit at v = 0 exactly
    p.thr.set(egruForward(p, x, null, d, opts).tape.cPrime);
    const f = egruForward(p, x, null, d, opts);
    expect(minDistanceToThreshold(f, p, d)).toBe(0);
    expect(f.o.every((v) => v === 0)).toBe(true);
    expect(Array.from(f.c)).toEqual(Array.from(p.thr));
  });
});
