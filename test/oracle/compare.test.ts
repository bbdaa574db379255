// The closeness rule itself (test/oracle/compare.ts): relative to each tensor's scale at every
// size, with a floor that only matters for an all-zero reference.
import { describe, expect, it } from 'vitest';
import { SCALE_FLOOR, assertAllClose, assertRelClose, closeness } from './compare.js';

describe('assertAllClose: tol · max(max|ref|, 2^-24)', () => {
  it('judges a 1×1 case relative to its own value: a 100% error fails however small the value', () => {
    // the former bound tol·(1 + max|ref|) ≈ 1e-4 let this pass
    expect(() => assertAllClose([2e-4], [1e-4], 1e-4, 'one')).toThrow(/one: max abs error 1\.000e-4/);
    expect(() => assertAllClose([6e-5 * 1.01], [6e-5], 1e-4, 'one')).toThrow(/one/);
    assertAllClose([6e-5 * (1 + 5e-5)], [6e-5], 1e-4, 'one');
  });

  it('uses the largest reference magnitude as the scale of every element', () => {
    // an element that cancels to ~0 carries the absolute error of its large neighbours
    assertAllClose([1, 1e-5 + 5e-5], [1, 1e-5], 1e-4, 'mixed');
    expect(() => assertAllClose([1, 1e-5 + 2e-4], [1, 1e-5], 1e-4, 'mixed')).toThrow(/at index 1/);
  });

  it('an all-zero reference is judged against the floor only', () => {
    expect(SCALE_FLOOR).toBe(2 ** -24);
    assertAllClose([0, -0], [0, 0], 1e-4, 'zero');
    assertAllClose([5e-12], [0], 1e-4, 'zero'); // <= 1e-4 · 2^-24 ≈ 6e-12
    expect(() => assertAllClose([1e-10], [0], 1e-4, 'zero')).toThrow(/zero: .*floor 2\^-24/);
    expect(closeness([0], [0], 1e-4).bound).toBe(1e-4 * 2 ** -24);
    expect(closeness([0], [3], 1e-4).bound).toBeCloseTo(3e-4, 15);
  });

  it('infinite or NaN actual values fail', () => {
    expect(() => assertAllClose([Infinity], [1], 1, 'inf')).toThrow(/inf/);
    expect(() => assertAllClose([NaN], [0], 1, 'nan')).toThrow(/nan/);
  });
});

describe('assertRelClose: rtol · max|ref|, no floor', () => {
  it('holds quantities far below the floor to their own scale', () => {
    assertRelClose([1e-21 * (1 + 1e-7)], [1e-21], 1e-6, 'v');
    expect(() => assertRelClose([1.1e-21], [1e-21], 1e-6, 'v')).toThrow(/v: max abs error/);
    expect(() => assertRelClose([1e-30], [0], 1e-6, 'v')).toThrow(/v/);
  });
});
