import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { gruForward } from './gru.js';
import { randomGruParams, randomNormal } from './random.js';
import { stackedGruBackward, stackedGruForward } from './stacked-gru.js';


// Wider than PyTorch's ±1/√H init so the gates leave their linear range and every term matters.
const W_BOUND = 0.8;
const B_BOUND = 0.5;

describe('oracle stacked GRU (2 layers)', () => {
  const T = 4;
  const N = 2;
  const C = 3;
  const H = 5;
  const d = { T, N, C, H };

  it('feeds layer 0 output into layer 1 and reports both final states', () => {
    const rng = new Rng(21);
    const layers = [randomGruParams(rng, C, H, W_BOUND, B_BOUND), randomGruParams(rng, H, H, W_BOUND, B_BOUND)];
    const x = randomNormal(rng, T * N * C);
    const out = stackedGruForward(layers, x, null, d);
    const y0 = gruForward(layers[0], x, null, { T, N, C, H }).y;
    const y1 = gruForward(layers[1], y0, null, { T, N, C: H, H }).y;
    expect(Array.from(out.y)).toEqual(Array.from(y1));
    expect(Array.from(out.hn.subarray(0, N * H))).toEqual(Array.from(y0.subarray((T - 1) * N * H)));
    expect(Array.from(out.hn.subarray(N * H))).toEqual(Array.from(y1.subarray((T - 1) * N * H)));
  });

  it.each([{ seed: 22, withDhn: true }, { seed: 23, withDhn: false }])(
    'backward matches finite differences (seed $seed, dhn $withDhn)',
    ({ seed, withDhn }) => {
      const rng = new Rng(seed);
      const layers = [randomGruParams(rng, C, H, W_BOUND, B_BOUND), randomGruParams(rng, H, H, W_BOUND, B_BOUND)];
      const x = randomNormal(rng, T * N * C);
      const h0 = randomNormal(rng, 2 * N * H);
      const dy = randomNormal(rng, T * N * H);
      const dhn = withDhn ? randomNormal(rng, 2 * N * H) : null;
      const loss = (): number => {
        const o = stackedGruForward(layers, x, h0, d);
        return dot(o.y, dy) + (dhn ? dot(o.hn, dhn) : 0);
      };
      const g = stackedGruBackward(layers, stackedGruForward(layers, x, h0, d), dy, dhn, d);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dh0, numericalGradient(loss, h0), FD_TOL, 'dh0');
      layers.forEach((p, l) => {
        assertAllClose(g.layers[l].dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, `l${l} dWeightIh`);
        assertAllClose(g.layers[l].dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, `l${l} dWeightHh`);
        assertAllClose(g.layers[l].dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, `l${l} dBiasIh`);
        assertAllClose(g.layers[l].dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, `l${l} dBiasHh`);
      });
    },
  );
});
