// Central finite differences in float64, to prove the oracle's backward passes right:
//   ∂f/∂p_i ≈ (f(p + h e_i) − f(p − h e_i)) / 2h
// With h = 1e-5 the truncation error is ~h²·|f'''|/6 ≈ 1e-11 and the rounding error
// ~eps·|f|/h ≈ 2e-11·|f|, so for the O(1..100) losses used here a bound of 1e-6·(1 + max|g|) is
// orders above the noise yet far below any real mistake (a wrong term is O(1) relative).
export const FD_STEP = 1e-5;
export const FD_TOL = 1e-6;

/** Numerical gradient of `loss` (which reads `param`) with respect to every entry of `param`. */
export function numericalGradient(loss: () => number, param: Float64Array, h = FD_STEP): Float64Array {
  const grad = new Float64Array(param.length);
  for (let i = 0; i < param.length; i++) {
    const keep = param[i];
    param[i] = keep + h;
    const up = loss();
    param[i] = keep - h;
    const down = loss();
    param[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Σ a ⊙ w: turns any output into a scalar loss whose gradient w.r.t. the output is w. */
export function dot(a: Float64Array, w: Float64Array): number {
  if (a.length !== w.length) throw new Error(`dot: lengths ${a.length} and ${w.length} differ`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * w[i];
  return s;
}
