// Optimizer steps and gradient clipping against values worked out by hand from the PyTorch
// formulas (arithmetic in the comments), for the float64 oracle and for the native engine.
// Every case: p0 = [1, −2], gradients g1 = [0.5, 0.25], g2 = [−1, 2], g3 = [0.5, 0.25].
import { describe, expect, it } from 'vitest';
import { native, type AdamOptions, type SgdOptions } from '../../src/native/addon.js';
import { adamStep } from '../oracle/adam.js';
import { clipGlobalNorm } from '../oracle/clip.js';
import { assertAllClose, assertRelClose } from '../oracle/compare.js';
import { sgdStep } from '../oracle/sgd.js';
import { F32_ELEMENTWISE } from '../native-oracle/tolerances.js';

const P0 = [1, -2];
const G = [
  [0.5, 0.25],
  [-1, 2],
  [0.5, 0.25],
];
// Hand values below carry ≥ 12 significant digits; float64 reproduces them to ~1e-16.
const ORACLE_TOL = 1e-11;

interface SgdCase {
  name: string;
  o: Omit<SgdOptions, 'firstStep'>;
  /** expected parameter after each step */
  expected: number[][];
}

const sgdCases: SgdCase[] = [
  {
    // p ← p − 0.1 g
    // 1: [1 − 0.05, −2 − 0.025] = [0.95, −2.025]
    // 2: [0.95 + 0.1, −2.025 − 0.2] = [1.05, −2.225]
    // 3: [1.05 − 0.05, −2.225 − 0.025] = [1.0, −2.25]
    name: 'plain, lr 0.1',
    o: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    expected: [[0.95, -2.025], [1.05, -2.225], [1.0, -2.25]],
  },
  {
    // d = g + 0.1 p
    // 1: d = [0.5 + 0.1, 0.25 − 0.2] = [0.6, 0.05];      p = [1 − 0.06, −2 − 0.005] = [0.94, −2.005]
    // 2: d = [−1 + 0.094, 2 − 0.2005] = [−0.906, 1.7995]; p = [0.94 + 0.0906, −2.005 − 0.17995] = [1.0306, −2.18495]
    name: 'weight decay 0.1, lr 0.1',
    o: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
    expected: [[0.94, -2.005], [1.0306, -2.18495]],
  },
  {
    // buf1 = g1 (PyTorch's first step copies the gradient); later buf = 0.9 buf + g; p ← p − 0.1 buf
    // 1: buf = [0.5, 0.25];                                   p = [0.95, −2.025]
    // 2: buf = [0.45 − 1, 0.225 + 2] = [−0.55, 2.225];        p = [0.95 + 0.055, −2.025 − 0.2225] = [1.005, −2.2475]
    // 3: buf = [−0.495 + 0.5, 2.0025 + 0.25] = [0.005, 2.2525]; p = [1.005 − 0.0005, −2.2475 − 0.22525] = [1.0045, −2.47275]
    name: 'momentum 0.9',
    o: { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
    expected: [[0.95, -2.025], [1.005, -2.2475], [1.0045, -2.47275]],
  },
  {
    // buf1 = g1 (no dampening on the first step); later buf = 0.9 buf + 0.5 g
    // 1: buf = [0.5, 0.25];                                       p = [0.95, −2.025]
    // 2: buf = [0.45 − 0.5, 0.225 + 1] = [−0.05, 1.225];          p = [0.95 + 0.005, −2.025 − 0.1225] = [0.955, −2.1475]
    // 3: buf = [−0.045 + 0.25, 1.1025 + 0.125] = [0.205, 1.2275]; p = [0.955 − 0.0205, −2.1475 − 0.12275] = [0.9345, −2.27025]
    name: 'momentum 0.9, dampening 0.5',
    o: { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0, nesterov: false },
    expected: [[0.95, -2.025], [0.955, -2.1475], [0.9345, -2.27025]],
  },
  {
    // d = g + 0.1 p; buf = d first, then 0.9 buf + d; nesterov step d + 0.9 buf
    // 1: d = [0.6, 0.05]; buf = [0.6, 0.05]; step = [0.6 + 0.54, 0.05 + 0.045] = [1.14, 0.095]
    //    p = [1 − 0.114, −2 − 0.0095] = [0.886, −2.0095]
    // 2: d = [−1 + 0.0886, 2 − 0.20095] = [−0.9114, 1.79905]
    //    buf = [0.54 − 0.9114, 0.045 + 1.79905] = [−0.3714, 1.84405]
    //    step = [−0.9114 − 0.33426, 1.79905 + 1.659645] = [−1.24566, 3.458695]
    //    p = [0.886 + 0.124566, −2.0095 − 0.3458695] = [1.010566, −2.3553695]
    name: 'nesterov momentum 0.9, weight decay 0.1',
    o: { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.1, nesterov: true },
    expected: [[0.886, -2.0095], [1.010566, -2.3553695]],
  },
];

interface AdamCase {
  name: string;
  o: Omit<AdamOptions, 'step'>;
  expected: number[][];
}

const adamCases: AdamCase[] = [
  {
    // lr 0.1, β = (0.9, 0.999), eps 1e-8. Bias corrections: step 1 bc1 = 0.1, bc2 = 0.001;
    // step 2 bc1 = 1 − 0.81 = 0.19, bc2 = 1 − 0.998001 = 0.001999.
    // 1: m = [0.05, 0.025], v = [0.00025, 0.0000625]; m/bc1 = [0.5, 0.25], √(v/bc2) = [0.5, 0.25]
    //    p = [1 − 0.1·0.5/(0.5 + 1e-8), −2 − 0.1·0.25/(0.25 + 1e-8)] = [0.900000002, −2.099999996]
    // 2: m = [0.045 − 0.1, 0.0225 + 0.2] = [−0.055, 0.2225]
    //    v = [0.00024975 + 0.001, 0.0000624375 + 0.004] = [0.00124975, 0.0040624375]
    //    m/bc1 = [−0.289473684, 1.171052632]; √(v/bc2) = [√0.625187594, √2.032234867] = [0.790688051, 1.425564401]
    //    p = [0.900000002 + 0.1·0.366103522, −2.099999996 − 0.1·0.821465753] = [0.936610354241, −2.182146571257]
    name: 'Adam',
    o: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
    expected: [[0.90000000199999996, -2.099999996000000160], [0.936610354240566, -2.182146571257106]],
  },
  {
    // L2: g ← g + 0.1 p
    // 1: g = [0.6, 0.05]; m = [0.06, 0.005]; v = [0.00036, 0.0000025]; m/bc1 = √(v/bc2) = [0.6, 0.05]
    //    p = [1 − 0.1·0.6/(0.6 + 1e-8), −2 − 0.1·0.05/(0.05 + 1e-8)] = [0.9000000016667, −2.09999998]
    // 2: g = [−1 + 0.09000000016667, 2 − 0.209999998] = [−0.90999999983333, 1.790000002]
    //    m = [0.054 − 0.090999999983, 0.0045 + 0.1790000002] = [−0.036999999983, 0.1835000002]
    //    v = [0.00035964 + 0.00082809999970, 0.0000024975 + 0.00320410000716] = [0.00118773999970, 0.00320659750716]
    //    m/bc1 = [−0.194736842017, 0.965789474737]; √(v/bc2) = [√0.594167083390, √1.604100804] = [0.770822342, 1.266530933]
    //    p = [0.9000000016667 + 0.1·0.252634822, −2.09999998 − 0.1·0.762547034] = [0.925263519446, −2.176254683444]
    name: 'Adam with L2 weight decay 0.1',
    o: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false },
    expected: [[0.900000001666666639, -2.09999998000000400], [0.925263519445606, -2.176254683443814]],
  },
  {
    // AdamW: p ← p·(1 − 0.1·0.1) = 0.99 p first; the moments see the raw gradient (as in Adam)
    // 1: p = [0.99, −1.98] − 0.1·[1 − 2e-8, 1 − 4e-8] = [0.890000002, −2.079999996]
    // 2: p = 0.99·[0.890000002, −2.079999996] = [0.88110000198, −2.05919999604]
    //    update as in Adam step 2: −0.1·[−0.366103522, 0.821465753]
    //    p = [0.88110000198 + 0.0366103522, −2.05919999604 − 0.0821465753] = [0.917710354221, −2.141346571297]
    name: 'AdamW, decoupled weight decay 0.1',
    o: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true },
    expected: [[0.89000000199999996, -2.079999996000000160], [0.917710354220566, -2.141346571297106]],
  },
];

describe('SGD against hand-computed steps', () => {
  describe.each(sgdCases)('$name', ({ o, expected }) => {
    it('oracle', () => {
      const p = Float64Array.from(P0);
      const buf = o.momentum !== 0 ? new Float64Array(2) : null;
      expected.forEach((want, s) => {
        sgdStep(p, Float64Array.from(G[s]), buf, { ...o, firstStep: s === 0 });
        assertAllClose(p, want, ORACLE_TOL, `step ${s + 1}`);
      });
    });
    it('native', () => {
      const p = Float32Array.from(P0);
      const buf = o.momentum !== 0 ? new Float32Array(2) : null;
      expected.forEach((want, s) => {
        native().sgdStep(p, Float32Array.from(G[s]), buf, { ...o, firstStep: s === 0 });
        assertAllClose(p, want, F32_ELEMENTWISE, `step ${s + 1}`);
      });
    });
  });

  it('native: a null momentum buffer with momentum ≠ 0 is an error naming the buffer', () => {
    const o = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true };
    expect(() => native().sgdStep(new Float32Array(2), new Float32Array(2), null, o)).toThrow(/momentum/i);
  });
});

describe('Adam / AdamW against hand-computed steps', () => {
  describe.each(adamCases)('$name', ({ o, expected }) => {
    it('oracle', () => {
      const p = Float64Array.from(P0);
      const m = new Float64Array(2);
      const v = new Float64Array(2);
      expected.forEach((want, s) => {
        adamStep(p, Float64Array.from(G[s]), m, v, { ...o, step: s + 1 });
        assertAllClose(p, want, ORACLE_TOL, `step ${s + 1}`);
      });
    });
    it('native', () => {
      const p = Float32Array.from(P0);
      const m = new Float32Array(2);
      const v = new Float32Array(2);
      expected.forEach((want, s) => {
        native().adamStep(p, Float32Array.from(G[s]), m, v, { ...o, step: s + 1 });
        assertAllClose(p, want, F32_ELEMENTWISE, `step ${s + 1}`);
      });
    });
  });
});

// Gradients far below eps, where eps sets the step: with |g| = 1e-9 and eps = 1e-8 the first
// Adam step is lr·g/(|g| + eps) = lr/11 per element instead of lr (no eps), and lr·g/(|g| + eps/√bc2)
// ≈ lr/317 with eps inside the bias correction (√v + eps)/√bc2. The usual O(1) gradients cannot
// tell these apart: eps is then 1e-8 of the denominator.
const TINY_G = [
  [1e-9, -3e-9],
  [2e-9, 1e-9],
];
const tinyCases: AdamCase[] = [
  {
    // lr 0.1, β = (0.9, 0.999), eps 1e-8; bc1 = 0.1, 0.19; bc2 = 0.001, 0.001999
    // 1: m = [1e-10, −3e-10], v = [1e-21, 9e-21]; m/bc1 = [1e-9, −3e-9], √(v/bc2) = [1e-9, 3e-9]
    //    update = 0.1·[1e-9/1.1e-8, −3e-9/1.3e-8] = [0.1/11, −0.3/13] = [0.00909090909091, −0.0230769230769]
    //    p = [0.990909090909091, −1.976923076923077]      (without eps: [0.9, −1.9])
    // 2: m = [0.9e-10 + 2e-10, −2.7e-10 + 1e-10] = [2.9e-10, −1.7e-10]
    //    v = [0.999e-21 + 4e-21, 8.991e-21 + 1e-21] = [4.999e-21, 9.991e-21]
    //    m/bc1 = [1.526315789e-9, −8.947368421e-10]; √(v/bc2) = [1.581376102e-9, 2.235620495e-9]
    //    update = 0.1·[1.526315789/11.58137610, −0.8947368421/12.23562050] = [0.0131790538194, −0.0073125579732]
    //    p = [0.977730037089718, −1.969610518949896]      (without eps: [0.803481797, −1.859978143])
    name: 'Adam, |g| ~ 1e-9 < eps = 1e-8',
    o: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
    expected: [[0.990909090909091, -1.976923076923077], [0.977730037089718, -1.969610518949896]],
  },
  {
    // AdamW, weight decay 0.1: p ← 0.99·p, then the same updates as above
    // 1: p = [0.99 − 0.00909090909091, −1.98 + 0.0230769230769] = [0.980909090909091, −1.956923076923077]
    // 2: p = [0.9711 − 0.0131790538194, −1.937353846153846 + 0.0073125579732] = [0.957920946180627, −1.930041288180665]
    name: 'AdamW, |g| ~ 1e-9 < eps = 1e-8',
    o: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true },
    expected: [[0.980909090909091, -1.956923076923077], [0.957920946180627, -1.930041288180665]],
  },
];

describe('Adam / AdamW with gradients below eps, against hand-computed steps', () => {
  describe.each(tinyCases)('$name', ({ o, expected }) => {
    it('oracle', () => {
      const p = Float64Array.from(P0);
      const m = new Float64Array(2);
      const v = new Float64Array(2);
      expected.forEach((want, s) => {
        adamStep(p, Float64Array.from(TINY_G[s]), m, v, { ...o, step: s + 1 });
        assertAllClose(p, want, ORACLE_TOL, `step ${s + 1}`);
      });
    });
    it('native', () => {
      const p = Float32Array.from(P0);
      const m = new Float32Array(2);
      const v = new Float32Array(2);
      expected.forEach((want, s) => {
        native().adamStep(p, Float32Array.from(TINY_G[s]), m, v, { ...o, step: s + 1 });
        assertAllClose(p, want, F32_ELEMENTWISE, `step ${s + 1}`);
      });
    });
  });

  it('native matches the oracle over 5 steps of random gradients of 1e-10..1e-8, for eps 1e-8 and 1e-6', () => {
    const n = 64;
    // p starts at 0, so p is the displacement itself and its float32 rounding is relative to it;
    // L2 decay is off (wd·p would swamp such gradients), decoupled decay on.
    for (const [eps, weightDecay, decoupled] of [[1e-8, 0, false], [1e-6, 0.1, true]] as const) {
      const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps, weightDecay, decoupled };
      let seed = 12345;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const [p64, m64, v64] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
      const [p32, m32, v32] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      for (let step = 1; step <= 5; step++) {
        // magnitudes spread over 1e-10..1e-8, both signs; the oracle gets the same float32 values
        const g32 = Float32Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1) * 10 ** (-10 + 2 * rand()));
        adamStep(p64, Float64Array.from(g32), m64, v64, { ...o, step });
        native().adamStep(p32, g32, m32, v32, { ...o, step });
        assertAllClose(p32, p64, F32_ELEMENTWISE, `eps ${eps}: param after step ${step}`);
        assertRelClose(m32, m64, F32_ELEMENTWISE, `eps ${eps}: m after step ${step}`);
        assertRelClose(v32, v64, F32_ELEMENTWISE, `eps ${eps}: v after step ${step}`);
      }
    }
  });
});

describe('global-norm clipping against hand-computed values', () => {
  // grads [3, 4] and [12]: norm = √(9 + 16 + 144) = √169 = 13
  // max 6.5: coef = 6.5 / (13 + 1e-6) = 0.49999996153846450 < 1, so
  //   [3, 4, 12]·coef = [1.4999998846153935, 1.9999998461538580, 5.9999995384615740]
  // max 20: coef = 20 / 13.000001 > 1, nothing changes
  const clipped = [1.4999998846153935, 1.999999846153858, 5.999999538461574];

  it('oracle: above the maximum scales, below leaves alone; both return 13', () => {
    const g = [Float64Array.of(3, 4), Float64Array.of(12)];
    expect(clipGlobalNorm(g, 6.5)).toBe(13);
    assertAllClose([...g[0], ...g[1]], clipped, ORACLE_TOL, 'clipped');
    const h = [Float64Array.of(3, 4), Float64Array.of(12)];
    expect(clipGlobalNorm(h, 20)).toBe(13);
    expect([...h[0], ...h[1]]).toEqual([3, 4, 12]);
  });

  it('native: above the maximum scales, below leaves alone; both return 13', () => {
    const g = [Float32Array.of(3, 4), Float32Array.of(12)];
    expect(native().globalNorm(g)).toBe(13);
    expect(native().clipGlobalNorm(g, 6.5)).toBe(13);
    assertAllClose([...g[0], ...g[1]], clipped, F32_ELEMENTWISE, 'clipped');
    const h = [Float32Array.of(3, 4), Float32Array.of(12)];
    expect(native().clipGlobalNorm(h, 20)).toBe(13);
    expect([...h[0], ...h[1]]).toEqual([3, 4, 12]);
  });
});
