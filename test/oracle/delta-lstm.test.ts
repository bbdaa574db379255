import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import type { DeltaDims, DeltaOptions } from './delta-common.js';
import {
  B_BOUND, DENSE_SHAPES, expectAllKept, expectGradients, expectHeldInputsZero, expectStrictThreshold, FD_CASES, FD_TITLE,
  gridInput, heldOptions, numericalGradients, onQ35Grid, QA_TIE_DIMS, QA_TIE_X, STRICT_DIMS, STRICT_X, W_BOUND,
} from './delta-cases.js';
import { deltaLstmBackward, deltaLstmForward } from './delta-lstm.js';
import { passThrough, quantize } from './fixed-point.js';
import { dot, FD_TOL } from './grad-check.js';
import { lstmBackward, lstmForward, randomLstmParams, type LstmParams } from './lstm.js';
import { randomNormal } from './random.js';

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

/** The FD loss: Σ dy ⊙ y + Σ dcN ⊙ cN. */
function lossOf(p: LstmParams, x: Float64Array, d: DeltaDims, o: DeltaOptions, dy: Float64Array, dcN: Float64Array): number {
  const out = deltaLstmForward(p, x, d, o);
  return dot(out.y, dy) + dot(out.cN, dcN);
}

describe('oracle DeltaLSTM', () => {
  it.each(DENSE_SHAPES)('with Θx = Θh = 0 equals the LSTM, forward and backward (T=$T N=$N C=$C H=$H)', ({ seed, ...d }) => {
    const rng = new Rng(seed);
    const p = randomLstmParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, d.T * d.N * d.C);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const dcN = randomNormal(rng, d.N * d.H);
    const delta = deltaLstmForward(p, x, d, { thetaX: 0, thetaH: 0 });
    const lstm = lstmForward(p, x, d.T, d.N, d.C, d.H);
    assertAllClose(delta.y, lstm.y, 1e-12, 'y');
    assertAllClose(delta.cN, lstm.cN, 1e-12, 'cN');
    expectAllKept(delta.tape);
    expectGradients(deltaLstmBackward(p, delta.tape, dy, d, dcN), lstmBackward(p, x, lstm, d.T, d.N, d.C, d.H, dy, null, dcN), 1e-12);
  });

  it('with Θh = 0 is the LSTM run on x̂ (what the input memory holds)', () => {
    const rng = new Rng(9);
    const d = { T: 6, N: 2, C: 4, H: 3 };
    const p = randomLstmParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = gridInput(rng, d);
    const delta = deltaLstmForward(p, x, d, { thetaX: 0.3, thetaH: 0 });
    expect(Array.from(delta.tape.maskX).some((m) => m === 0)).toBe(true);
    assertAllClose(delta.y, lstmForward(p, delta.tape.xHat, d.T, d.N, d.C, d.H).y, 1e-12, 'y');
  });

  it('keeps |Δ| = Θ (strict threshold), holds x̂ elsewhere, and counts zeros and MACs', () => {
    const rng = new Rng(3);
    const p = randomLstmParams(rng, 1, 1, W_BOUND, B_BOUND);
    const out = deltaLstmForward(p, STRICT_X, STRICT_DIMS, { thetaX: 0.25, thetaH: 10 });
    expectStrictThreshold(out, 4);
    // with ĥ = 0 held, every step sees the same recurrent input: the LSTM on x̂ with U = 0
    const noU = { ...p, weightHh: new Float64Array(4) };
    assertAllClose(out.y, lstmForward(noU, out.tape.xHat, 3, 1, 1, 1).y, 1e-12, 'y with ĥ = 0');
  });

  it.each(FD_CASES)(FD_TITLE, (c) => {
    const { seed, thetaX, thetaH, qw, bBound, ...d } = c;
    const rng = new Rng(seed);
    const p = randomLstmParams(rng, d.C, d.H, W_BOUND, bBound ?? B_BOUND);
    const x = gridInput(rng, d);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const dcN = randomNormal(rng, d.N * d.H);
    const base = deltaLstmForward(p, x, d, { thetaX, thetaH, qw });
    const held = heldOptions(c, base.tape);
    const loss = (): number => lossOf(p, x, d, held, dy, dcN);
    const g = deltaLstmBackward(p, base.tape, dy, d, dcN);
    expectGradients(g, numericalGradients(loss, x, p), FD_TOL);
    expectHeldInputsZero(g.dx, base.tape);
    if (qw) {
      const saturated = Array.from(base.tape.biasSums, (s) => passThrough(s, { qi: 1, qf: 7 }) === 0);
      expect(saturated.some((s) => s)).toBe(true);
      saturated.forEach((s, k) => {
        if (s) expect(g.dBiasIh[k] === 0).toBe(true); // ±0
      });
    }
  });

  it('qw starts the memory at Q1.7(b_ih + b_hh)', () => {
    const rng = new Rng(31);
    const d = { T: 3, N: 2, C: 2, H: 3 };
    const p = randomLstmParams(rng, d.C, d.H, W_BOUND, 0.9);
    const x = gridInput(rng, d);
    const q = { ...p, biasIh: Float64Array.from(p.biasIh, (b, k) => quantize(b + p.biasHh[k], { qi: 1, qf: 7 })), biasHh: new Float64Array(4 * d.H) };
    assertAllClose(deltaLstmForward(p, x, d, { thetaX: 0.25, thetaH: 0.05, qw: true }).y,
      deltaLstmForward(q, x, d, { thetaX: 0.25, thetaH: 0.05 }).y, 1e-15, 'y');
  });

  it('qa computes a hand-worked step (Q3.5 activations, Q2.6 gates, Q1.7 biases)', () => {
    // C = H = 1, x = 0.1 → 0.09375; starts Q1.7(0.1, 0.2, 0, 0.3) = 13/128, 26/128, 0, 38/128
    // M_i = 0.1015625 + 0.09375 = 0.1953125 → Q3.5 0.1875; i = σ(0.1875) = 0.54674 → Q2.6 35/64
    // M_f = 0.203125 + 0.046875 = 0.25;               f = σ(0.25) = 0.56218 → 36/64
    // M_g = 0.1875;                                   g = tanh(0.1875) = 0.18533 → 12/64
    // M_o = 0.296875 − 0.09375 = 0.203125 → 6.5 LSBs, the tie to even 0.1875; o = 35/64
    // c = Q3.5(35/64 · 12/64 = 0.10254) = 0.09375; tanh c = 0.09348 → 6/64; h = Q3.5(0.05127) = 0.0625
    const p: LstmParams = {
      weightIh: Float64Array.of(1, 0.5, 2, -1),
      weightHh: Float64Array.of(0, 0, 0, 0),
      biasIh: Float64Array.of(0.1, 0.2, 0, 0.3),
      biasHh: Float64Array.of(0, 0, 0, 0),
    };
    const out = deltaLstmForward(p, Float64Array.of(0.1), { T: 1, N: 1, C: 1, H: 1 }, { thetaX: 0, thetaH: 0, qa: true, qw: true });
    expect(Array.from(out.tape.xHat)).toEqual([0.09375]);
    expect([out.tape.i[0], out.tape.f[0], out.tape.g[0], out.tape.o[0]]).toEqual([35 / 64, 36 / 64, 12 / 64, 35 / 64]);
    expect(out.cN[0]).toBe(0.09375);
    expect(out.y[0]).toBe(0.0625);
    expect(() => deltaLstmBackward(p, out.tape, Float64Array.of(1), { T: 1, N: 1, C: 1, H: 1 })).toThrow(/inference only/);
  });

  it('qa keeps h and c on the Q3.5 grid, zeroes with Q(Θ) and moves the memories with Θ (as the reference)', () => {
    const rng = new Rng(41);
    const d = { T: 8, N: 2, C: 3, H: 4 };
    const p = randomLstmParams(rng, d.C, d.H, 1.5, 1);
    const x = randomNormal(rng, d.T * d.N * d.C, 3);
    const out = deltaLstmForward(p, x, d, { thetaX: 0.1, thetaH: 0.1, qa: true });
    expect(Array.from(out.y).every(onQ35Grid)).toBe(true);
    expect(Array.from(out.tape.c).every(onQ35Grid)).toBe(true);
    expect(Array.from(out.tape.xHat).every(onQ35Grid)).toBe(true);
    // Θx = 0.1 is Q3.5 0.09375: a step |Δx| = 0.09375 is passed on (not zeroed) but does not move
    // x̂ (0.09375 < Θ), so the next, equal x passes the same 0.09375 again: no Δx is zero.
    const tie = deltaLstmForward(p, QA_TIE_X, QA_TIE_DIMS, { thetaX: 0.1, thetaH: 10, qa: true });
    expect(Array.from(tie.tape.maskX)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(tie.tape.xHat[3]).toBe(0.5);
    const d3 = { T: 3, N: 1, C: 1, H: 4 };
    const again = deltaLstmForward(p, Float64Array.of(0.5, 0.59375, 0.59375), d3, { thetaX: 0.1, thetaH: 10, qa: true });
    expect(Array.from(again.tape.maskX)).toEqual([1, 0, 0]);
    expect(Array.from(again.tape.xHat)).toEqual([0.5, 0.5, 0.5]);
    expect(again.stats.dxZeros).toBe(0);
    // Θx = 0.09375 on the grid (Q(Θ) = Θ): kept and x̂ moves; the repeat is then Δx = 0.
    const onGrid = deltaLstmForward(p, Float64Array.of(0.5, 0.59375, 0.59375), d3, { thetaX: 0.09375, thetaH: 10, qa: true });
    expect(Array.from(onGrid.tape.maskX)).toEqual([1, 1, 0]);
    expect(Array.from(onGrid.tape.xHat)).toEqual([0.5, 0.59375, 0.59375]);
    expect(onGrid.stats.dxZeros).toBe(1);
    // Δh at Θh = 0.1: every step |Δh| = 0.09375 (h is on the grid) is passed on without moving ĥ.
    const h = qaHiddenTies(out.y, out.tape.hHat, out.tape.maskH, d);
    expect(h.ties).toBeGreaterThan(0);
    expect(h.moved).toBe(0);
  });
});
