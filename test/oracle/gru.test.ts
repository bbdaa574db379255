import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { gruBackward, gruForward, type GruDims, type GruParams } from './gru.js';
import { randomGruParams, randomNormal } from './random.js';


// Wider than PyTorch's ±1/√H init so the gates leave their linear range and every term matters.
const W_BOUND = 0.8;
const B_BOUND = 0.5;

describe('oracle GRU', () => {
  it('computes a hand-worked step (gate order r, z, n; r multiplies U_n h + b_hn)', () => {
    // C = H = 1, x = 1, h = 0.5
    // a_r = 1·1 + (−1) + 0·0.5 + 0   = 0 → r = ½
    // a_z = 0·1 + 0    + 2·0.5 + 0   = 1 → z = σ(1)
    // a_n = 2·1 + (−2) + r·(1·0.5 + 1.5) = ½·2 = 1 → n = tanh 1
    // h' = (1 − σ(1))·tanh 1 + σ(1)·0.5
    const p: GruParams = {
      weightIh: Float64Array.of(1, 0, 2),
      weightHh: Float64Array.of(0, 2, 1),
      biasIh: Float64Array.of(-1, 0, -2),
      biasHh: Float64Array.of(0, 0, 1.5),
    };
    const s1 = 1 / (1 + Math.exp(-1));
    const { y } = gruForward(p, Float64Array.of(1), Float64Array.of(0.5), { T: 1, N: 1, C: 1, H: 1 });
    expect(y[0]).toBeCloseTo((1 - s1) * Math.tanh(1) + s1 * 0.5, 15);
  });

  it('starts from zeros without h0', () => {
    const rng = new Rng(5);
    const d = { T: 3, N: 2, C: 4, H: 3 };
    const p = randomGruParams(rng, d.C, d.H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, d.T * d.N * d.C);
    expect(Array.from(gruForward(p, x, null, d).y)).toEqual(Array.from(gruForward(p, x, new Float64Array(d.N * d.H), d).y));
  });

  const cases: (GruDims & { seed: number; withH0: boolean; withDhT: boolean })[] = [
    { T: 1, N: 1, C: 1, H: 1, seed: 1, withH0: false, withDhT: false },
    { T: 1, N: 2, C: 7, H: 5, seed: 2, withH0: true, withDhT: true },
    { T: 4, N: 1, C: 7, H: 5, seed: 3, withH0: true, withDhT: false },
    { T: 5, N: 3, C: 3, H: 4, seed: 4, withH0: false, withDhT: true },
    { T: 3, N: 2, C: 2, H: 6, seed: 5, withH0: true, withDhT: true },
  ];

  it.each(cases)(
    'backward matches finite differences (T=$T N=$N C=$C H=$H h0=$withH0 dhT=$withDhT)',
    ({ T, N, C, H, seed, withH0, withDhT }) => {
      const rng = new Rng(seed);
      const d = { T, N, C, H };
      const p = randomGruParams(rng, C, H, W_BOUND, B_BOUND);
      const x = randomNormal(rng, T * N * C);
      const h0 = withH0 ? randomNormal(rng, N * H) : null;
      const dy = randomNormal(rng, T * N * H);
      const dhT = withDhT ? randomNormal(rng, N * H) : null;
      const hBuf = h0 ?? new Float64Array(N * H); // perturbed in place for dh0 even when "no h0"
      // L = Σ y ⊙ dy + Σ h_T ⊙ dhT, so the analytic backward gets exactly (dy, dhT).
      const loss = (): number => {
        const { y } = gruForward(p, x, hBuf, d);
        return dot(y, dy) + (dhT ? dot(y.subarray((T - 1) * N * H), dhT) : 0);
      };
      const { tape } = gruForward(p, x, h0, d);
      const g = gruBackward(p, x, tape, dy, dhT, d);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dh0, numericalGradient(loss, hBuf), FD_TOL, 'dh0');
      assertAllClose(g.dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, 'dWeightIh');
      assertAllClose(g.dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, 'dWeightHh');
      assertAllClose(g.dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, 'dBiasIh');
      assertAllClose(g.dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, 'dBiasHh');
    },
  );
});
