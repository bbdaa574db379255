import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import type { DeltaDims } from './delta-common.js';
import {
  B_BOUND, DENSE_SHAPES, expectAllKept, expectGradients, expectHeldInputsZero, expectQaTieKept, expectStrictThreshold, FD_CASES, FD_TITLE,
  gridInput, heldOptions, numericalGradients, onQ35Grid, QA_TIE_DIMS, QA_TIE_X, STRICT_DIMS, STRICT_X, W_BOUND, type FdCase,
} from './delta-cases.js';
import { deltaGruBackward, deltaGruForward } from './delta-gru.js';
import { passThrough, quantize } from './fixed-point.js';
import { dot, FD_TOL } from './grad-check.js';
import { gruBackward, gruForward, type GruParams } from './gru.js';
import { randomGruParams, randomNormal } from './random.js';

/**
 * Under qa at Θh = 0.1 (Q3.5: 0.09375): the steps with |Δh| = |h_{t−1} − ĥ_{t−1}| = 0.09375 (the
 * hidden deltas the threshold rule decides), and how many of them moved ĥ.
 */
function qaHiddenTies(y: Float64Array, hHat: Float64Array, maskH: Uint8Array, d: DeltaDims): { ties: number; moved: number } {
  const NH = d.N * d.H;
  let ties = 0;
  let moved = 0;
  for (let t = 1; t < d.T; t++) {
    for (let i = 0; i < NH; i++) {
      if (Math.abs(y[(t - 1) * NH + i] - hHat[(t - 1) * NH + i]) === 0.09375) {
        ties++;
        moved += maskH[t * NH + i];
      }
    }
  }
  return { ties, moved };
}

describe('oracle DeltaGRU', () => {
  it.each(DENSE_SHAPES)('with Θx = Θh = 0 equals the GRU, forward and backward (T=$T N=$N C=$C H=$H)', ({ seed, ...d }) => {
    const rng = new Rng(seed);
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, d.T * d.N * d.C);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const delta = deltaGruForward(p, x, d, { thetaX: 0, thetaH: 0 });
    const gru = gruForward(p, x, null, d);
    assertAllClose(delta.y, gru.y, 1e-12, 'y');
    expectAllKept(delta.tape);
    expectGradients(deltaGruBackward(p, delta.tape, dy, d), gruBackward(p, x, gru.tape, dy, null, d), 1e-12);
  });

  it('with Θh = 0 is the GRU run on x̂ (what the input memory holds)', () => {
    const rng = new Rng(9);
    const d = { T: 6, N: 2, C: 4, H: 3 };
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = gridInput(rng, d);
    const delta = deltaGruForward(p, x, d, { thetaX: 0.3, thetaH: 0 });
    expect(Array.from(delta.tape.maskX).some((m) => m === 0)).toBe(true);
    assertAllClose(delta.y, gruForward(p, delta.tape.xHat, null, d).y, 1e-12, 'y');
  });

  it('keeps |Δ| = Θ (strict threshold) and holds x̂ elsewhere', () => {
    const rng = new Rng(3);
    const p = randomGruParams(rng, 1, 1, W_BOUND, B_BOUND);
    expectStrictThreshold(deltaGruForward(p, STRICT_X, STRICT_DIMS, { thetaX: 0.25, thetaH: 10 }), 3);
  });

  it('counts exact zeros at Θ = 0 (repeated inputs, Δh at t = 0)', () => {
    const rng = new Rng(11);
    const d = { T: 5, N: 2, C: 3, H: 4 };
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = gridInput(rng, d);
    let repeats = 0;
    for (let i = 0; i < x.length; i++) if (x[i] === (i >= d.N * d.C ? x[i - d.N * d.C] : 0)) repeats++;
    const { stats } = deltaGruForward(p, x, d, { thetaX: 0, thetaH: 0 });
    expect(stats.dxZeros).toBe(repeats);
    expect(stats.dhZeros).toBe(d.N * d.H); // h_{−1} = ĥ = 0; later h changes every step
  });

  // the shared cases and one of the DeltaGRU's own: qw at Θ = 0 with biases up to ±1.2
  const fdCases: FdCase[] = [...FD_CASES, { T: 4, N: 1, C: 2, H: 5, seed: 27, thetaX: 0, thetaH: 0, qw: true, bBound: 1.2 }];

  it.each(fdCases)(FD_TITLE, (c) => {
    const { seed, thetaX, thetaH, qw, bBound, ...d } = c;
    const rng = new Rng(seed);
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, bBound ?? B_BOUND);
    const x = gridInput(rng, d);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const base = deltaGruForward(p, x, d, { thetaX, thetaH, qw });
    // under qw the quantised starts are held too (their straight-through linearisation)
    const held = heldOptions(c, base.tape);
    const loss = (): number => dot(deltaGruForward(p, x, d, held).y, dy);
    const g = deltaGruBackward(p, base.tape, dy, d);
    expectGradients(g, numericalGradients(loss, x, p), FD_TOL);
    expectHeldInputsZero(g.dx, base.tape);
    if (qw) expect(Array.from(base.tape.biasPass).some((v) => v === 0)).toBe(true);
  });

  it('qw starts the memories at Q1.7 of b_ir + b_hr, b_iz + b_hz, b_in, b_hn; zero bias gradient where saturated', () => {
    const rng = new Rng(31);
    const d = { T: 3, N: 2, C: 2, H: 3 };
    const H = d.H;
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, 0.9);
    const x = gridInput(rng, d);
    const w = { qi: 1, qf: 7 };
    // the same layer with the quantised starts written into the biases (b_hr = b_hz = 0)
    const biasIh = new Float64Array(3 * H);
    const biasHh = new Float64Array(3 * H);
    for (let j = 0; j < 2 * H; j++) biasIh[j] = quantize(p.biasIh[j] + p.biasHh[j], w);
    for (let j = 0; j < H; j++) {
      biasIh[2 * H + j] = quantize(p.biasIh[2 * H + j], w);
      biasHh[2 * H + j] = quantize(p.biasHh[2 * H + j], w);
    }
    const q: GruParams = { ...p, biasIh, biasHh };
    const a = deltaGruForward(p, x, d, { thetaX: 0.25, thetaH: 0.05, qw: true });
    assertAllClose(a.y, deltaGruForward(q, x, d, { thetaX: 0.25, thetaH: 0.05 }).y, 1e-15, 'y');
    const g = deltaGruBackward(p, a.tape, randomNormal(rng, d.T * d.N * d.H), d);
    for (let j = 0; j < H; j++) {
      if (passThrough(p.biasIh[2 * H + j], w) === 0) expect(g.dBiasIh[2 * H + j] === 0).toBe(true);
      if (passThrough(p.biasHh[2 * H + j], w) === 0) expect(g.dBiasHh[2 * H + j] === 0).toBe(true);
    }
  });

  it('qa computes a hand-worked step (Q3.5 activations, Q2.6 gates, Q1.7 biases)', () => {
    // C = H = 1, x = 0.1 → 0.09375; starts Q1.7: M_r 0.25, M_z 0.5, M_xn 0.1 → 13/128,
    // M_hn 0.3 → 38/128 = 0.296875, once more Q3.5 under qa: 9.5 LSBs, the tie to even 0.3125
    // M_r = 0.25 + 0.5·0.09375 = 0.296875 → Q3.5 0.3125;  r = σ(0.3125) = 0.57750 → Q2.6 37/64
    // M_z = 0.5 − 0.09375 = 0.40625;                     z = σ(0.40625) = 0.60019 → 38/64
    // M_xn = 0.1015625 + 2·0.09375 = 0.2890625; + r·0.3125 = 0.46973 → Q3.5 0.46875
    // n = tanh(0.46875) = 0.43719 → 28/64; (1 − z)·n = 0.17773 → Q3.5 0.1875; z·h_{−1} = 0; h = 0.1875
    const p: GruParams = {
      weightIh: Float64Array.of(0.5, -1, 2),
      weightHh: Float64Array.of(0, 0, 0),
      biasIh: Float64Array.of(0.25, 0, 0.1),
      biasHh: Float64Array.of(0, 0.5, 0.3),
    };
    const d = { T: 1, N: 1, C: 1, H: 1 };
    const out = deltaGruForward(p, Float64Array.of(0.1), d, { thetaX: 0, thetaH: 0, qa: true, qw: true });
    expect([out.tape.r[0], out.tape.z[0], out.tape.n[0], out.tape.hiddenN[0]]).toEqual([37 / 64, 38 / 64, 28 / 64, 0.3125]);
    expect(out.y[0]).toBe(0.1875);
    expect(() => deltaGruBackward(p, out.tape, Float64Array.of(1), d)).toThrow(/inference only/);
  });

  it('qa keeps h on the Q3.5 grid and decides with Q(Θ), the zeroing and the memory update alike (as the reference)', () => {
    const rng = new Rng(41);
    const d = { T: 8, N: 2, C: 3, H: 4 };
    const p = randomGruParams(rng, d.C, d.H, 1.5, 1);
    const x = randomNormal(rng, d.T * d.N * d.C, 3);
    const out = deltaGruForward(p, x, d, { thetaX: 0.1, thetaH: 0.1, qa: true });
    expect(Array.from(out.y).every(onQ35Grid)).toBe(true);
    expect(Array.from(out.tape.xHat).every(onQ35Grid)).toBe(true);
    expectQaTieKept(deltaGruForward(p, QA_TIE_X, QA_TIE_DIMS, { thetaX: 0.1, thetaH: 10, qa: true }).tape);
    // The reference's DeltaGRU moves x̂ at Q(Θ) too (its DeltaLSTM at Θ): the repeat is then Δx = 0.
    const again = deltaGruForward(p, Float64Array.of(0.5, 0.59375, 0.59375), { T: 3, N: 1, C: 1, H: 4 }, { thetaX: 0.1, thetaH: 10, qa: true });
    expect(Array.from(again.tape.maskX)).toEqual([1, 1, 0]);
    expect(Array.from(again.tape.xHat)).toEqual([0.5, 0.59375, 0.59375]);
    expect(again.stats.dxZeros).toBe(1);
    // Δh at Θh = 0.1: every step |Δh| = 0.09375 (h is on the grid) is passed on and moves ĥ.
    const h = qaHiddenTies(out.y, out.tape.hHat, out.tape.maskH, d);
    expect(h.ties).toBeGreaterThan(0);
    expect(h.moved).toBe(h.ties);
  });
});
