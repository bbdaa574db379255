import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import {
  lstmBackward, lstmForward, lstmLayersFromStateDict, randomLstmParams, stackedLstmBackward, stackedLstmForward,
  stackedLstmGradientsByName, type LstmParams,
} from './lstm.js';
import { randomNormal } from './random.js';
import { loadTorchLstmReference, torchLstmLayer } from './torch-reference.js';

// Wider than PyTorch's ±1/√H init so the gates leave their linear range and every term matters.
const W_BOUND = 0.8;
const B_BOUND = 0.5;

describe('oracle LSTM', () => {
  it('computes a hand-worked step (gate order i, f, g, o; c\' = f c + i g, h\' = o tanh c\')', () => {
    // C = H = 1, x = 1, h = 0.5, c = 2
    // a_i = 1·1 + 0.5·0.5 + (−0.25) + 0 = 1   → i = σ(1)
    // a_f = 0·1 + 2·0.5   + 0 + 1       = 2   → f = σ(2)
    // a_g = 2·1 + 0·0.5   + (−1.5) + 0  = 0.5 → g = tanh 0.5
    // a_o = −1·1 + 1·0.5  + 0 + 0.5     = 0   → o = ½
    const p: LstmParams = {
      weightIh: Float64Array.of(1, 0, 2, -1),
      weightHh: Float64Array.of(0.5, 2, 0, 1),
      biasIh: Float64Array.of(-0.25, 0, -1.5, 0),
      biasHh: Float64Array.of(0, 1, 0, 0.5),
    };
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const c = s(2) * 2 + s(1) * Math.tanh(0.5);
    const out = lstmForward(p, Float64Array.of(1), 1, 1, 1, 1, Float64Array.of(0.5), Float64Array.of(2));
    expect(out.cN[0]).toBeCloseTo(c, 15);
    expect(out.y[0]).toBeCloseTo(0.5 * Math.tanh(c), 15);
    expect(out.hN[0]).toBe(out.y[0]);
  });

  it('starts from zeros without h0 and c0; T = 0 returns the initial state', () => {
    const rng = new Rng(5);
    const [T, N, C, H] = [3, 2, 4, 3];
    const p = randomLstmParams(rng, C, H, W_BOUND, B_BOUND);
    const x = randomNormal(rng, T * N * C);
    const a = lstmForward(p, x, T, N, C, H);
    const b = lstmForward(p, x, T, N, C, H, new Float64Array(N * H), new Float64Array(N * H));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(Array.from(a.cN)).toEqual(Array.from(b.cN));
    const h0 = randomNormal(rng, N * H);
    const c0 = randomNormal(rng, N * H);
    const e = lstmForward(p, new Float64Array(0), 0, N, C, H, h0, c0);
    expect(Array.from(e.hN)).toEqual(Array.from(h0));
    expect(Array.from(e.cN)).toEqual(Array.from(c0));
  });

  const cases = [
    { T: 1, N: 1, C: 1, H: 1, seed: 1, h0: false, c0: false, dy: true, dhN: false, dcN: false },
    { T: 1, N: 2, C: 7, H: 5, seed: 2, h0: true, c0: true, dy: true, dhN: true, dcN: true },
    { T: 4, N: 1, C: 7, H: 5, seed: 3, h0: true, c0: false, dy: true, dhN: false, dcN: true },
    { T: 5, N: 3, C: 3, H: 4, seed: 4, h0: false, c0: true, dy: true, dhN: true, dcN: false },
    { T: 3, N: 2, C: 2, H: 6, seed: 5, h0: true, c0: true, dy: false, dhN: true, dcN: true },
    { T: 3, N: 2, C: 3, H: 3, seed: 6, h0: true, c0: true, dy: false, dhN: false, dcN: true },
  ];

  it.each(cases)(
    'backward matches finite differences (T=$T N=$N C=$C H=$H h0=$h0 c0=$c0 dy=$dy dhN=$dhN dcN=$dcN)',
    ({ T, N, C, H, seed, ...has }) => {
      const rng = new Rng(seed);
      const p = randomLstmParams(rng, C, H, W_BOUND, B_BOUND);
      const x = randomNormal(rng, T * N * C);
      const h0 = has.h0 ? randomNormal(rng, N * H) : null;
      const c0 = has.c0 ? randomNormal(rng, N * H) : null;
      const dy = has.dy ? randomNormal(rng, T * N * H) : null;
      const dhN = has.dhN ? randomNormal(rng, N * H) : null;
      const dcN = has.dcN ? randomNormal(rng, N * H) : null;
      // perturbed in place for dh0 / dc0 even when "no h0 / c0" (a null state is zeros)
      const hBuf = h0 ?? new Float64Array(N * H);
      const cBuf = c0 ?? new Float64Array(N * H);
      // L = Σ y ⊙ dy + Σ h_T ⊙ dhN + Σ c_T ⊙ dcN, so the analytic backward gets exactly (dy, dhN, dcN).
      const loss = (): number => {
        const o = lstmForward(p, x, T, N, C, H, hBuf, cBuf);
        return (dy ? dot(o.y, dy) : 0) + (dhN ? dot(o.hN, dhN) : 0) + (dcN ? dot(o.cN, dcN) : 0);
      };
      const fwd = lstmForward(p, x, T, N, C, H, h0, c0);
      const g = lstmBackward(p, x, fwd, T, N, C, H, dy, dhN, dcN);
      assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
      assertAllClose(g.dh0, numericalGradient(loss, hBuf), FD_TOL, 'dh0');
      assertAllClose(g.dc0, numericalGradient(loss, cBuf), FD_TOL, 'dc0');
      assertAllClose(g.dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, 'dWeightIh');
      assertAllClose(g.dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, 'dWeightHh');
      assertAllClose(g.dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, 'dBiasIh');
      assertAllClose(g.dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, 'dBiasHh');
    },
  );
});

describe('oracle stacked LSTM (2 layers)', () => {
  const [T, N, C, H] = [4, 2, 3, 5];

  it('feeds layer 0 output into layer 1 and reports both final states', () => {
    const rng = new Rng(21);
    const layers = [randomLstmParams(rng, C, H, W_BOUND, B_BOUND), randomLstmParams(rng, H, H, W_BOUND, B_BOUND)];
    const x = randomNormal(rng, T * N * C);
    const h0 = randomNormal(rng, 2 * N * H);
    const c0 = randomNormal(rng, 2 * N * H);
    const out = stackedLstmForward(layers, x, T, N, C, H, h0, c0);
    const l0 = lstmForward(layers[0], x, T, N, C, H, h0.subarray(0, N * H), c0.subarray(0, N * H));
    const l1 = lstmForward(layers[1], l0.y, T, N, H, H, h0.subarray(N * H), c0.subarray(N * H));
    expect(Array.from(out.y)).toEqual(Array.from(l1.y));
    expect(Array.from(out.hN)).toEqual([...l0.hN, ...l1.hN]);
    expect(Array.from(out.cN)).toEqual([...l0.cN, ...l1.cN]);
  });

  it.each([
    { seed: 22, dy: true, dhN: true, dcN: true },
    { seed: 23, dy: true, dhN: false, dcN: false },
    { seed: 24, dy: false, dhN: true, dcN: true },
  ])('backward matches finite differences (seed $seed, dy $dy, dhN $dhN, dcN $dcN)', ({ seed, ...has }) => {
    const rng = new Rng(seed);
    const layers = [randomLstmParams(rng, C, H, W_BOUND, B_BOUND), randomLstmParams(rng, H, H, W_BOUND, B_BOUND)];
    const x = randomNormal(rng, T * N * C);
    const h0 = randomNormal(rng, 2 * N * H);
    const c0 = randomNormal(rng, 2 * N * H);
    const dy = has.dy ? randomNormal(rng, T * N * H) : null;
    const dhN = has.dhN ? randomNormal(rng, 2 * N * H) : null;
    const dcN = has.dcN ? randomNormal(rng, 2 * N * H) : null;
    const loss = (): number => {
      const o = stackedLstmForward(layers, x, T, N, C, H, h0, c0);
      return (dy ? dot(o.y, dy) : 0) + (dhN ? dot(o.hN, dhN) : 0) + (dcN ? dot(o.cN, dcN) : 0);
    };
    const g = stackedLstmBackward(layers, stackedLstmForward(layers, x, T, N, C, H, h0, c0), T, N, C, H, dy, dhN, dcN);
    assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
    assertAllClose(g.dh0, numericalGradient(loss, h0), FD_TOL, 'dh0');
    assertAllClose(g.dc0, numericalGradient(loss, c0), FD_TOL, 'dc0');
    layers.forEach((p, l) => {
      assertAllClose(g.layers[l].dWeightIh, numericalGradient(loss, p.weightIh), FD_TOL, `l${l} dWeightIh`);
      assertAllClose(g.layers[l].dWeightHh, numericalGradient(loss, p.weightHh), FD_TOL, `l${l} dWeightHh`);
      assertAllClose(g.layers[l].dBiasIh, numericalGradient(loss, p.biasIh), FD_TOL, `l${l} dBiasIh`);
      assertAllClose(g.layers[l].dBiasHh, numericalGradient(loss, p.biasHh), FD_TOL, `l${l} dBiasHh`);
    });
  });
});

// The oracle against PyTorch's nn.LSTM (independent numbers, see test/fixtures/make_lstm_reference.py).
// Both sides are float64 from the same float32-exact inputs, so they agree to rounding: 1e-10 is
// ~10⁵ ulps of headroom and still catches any formula or layout mistake by many orders.
describe('oracle LSTM vs PyTorch nn.LSTM (2 layers, fixture)', () => {
  const TOL = 1e-10;
  const ref = loadTorchLstmReference();
  const { T, N, C, H, layers: L } = ref.dims;
  // loaded by state_dict name
  const byName = Object.fromEntries(Object.entries(ref.stateDict).map(([k, v]) => [k, v.data]));
  const layers = lstmLayersFromStateDict(byName, L);

  it('has the fixture shapes (2 layers, 4 gate blocks) and loads the same layers either way', () => {
    expect(L).toBe(2);
    expect(ref.stateDict.weight_ih_l0.shape).toEqual([4 * H, C]);
    expect(ref.stateDict.weight_hh_l1.shape).toEqual([4 * H, H]);
    layers.forEach((p, l) => expect(p).toEqual(torchLstmLayer(ref, l)));
  });

  it('forward: y, h_n, c_n and the loss', () => {
    const out = stackedLstmForward(layers, ref.x.data, T, N, C, H, ref.h0.data, ref.c0.data);
    assertAllClose(out.y, ref.y.data, TOL, 'y');
    assertAllClose(out.hN, ref.hn.data, TOL, 'hn');
    assertAllClose(out.cN, ref.cn.data, TOL, 'cn');
    const loss = dot(out.y, ref.dy.data) + dot(out.hN, ref.dhn.data) + dot(out.cN, ref.dcn.data);
    expect(Math.abs(loss - ref.loss)).toBeLessThan(TOL * (1 + Math.abs(ref.loss)));
  });

  it('backward: dx, dh0, dc0 and every parameter gradient by state_dict name', () => {
    const fwd = stackedLstmForward(layers, ref.x.data, T, N, C, H, ref.h0.data, ref.c0.data);
    const g = stackedLstmBackward(layers, fwd, T, N, C, H, ref.dy.data, ref.dhn.data, ref.dcn.data);
    assertAllClose(g.dx, ref.grad.x.data, TOL, 'grad x');
    assertAllClose(g.dh0, ref.grad.h0.data, TOL, 'grad h0');
    assertAllClose(g.dc0, ref.grad.c0.data, TOL, 'grad c0');
    const named = stackedLstmGradientsByName(g);
    const paramNames = Object.keys(ref.stateDict);
    expect(Object.keys(named).sort()).toEqual([...paramNames].sort());
    for (const name of paramNames) assertAllClose(named[name], ref.grad[name].data, TOL, name);
  });
});
