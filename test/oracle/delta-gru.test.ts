import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { deltaGruBackward, deltaGruForward, type DeltaGruDims } from './delta-gru.js';
import { passThrough, quantize } from './fixed-point.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { gruBackward, gruForward, type GruParams } from './gru.js';
import { randomGruParams, randomNormal } from './random.js';

const W_BOUND = 0.8;
const B_BOUND = 0.5;

/** x on the grid k/8 in [−1, 1] (ties |Δx| = 0.25 exact), a third of entries repeating the last step's. */
function gridInput(rng: Rng, d: DeltaGruDims): Float64Array {
  const x = new Float64Array(d.T * d.N * d.C);
  const row = d.N * d.C;
  for (let i = 0; i < x.length; i++) {
    x[i] = i >= row && rng.uniform() < 0.33 ? x[i - row] : (rng.int(17) - 8) / 8;
  }
  return x;
}

describe('oracle DeltaGRU', () => {
  const shapes: (DeltaGruDims & { seed: number })[] = [
    { T: 1, N: 1, C: 1, H: 1, seed: 1 },
    { T: 4, N: 1, C: 3, H: 5, seed: 2 },
    { T: 5, N: 3, C: 3, H: 4, seed: 3 },
    { T: 6, N: 2, C: 5, H: 3, seed: 4 },
  ];

  it.each(shapes)('with Θx = Θh = 0 equals the GRU, forward and backward (T=$T N=$N C=$C H=$H)', ({ seed, ...d }) => {
    const rng = new Rng(seed);
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, d.T * d.N * d.C);
    const dy = randomNormal(rng, d.T * d.N * d.H);
    const delta = deltaGruForward(p, x, d, { thetaX: 0, thetaH: 0 });
    const gru = gruForward(p, x, null, d);
    assertAllClose(delta.y, gru.y, 1e-12, 'y');
    expect(Array.from(delta.tape.maskX).every((m) => m === 1)).toBe(true);
    expect(Array.from(delta.tape.maskH).every((m) => m === 1)).toBe(true);
    const gd = deltaGruBackward(p, delta.tape, dy, d);
    const gg = gruBackward(p, x, gru.tape, dy, null, d);
    assertAllClose(gd.dx, gg.dx, 1e-12, 'dx');
    assertAllClose(gd.dWeightIh, gg.dWeightIh, 1e-12, 'dWeightIh');
    assertAllClose(gd.dWeightHh, gg.dWeightHh, 1e-12, 'dWeightHh');
    assertAllClose(gd.dBiasIh, gg.dBiasIh, 1e-12, 'dBiasIh');
    assertAllClose(gd.dBiasHh, gg.dBiasHh, 1e-12, 'dBiasHh');
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
    // C = H = 1, x = 0.5, 0.75, 0.875 with Θx = 0.25: kept (0.5), kept (tie 0.25), dropped (0.125)
    const rng = new Rng(3);
    const d = { T: 3, N: 1, C: 1, H: 1 };
    const p = randomGruParams(rng, 1, 1, W_BOUND, B_BOUND);
    const out = deltaGruForward(p, Float64Array.of(0.5, 0.75, 0.875), d, { thetaX: 0.25, thetaH: 10 });
    expect(Array.from(out.tape.maskX)).toEqual([1, 1, 0]);
    expect(Array.from(out.tape.xHat)).toEqual([0.5, 0.75, 0.75]);
    // Δh at t = 0 is 0 − 0 = 0 (kept only at Θ = 0), later |Δh| < 10: dropped; ĥ stays 0
    expect(Array.from(out.tape.maskH)).toEqual([0, 0, 0]);
    expect(out.stats.dxZeros).toBe(1);
    expect(out.stats.dhZeros).toBe(3);
    expect(out.stats.macs).toBe(2 * 3);
    expect(out.stats.macsDense).toBe(6 * 3);
    expect(out.stats.zeroBoth).toBeCloseTo(4 / 6, 15);
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

  const fdCases: (DeltaGruDims & { seed: number; thetaX: number; thetaH: number; qw?: boolean; bBound?: number })[] = [
    { T: 1, N: 1, C: 2, H: 2, seed: 21, thetaX: 0.25, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 4, seed: 22, thetaX: 0.25, thetaH: 0.1 },
    { T: 6, N: 1, C: 4, H: 3, seed: 23, thetaX: 0.5, thetaH: 0.2 },
    { T: 4, N: 3, C: 2, H: 5, seed: 24, thetaX: 0, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 3, seed: 25, thetaX: 0, thetaH: 0 },
    // qw with biases up to ±0.9: some starts leave Q1.7's range and saturate
    { T: 5, N: 2, C: 3, H: 4, seed: 26, thetaX: 0.25, thetaH: 0.1, qw: true, bBound: 0.9 },
    { T: 4, N: 1, C: 2, H: 5, seed: 27, thetaX: 0, thetaH: 0, qw: true, bBound: 1.2 },
  ];

  it.each(fdCases)(
    'backward matches finite differences with the masks held (T=$T N=$N C=$C H=$H Θx=$thetaX Θh=$thetaH qw=$qw)',
    ({ seed, thetaX, thetaH, qw, bBound, ...d }) => {
      const rng = new Rng(seed);
      const p = randomGruParams(rng, d.C, d.H, W_BOUND, bBound ?? B_BOUND);
      const x = gridInput(rng, d);
      const dy = randomNormal(rng, d.T * d.N * d.H);
      const base = deltaGruForward(p, x, d, { thetaX, thetaH, qw });
      const masks = { maskX: base.tape.maskX, maskH: base.tape.maskH };
      // under qw the quantised starts are held too (their straight-through linearisation)
      const held = { thetaX, thetaH, qw, masks, heldBiasSums: base.tape.biasSums };
      const loss = (): number => dot(deltaGruForward(p, x, d, held).y, dy);
      const g = deltaGruBackward(p, base.tape, dy, d);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, 'dWeightIh');
      assertAllClose(g.dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, 'dWeightHh');
      assertAllClose(g.dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, 'dBiasIh');
      assertAllClose(g.dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, 'dBiasHh');
      // a held input gets no gradient of its own: it reaches the x of the last update
      for (let i = 0; i < x.length; i++) if (base.tape.maskX[i] === 0) expect(g.dx[i]).toBe(0);
      if (qw) expect(Array.from(base.tape.biasPass).some((v) => v === 0)).toBe(true);
    },
  );

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

  it('qa keeps h on the Q3.5 grid and decides with Q(Θ)', () => {
    const rng = new Rng(41);
    const d = { T: 8, N: 2, C: 3, H: 4 };
    const p = randomGruParams(rng, d.C, d.H, 1.5, 1);
    const x = randomNormal(rng, d.T * d.N * d.C, 3);
    const out = deltaGruForward(p, x, d, { thetaX: 0.1, thetaH: 0.1, qa: true });
    const onGrid = (v: number): boolean => v * 32 === Math.round(v * 32) && v >= -4 && v <= 3.96875;
    expect(Array.from(out.y).every(onGrid)).toBe(true);
    expect(Array.from(out.tape.xHat).every(onGrid)).toBe(true);
    // Θx = 0.1 is Q3.5 0.09375: a step of exactly 0.09375 is kept (and moves x̂)
    const tie = deltaGruForward(p, Float64Array.of(0.5, 0, 0, 0.59375, 0, 0), { T: 2, N: 1, C: 3, H: 4 }, { thetaX: 0.1, thetaH: 10, qa: true });
    expect(Array.from(tie.tape.maskX)).toEqual([1, 0, 0, 1, 0, 0]);
    expect(tie.tape.xHat[3]).toBe(0.59375);
  });
});
