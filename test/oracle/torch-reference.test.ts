// The oracle against PyTorch's nn.GRU (independent numbers, see test/fixtures/make_gru_reference.py).
// Both sides are float64 from the same float32-exact inputs, so they agree to rounding: 1e-10 is
// ~10⁵ ulps of headroom and still catches any formula or layout mistake by many orders.
import { describe, expect, it } from 'vitest';
import { assertAllClose } from './compare.js';
import { dot } from './grad-check.js';
import { stackedGruBackward, stackedGruForward } from './stacked-gru.js';
import { loadTorchGruReference, torchLayer } from './torch-reference.js';

const TOL = 1e-10;

describe('oracle GRU vs PyTorch nn.GRU (2 layers, fixture)', () => {
  const ref = loadTorchGruReference();
  const { T, N, C, H, layers: L } = ref.dims;
  const d = { T, N, C, H };
  const layers = Array.from({ length: L }, (_, l) => torchLayer(ref, l));

  it('forward: y, h_n and the loss', () => {
    const out = stackedGruForward(layers, ref.x.data, ref.h0.data, d);
    assertAllClose(out.y, ref.y.data, TOL, 'y');
    assertAllClose(out.hn, ref.hn.data, TOL, 'hn');
    expect(Math.abs(dot(out.y, ref.dy.data) + dot(out.hn, ref.dhn.data) - ref.loss)).toBeLessThan(TOL * (1 + Math.abs(ref.loss)));
  });

  it('backward: dx, dh0 and every parameter gradient by state_dict name', () => {
    const fwd = stackedGruForward(layers, ref.x.data, ref.h0.data, d);
    const g = stackedGruBackward(layers, fwd, ref.dy.data, ref.dhn.data, d);
    assertAllClose(g.dx, ref.grad.x.data, TOL, 'grad x');
    assertAllClose(g.dh0, ref.grad.h0.data, TOL, 'grad h0');
    for (let l = 0; l < L; l++) {
      assertAllClose(g.layers[l].dWeightIh, ref.grad[`weight_ih_l${l}`].data, TOL, `weight_ih_l${l}`);
      assertAllClose(g.layers[l].dWeightHh, ref.grad[`weight_hh_l${l}`].data, TOL, `weight_hh_l${l}`);
      assertAllClose(g.layers[l].dBiasIh, ref.grad[`bias_ih_l${l}`].data, TOL, `bias_ih_l${l}`);
      assertAllClose(g.layers[l].dBiasHh, ref.grad[`bias_hh_l${l}`].data, TOL, `bias_hh_l${l}`);
    }
  });
});
