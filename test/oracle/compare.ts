// Closeness checks shared by the oracle and native-vs-oracle tests. One rule everywhere:
//
//   max_i |actual_i − expected_i| <= tol · max(scale, floor),   scale = max_i |expected_i|
//
// The tolerance is relative to each tensor's own scale, whatever its size: a 1×1 tensor is judged
// like any other, so an error of 100% of a small value fails (the old bound tol·(1 + scale) turned
// absolute below scale ≈ 1 and let 1×1 gradients of ~5e-5 pass with a 193% error).
// The scale is the largest reference magnitude, not each element's own: float32 errors in a sum
// are proportional to the size of the terms summed, so an element that cancels to ~0 carries the
// absolute error of its large neighbours and an element-wise relative test would be meaningless.
//
// The floor, SCALE_FLOOR = 2⁻²⁴ ≈ 6e-8 (float32's unit roundoff), is there only for references
// that are exactly zero (a gradient that is structurally 0, e.g. dW_hh of a one-step sequence
// from h0 = 0): scale 0 would otherwise demand bit-exact zeros. It is in the units of the tests'
// inputs, which are all of order one, and is below every non-zero tensor scale in the suite
// (the smallest is ~5e-5), so it never loosens a check on a non-zero tensor: at tol = 1e-4 a
// zero reference admits |actual| <= 6e-12. A quantity whose natural size is far below that
// (Adam's second moment with tiny gradients, ~1e-21) is checked with assertRelClose, which has
// no floor.

/** Floor of the tensor scale in assertAllClose/closeness (see the header). */
export const SCALE_FLOOR = 2 ** -24;

export interface Closeness {
  maxAbsErr: number;
  /** where the largest error sits */
  index: number;
  maxAbsRef: number;
  /** tol · max(maxAbsRef, floor) */
  bound: number;
}

/** Largest error and the bound tol · max(max|expected|, floor) of the rule above. */
export function closeness(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  floor: number = SCALE_FLOOR,
): Closeness {
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
  return { maxAbsErr, index, maxAbsRef, bound: tol * Math.max(maxAbsRef, floor) };
}

function fail(label: string, c: Closeness, actual: ArrayLike<number>, expected: ArrayLike<number>, rule: string): never {
  throw new Error(
    `${label}: max abs error ${c.maxAbsErr.toExponential(3)} at index ${c.index} ` +
      `(actual ${actual[c.index]}, expected ${expected[c.index]}) exceeds ${rule} = ${c.bound.toExponential(3)}`,
  );
}

/** Throws a descriptive error when `actual` is not within tol · max(max|expected|, 2⁻²⁴) of `expected`. */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  const c = closeness(actual, expected, tol);
  if (!(c.maxAbsErr <= c.bound)) {
    const scale = c.maxAbsRef >= SCALE_FLOOR ? `max|ref| = ${c.maxAbsRef.toPrecision(4)}` : `floor 2^-24 (max|ref| = ${c.maxAbsRef.toPrecision(4)})`;
    fail(label, c, actual, expected, `${tol} * ${scale}`);
  }
}

/**
 * The same rule without the floor, for quantities whose natural size is far below the inputs'
 * (e.g. Adam's second moment, ~1e-3, or ~1e-21 with gradients of 1e-9):
 * max_i |actual_i − expected_i| <= rtol · max_i |expected_i| (an all-zero reference must match exactly).
 */
export function assertRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, label: string): void {
  const c = closeness(actual, expected, rtol, 0);
  if (!(c.maxAbsErr <= c.bound)) {
    fail(label, c, actual, expected, `${rtol} * max|ref| (${c.maxAbsRef.toPrecision(4)})`);
  }
}
