// The checker itself: it must agree with a gradient known in closed form, and it must catch a
// small mistake (otherwise the oracle's gradient checks could not fail).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { FD_TOL, numericalGradient } from './grad-check.js';
import { randomNormal } from './random.js';

// f(p) = Σ_i sin(p_i)·p_{i+1} + p_0³ ; ∂f/∂p_i = cos(p_i)·p_{i+1} + sin(p_{i−1}) (+ 3p_0² for i = 0)
function f(p: Float64Array): number {
  let s = p[0] ** 3;
  for (let i = 0; i + 1 < p.length; i++) s += Math.sin(p[i]) * p[i + 1];
  return s;
}
function fGrad(p: Float64Array): Float64Array {
  const g = new Float64Array(p.length);
  g[0] = 3 * p[0] ** 2;
  for (let i = 0; i < p.length; i++) {
    if (i + 1 < p.length) g[i] += Math.cos(p[i]) * p[i + 1];
    if (i > 0) g[i] += Math.sin(p[i - 1]);
  }
  return g;
}

describe('finite-difference checker', () => {
  it('matches a closed-form gradient', () => {
    const p = randomNormal(new Rng(1), 9);
    const numeric = numericalGradient(() => f(p), p);
    assertAllClose(numeric, fGrad(p), FD_TOL, 'closed form');
  });

  it('leaves the parameters as they were', () => {
    const p = randomNormal(new Rng(2), 5);
    const before = Float64Array.from(p);
    numericalGradient(() => f(p), p);
    expect(Array.from(p)).toEqual(Array.from(before));
  });

  it('flags a gradient that is wrong by 1e-4 in one entry', () => {
    const p = randomNormal(new Rng(3), 9);
    const wrong = fGrad(p);
    wrong[4] += 1e-4;
    const numeric = numericalGradient(() => f(p), p);
    expect(() => assertAllClose(numeric, wrong, FD_TOL, 'perturbed')).toThrow(/perturbed: max abs error/);
  });

  it('treats NaN as a failure', () => {
    expect(() => assertAllClose([NaN], [0], 1, 'nan')).toThrow(/nan/);
  });
});
