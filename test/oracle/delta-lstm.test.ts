import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { deltaLstmBackward, deltaLstmForward, type DeltaLstmDims, type DeltaLstmOptions } from './delta-lstm.js';
import { passThrough, quantize } from './fixed-point.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { lstmBackward, lstmForward, randomLstmParams, type LstmParams } from './lstm.js';
import { randomNormal } from './random.js';

const W_BOUND = 0.8;
const B_BOUND = 0.5;

/** x on the grid k/8 in [−1, 1] (ties |Δx| = 0.25 exact), a third of entries repeating the last step's. */
function gridInput(rng: Rng, d: DeltaLstmDims): Float64Array {
  const x = new Float64Array(d.T * d.N * d.C);
  const row = d.N * d.C;
  for (let i = 0; i < x.length; i++) {
    x[i] = i >= row && rng.uniform() < 0.33 ? x[i - row] : (rng.int(17) - 8) / 8;
  }
  return x;
}

/** The FD loss: Σ dy ⊙ y + Σ dcN ⊙ cN. */
function lossOf(p: LstmParams, x: Float64Array, d: DeltaLstmDims, o: DeltaLstmOptions, dy: Float64Array, dcN: Float64Array): number {
  const out = deltaLstmForward(p, x, d, o);
  return dot(out.y, dy) + dot(out.cN, dcN);
}

describe('oracle DeltaLSTM', () => {
  const shapes: (DeltaLstmDims & { seed: number })[] = [
    { T: 1, N: 1, C: 1, H: 1, seed: 1 },
    { T: 4, N: 1, C: 3, H: 5, seed: 2 },
    { T: 5, N: 3, C: 3, H: 4, seed: 3 },
    { T: 6, N: 2, C: 5, H: 3, seed: 4 },
  ];

  it.each(shapes)('with Θx = Θh = 0 equals the LSTM, forward and backward (T=$T N=$N C=$C H=$H)', ({ seed, ...d }) => {
    const rng = new Rng(seed);
    const p = randomLstmParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, d.T * d.N * d.C);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const dcN = randomNormal(rng, d.N * d.H);
    const delta = deltaLstmForward(p, x, d, { thetaX: 0, thetaH: 0 });
    const lstm = lstmForward(p, x, d.T, d.N, d.C, d.H);
    assertAllClose(delta.y, lstm.y, 1e-12, 'y');
    assertAllClose(delta.cN, lstm.cN, 1e-12, 'cN');
    expect(Array.from(delta.tape.maskX).every((m) => m === 1)).toBe(true);
    expect(Array.from(delta.tape.maskH).every((m) => m === 1)).toBe(true);
    const gd = deltaLstmBackward(p, delta.tape, dy, d, dcN);
    const gl = lstmBackward(p, x, lstm, d.T, d.N, d.C, d.H, dy, null, dcN);
    assertAllClose(gd.dx, gl.dx, 1e-12, 'dx');
    assertAllClose(gd.dWeightIh, gl.dWeightIh, 1e-12, 'dWeightIh');
    assertAllClose(gd.dWeightHh, gl.dWeightHh, 1e-12, 'dWeightHh');
    assertAllClose(gd.dBiasIh, gl.dBiasIh, 1e-12, 'dBiasIh');
    assertAllClose(gd.dBiasHh, gl.dBiasHh, 1e-12, 'dBiasHh');
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
    // C = H = 1, x = 0.5, 0.75, 0.875 with Θx = 0.25: kept (0.5), kept (tie 0.25), dropped (0.125)
    const rng = new Rng(3);
    const d = { T: 3, N: 1, C: 1, H: 1 };
    const p = randomLstmParams(rng, 1, 1, W_BOUND, B_BOUND);
    const out = deltaLstmForward(p, Float64Array.of(0.5, 0.75, 0.875), d, { thetaX: 0.25, thetaH: 10 });
    expect(Array.from(out.tape.maskX)).toEqual([1, 1, 0]);
    expect(Array.from(out.tape.xHat)).toEqual([0.5, 0.75, 0.75]);
    expect(Array.from(out.tape.maskH)).toEqual([0, 0, 0]); // |Δh| < 10: ĥ stays 0
    expect(out.stats.dxZeros).toBe(1);
    expect(out.stats.dhZeros).toBe(3);
    expect(out.stats.macs).toBe(2 * 4);
    expect(out.stats.macsDense).toBe(6 * 4);
    expect(out.stats.zeroBoth).toBeCloseTo(4 / 6, 15);
    // with ĥ = 0 held, every step sees the same recurrent input: the LSTM on x̂ with U = 0
    const noU = { ...p, weightHh: new Float64Array(4) };
    assertAllClose(out.y, lstmForward(noU, out.tape.xHat, 3, 1, 1, 1).y, 1e-12, 'y with ĥ = 0');
  });

  const fdCases: (DeltaLstmDims & { seed: number; thetaX: number; thetaH: number; qw?: boolean; bBound?: number })[] = [
    { T: 1, N: 1, C: 2, H: 2, seed: 21, thetaX: 0.25, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 4, seed: 22, thetaX: 0.25, thetaH: 0.1 },
    { T: 6, N: 1, C: 4, H: 3, seed: 23, thetaX: 0.5, thetaH: 0.2 },
    { T: 4, N: 3, C: 2, H: 5, seed: 24, thetaX: 0, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 3, seed: 25, thetaX: 0, thetaH: 0 },
    // qw with biases up to ±0.9: some sums b_ih + b_hh leave Q1.7's range and saturate
    { T: 5, N: 2, C: 3, H: 4, seed: 26, thetaX: 0.25, thetaH: 0.1, qw: true, bBound: 0.9 },
  ];

  it.each(fdCases)(
    'backward matches finite differences with the masks held (T=$T N=$N C=$C H=$H Θx=$thetaX Θh=$thetaH qw=$qw)',
    ({ seed, thetaX, thetaH, qw, bBound, ...d }) => {
      const rng = new Rng(seed);
      const p = randomLstmParams(rng, d.C, d.H, W_BOUND, bBound ?? B_BOUND);
      const x = gridInput(rng, d);
      const dy = randomNormal(rng, d.T * d.N * d.H);
      const dcN = randomNormal(rng, d.N * d.H);
      const base = deltaLstmForward(p, x, d, { thetaX, thetaH, qw });
      const held: DeltaLstmOptions = {
        thetaX, thetaH, qw, masks: { maskX: base.tape.maskX, maskH: base.tape.maskH }, heldBiasSums: base.tape.biasSums,
      };
      const loss = (): number => lossOf(p, x, d, held, dy, dcN);
      const g = deltaLstmBackward(p, base.tape, dy, d, dcN);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, 'dWeightIh');
      assertAllClose(g.dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, 'dWeightHh');
      assertAllClose(g.dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, 'dBiasIh');
      assertAllClose(g.dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, 'dBiasHh');
      for (let i = 0; i < x.length; i++) if (base.tape.maskX[i] === 0) expect(g.dx[i]).toBe(0);
      if (qw) {
        const saturated = Array.from(base.tape.biasSums, (s) => passThrough(s, { qi: 1, qf: 7 }) === 0);
        expect(saturated.some((s) => s)).toBe(true);
        saturated.forEach((s, k) => {
          if (s) expect(g.dBiasIh[k] === 0).toBe(true); // ±0
        });
      }
    },
  );

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

  it('qa keeps h and c on the Q3.5 grid and decides with Q(Θ)', () => {
    const rng = new Rng(41);
    const d = { T: 8, N: 2, C: 3, H: 4 };
    const p = randomLstmParams(rng, d.C, d.H, 1.5, 1);
    const x = randomNormal(rng, d.T * d.N * d.C, 3);
    const out = deltaLstmForward(p, x, d, { thetaX: 0.1, thetaH: 0.1, qa: true });
    const onGrid = (v: number): boolean => v * 32 === Math.round(v * 32) && v >= -4 && v <= 3.96875;
    expect(Array.from(out.y).every(onGrid)).toBe(true);
    expect(Array.from(out.tape.c).every(onGrid)).toBe(true);
    expect(Array.from(out.tape.xHat).every(onGrid)).toBe(true);
    // Θx = 0.1 is Q3.5 0.09375: a step of exactly 0.09375 is kept (and moves x̂)
    const tie = deltaLstmForward(p, Float64Array.of(0.5, 0, 0, 0.59375, 0, 0), { T: 2, N: 1, C: 3, H: 4 }, { thetaX: 0.1, thetaH: 10, qa: true });
    expect(Array.from(tie.tape.maskX)).toEqual([1, 0, 0, 1, 0, 0]);
    expect(tie.tape.xHat[3]).toBe(0.59375);
  });
});
