// Runs a block of tests once per GEMM kernel compiled into the addon (OpenBLAS and/or builtin).
import { afterAll, beforeAll } from 'vitest';
import { native, type GemmKernelName } from '../../src/native/addon.js';
import type { Rng } from '../../src/util/rng.js';

/** The kernels this build has; loading the addon here makes a missing build fail the file loudly. */
export function compiledGemmKernels(): GemmKernelName[] {
  return native().info().gemmKernels;
}

/** Selects `kernel` for the enclosing describe block and restores the previous one after it. */
export function useGemmKernel(kernel: GemmKernelName): void {
  let previous: GemmKernelName | undefined;
  beforeAll(() => {
    previous = native().info().gemm;
    native().setGemmKernel(kernel);
  });
  afterAll(() => {
    if (previous) native().setGemmKernel(previous);
  });
}

// ---- Delta networks (DeltaGRU, DeltaLSTM): inputs whose threshold decisions cannot flip ----
// A native float32 run and the float64 oracle agree on every "|Δ| >= Θ" decision when every delta
// lies at least a margin away from Θ: native Δ = v − v̂ differs from the oracle's by the rounding of
// v and v̂ (|h| < 1), far below the margin. Where they agree the outputs differ only by rounding.

/**
 * x [T, N·C] built step by step against its own memory x̂ (as the layer keeps it): each entry either
 * stays within Θ − margin of x̂ (a zero delta) or moves at least Θ + margin away (passed on). Every
 * value is float32-exact, so the native Δx = x − x̂ is the oracle's up to one rounding.
 */
export function deltaInputs(rng: Rng, T: number, row: number, theta: number, margin: number, hold = 0.4): Float64Array {
  const x = new Float64Array(T * row);
  const hat = new Float64Array(row);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < row; i++) {
      let v: number;
      do {
        v = rng.uniform() < hold ? Math.fround(hat[i] + (2 * rng.uniform() - 1) * theta) : Math.fround(rng.normal());
      } while (Math.abs(Math.abs(v - hat[i]) - theta) < margin);
      if (Math.abs(v - hat[i]) >= theta) hat[i] = v;
      x[t * row + i] = v;
    }
  }
  return x;
}

/**
 * The deltas of a run, |v_t − v̂_{t−1}| for every (t, i), from the values each step saw (v_t: x_t,
 * or h_{t−1}) and the memories after each step's update (v̂_{−1} = 0).
 */
export function deltaMagnitudes(values: ArrayLike<number>, hats: ArrayLike<number>, T: number, row: number): Float64Array {
  const out = new Float64Array(T * row);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < row; i++) out[t * row + i] = Math.abs(values[t * row + i] - (t > 0 ? hats[(t - 1) * row + i] : 0));
  }
  return out;
}

/** min over the deltas of ||Δ| − Θ| (Infinity for Θ = 0: every delta is kept, no decision can flip). */
export function thresholdMargin(deltas: ArrayLike<number>, theta: number): number {
  if (theta === 0) return Infinity;
  let m = Infinity;
  for (let i = 0; i < deltas.length; i++) m = Math.min(m, Math.abs(deltas[i] - theta));
  return m;
}

/**
 * Θ moved to the middle of the gap between the deltas that contains it: no decision changes (no
 * delta lies between the old and the new Θ), so the run is the same and its margin is half the gap.
 */
export function centredTheta(deltas: ArrayLike<number>, theta: number): { theta: number; margin: number } {
  let below = 0;
  let above = Infinity;
  for (let i = 0; i < deltas.length; i++) {
    const d = deltas[i];
    if (d < theta) below = Math.max(below, d);
    else above = Math.min(above, d);
  }
  if (above === Infinity) return { theta, margin: theta - below };
  return { theta: (below + above) / 2, margin: (above - below) / 2 };
}
