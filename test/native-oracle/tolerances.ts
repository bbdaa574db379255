// Bounds for native float32 results against the float64 oracle, on the rule of test/oracle/compare.ts:
//   max|native − oracle| <= tol · max(max|oracle|, 2⁻²⁴),
// relative to each tensor's own scale at every size (1×1 included); the floor 2⁻²⁴ only matters
// for a reference that is exactly zero, where it admits |native| <= tol · 6e-8.
// float32's unit roundoff is u = 2⁻²⁴ ≈ 6e-8. These are fixed by reasoning, not by what passes:
// a real defect (wrong gate, missing term, wrong time step, layout slip) is O(1e-2..1) relative.

/** Element-wise updates (SGD, Adam): a handful of roundings per element per step, ≈ 16 u. */
export const F32_ELEMENTWISE = 1e-6;

/** Softmax cross-entropy: exp/log plus sums over ≤ 100 classes (≤ K·u ≈ 6e-6 worst case). */
export const F32_SOFTMAX = 1e-5;

/**
 * GEMM and everything built on it (Linear, GRU forward and BPTT): dot products of length K ≤ 130
 * have worst-case error K·u·Σ|a·b| ≈ 8e-6 of the scale, the recurrence carries it through ≤ 12
 * steps with contracting gates, and weight gradients sum ≤ T·N = 96 per-step products.
 * 1e-4 ≈ 1700 u leaves that headroom.
 */
export const F32_GEMM = 1e-4;

/**
 * globalNorm is specified to accumulate in float64; the only float32 effect allowed is the
 * rounding of the inputs themselves (identical on both sides) and, at most, one rounding of each
 * square. Float32 accumulation over many terms misses this by orders of magnitude.
 */
export const NORM_REL = 1e-7;
