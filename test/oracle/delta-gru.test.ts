import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { deltaGruBackward, deltaGruForward, type DeltaGruDims } from './delta-gru.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { gruBackward, gruForward } from './gru.js';
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

  const fdCases: (DeltaGruDims & { seed: number; thetaX: number; thetaH: number })[] = [
    { T: 1, N: 1, C: 2, H: 2, seed: 21, thetaX: 0.25, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 4, seed: 22, thetaX: 0.25, thetaH: 0.1 },
    { T: 6, N: 1, C: 4, H: 3, seed: 23, thetaX: 0.5, thetaH: 0.2 },
    { T: 4, N: 3, C: 2, H: 5, seed: 24, thetaX: 0, thetaH: 0.05 },
    { T: 5, N: 2, C: 3, H: 3, seed: 25, thetaX: 0, thetaH: 0 },
  ];

  it.each(fdCases)(
    'backward matches finite differences with the masks held (T=$T N=$N C=$C H=$H Θx=$thetaX Θh=$thetaH)',
    ({ seed, thetaX, thetaH, ...d }) => {
      const rng = new Rng(seed);
      const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
      const x = gridInput(rng, d);
      const dy = randomNormal(rng, d.T * d.N * d.H);
      const base = deltaGruForward(p, x, d, { thetaX, thetaH });
      const masks = { maskX: base.tape.maskX, maskH: base.tape.maskH };
      const loss = (): number => dot(deltaGruForward(p, x, d, { thetaX, thetaH, masks }).y, dy);
      const g = deltaGruBackward(p, base.tape, dy, d);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, 'dWeightIh');
      assertAllClose(g.dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, 'dWeightHh');
      assertAllClose(g.dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, 'dBiasIh');
      assertAllClose(g.dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, 'dBiasHh');
      // a held input gets no gradient of its own: it reaches the x of the last update
      for (let i = 0; i < x.length; i++) if (base.tape.maskX[i] === 0) expect(g.dx[i]).toBe(0);
    },
  );
});
