// Closeness checks shared by the oracle and native-vs-oracle tests. One rule everywhere:
//   max_i |actual_i - expected_i| <= tol * (1 + max_i |expected_i|)
// The scale is the largest reference magnitude, not each element's own: float32 errors in a sum
// are proportional to the size of the terms summed, so an element that cancels to ~0 carries the
// absolute error of its large neighbours and an element-wise relative test would be meaningless.

export interface Closeness {
  maxAbsErr: number;
  /** where the largest error sits */
  index: number;
  maxAbsRef: number;
  bound: number;
}

export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): Closeness {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  let maxAbsErr = 0;
  let index = -1;
  let maxAbsRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (!Number.isFinite(e)) throw new Error(`reference value at ${i} is not finite (${e})`);
    // NaN compares false with everything, so it must be caught explicitly or it would pass.
    const err = Number.isFinite(a) ? Math.abs(a - e) : Infinity;
    if (index < 0 || err > maxAbsErr) {
      maxAbsErr = err;
      index = i;
    }
    maxAbsRef = Math.max(maxAbsRef, Math.abs(e));
  }
  return { maxAbsErr, index, maxAbsRef, bound: tol * (1 + maxAbsRef) };
}

/** Throws a descriptive error when `actual` is not within the bound of `expected`. */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  const c = closeness(actual, expected, tol);
  if (!(c.maxAbsErr <= c.bound)) {
    throw new Error(
      `${label}: max abs error ${c.maxAbsErr.toExponential(3)} at index ${c.index} ` +
        `(actual ${actual[c.index]}, expected ${expected[c.index]}) exceeds ` +
        `${tol} * (1 + max|ref| = ${c.maxAbsRef.toPrecision(4)}) = ${c.bound.toExponential(3)}`,
    );
  }
}

/**
 * Relative variant for quantities whose natural size is far from 1 (e.g. Adam's second moment,
 * ~1e-3): max_i |actual_i − expected_i| <= rtol * max_i |expected_i|.
 */
export function assertRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, label: string): void {
  const c = closeness(actual, expected, 0);
  const bound = rtol * c.maxAbsRef;
  if (!(c.maxAbsErr <= bound)) {
    throw new Error(
      `${label}: max abs error ${c.maxAbsErr.toExponential(3)} at index ${c.index} ` +
        `(actual ${actual[c.index]}, expected ${expected[c.index]}) exceeds ` +
        `${rtol} * max|ref| (${c.maxAbsRef.toPrecision(4)}) = ${bound.toExponential(3)}`,
    );
  }
}
