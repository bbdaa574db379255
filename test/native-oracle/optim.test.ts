// Native optimizer steps and gradient norms against the oracle over several steps of random
// vectors. Element-wise, no GEMM, so they run once. (Hand-computed values: test/train/optim.test.ts.)
import { describe, expect, it } from 'vitest';
import { native, type AdamOptions, type SgdOptions } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose, assertRelClose } from '../oracle/compare.js';
import { adamStep } from '../oracle/adam.js';
import { clipGlobalNorm, globalNorm } from '../oracle/clip.js';
import { sgdStep } from '../oracle/sgd.js';
import { randomNormal, toF32, toF64 } from '../oracle/random.js';
import { F32_ELEMENTWISE, NORM_REL } from './tolerances.js';

const STEPS = 4;
const SIZE = 37;

const sgdSettings: Omit<SgdOptions, 'firstStep'>[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 1e-3, nesterov: false },
  { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.05, nesterov: true },
];

describe('native sgdStep vs oracle', () => {
  it.each(sgdSettings)('lr=$lr momentum=$momentum dampening=$dampening wd=$weightDecay nesterov=$nesterov', (s) => {
    const rng = new Rng(31, Math.round(s.momentum * 10), s.nesterov ? 1 : 0);
    const p64 = randomNormal(rng, SIZE);
    const p32 = toF32(p64);
    const buf64 = s.momentum !== 0 ? new Float64Array(SIZE) : null;
    const buf32 = s.momentum !== 0 ? new Float32Array(SIZE) : null;
    for (let step = 1; step <= STEPS; step++) {
      const g = randomNormal(rng, SIZE);
      const o = { ...s, firstStep: step === 1 };
      sgdStep(p64, g, buf64, o);
      native().sgdStep(p32, toF32(g), buf32, o);
      assertAllClose(p32, p64, F32_ELEMENTWISE, `param after step ${step}`);
      if (buf64 && buf32) assertAllClose(buf32, buf64, F32_ELEMENTWISE, `momentum buffer after step ${step}`);
    }
  });
});

const adamSettings: Omit<AdamOptions, 'step'>[] = [
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
  { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false },
  { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: true },
  { lr: 3e-3, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01, decoupled: true },
];

describe('native adamStep vs oracle', () => {
  it.each(adamSettings)('lr=$lr betas=($beta1, $beta2) eps=$eps wd=$weightDecay decoupled=$decoupled', (s) => {
    const rng = new Rng(41, s.decoupled ? 1 : 0, Math.round(s.weightDecay * 1000));
    const p64 = randomNormal(rng, SIZE);
    const p32 = toF32(p64);
    const m64 = new Float64Array(SIZE);
    const v64 = new Float64Array(SIZE);
    const m32 = new Float32Array(SIZE);
    const v32 = new Float32Array(SIZE);
    for (let step = 1; step <= STEPS; step++) {
      const g = randomNormal(rng, SIZE);
      adamStep(p64, g, m64, v64, { ...s, step });
      native().adamStep(p32, toF32(g), m32, v32, { ...s, step });
      assertAllClose(p32, p64, F32_ELEMENTWISE, `param after step ${step}`);
      // the moments are far from 1 in size (v ~ (1 − β2)·g²), so compare them relatively
      assertRelClose(m32, m64, F32_ELEMENTWISE, `m after step ${step}`);
      assertRelClose(v32, v64, F32_ELEMENTWISE, `v after step ${step}`);
    }
  });
});

describe('native globalNorm / clipGlobalNorm vs oracle', () => {
  function grads(seed: number): Float64Array[] {
    const rng = new Rng(seed);
    return [randomNormal(rng, 100), randomNormal(rng, 1), randomNormal(rng, 1000, 0.01), new Float64Array(0)];
  }

  it('globalNorm over several arrays (including an empty one)', () => {
    const g = grads(51);
    const got = native().globalNorm(g.map(toF32));
    expect(Math.abs(got - globalNorm(g))).toBeLessThanOrEqual(NORM_REL * globalNorm(g));
  });

  it('globalNorm accumulates in float64 (a float32 running sum would lose the small terms)', () => {
    // 1e4 followed by 10⁶ values of 0.1: Σx² = 1e8 + 1e4. In float32 1e8 + 0.01 == 1e8 (ulp 8),
    // so a float32 running sum returns 1e4 exactly, 5e-5 relative off the true √(1e8 + 1e4).
    const big = new Float64Array(1_000_001).fill(Math.fround(0.1));
    big[0] = 1e4;
    const ref = globalNorm([big]);
    const got = native().globalNorm([toF32(big)]);
    expect(Math.abs(got - ref)).toBeLessThanOrEqual(NORM_REL * ref);
  });

  it('clipGlobalNorm scales when the norm is above the maximum', () => {
    const g64 = grads(52);
    const g32 = g64.map(toF32);
    const maxNorm = 0.25 * globalNorm(g64);
    const refNorm = clipGlobalNorm(g64, maxNorm);
    const gotNorm = native().clipGlobalNorm(g32, maxNorm);
    expect(Math.abs(gotNorm - refNorm)).toBeLessThanOrEqual(NORM_REL * refNorm);
    g32.forEach((g, i) => assertAllClose(g, g64[i], F32_ELEMENTWISE, `grad ${i}`));
    expect(globalNorm(g32.map(toF64))).toBeCloseTo(maxNorm, 5);
  });

  it('clipGlobalNorm leaves gradients untouched when the norm is below the maximum', () => {
    const g64 = grads(53);
    const g32 = g64.map(toF32);
    const before = g32.map((g) => Array.from(g));
    const norm = native().clipGlobalNorm(g32, 2 * globalNorm(g64));
    expect(Math.abs(norm - globalNorm(g64))).toBeLessThanOrEqual(NORM_REL * norm);
    g32.forEach((g, i) => expect(Array.from(g)).toEqual(before[i]));
  });
});
