// What the DeltaGRU and DeltaLSTM oracle tests (delta-gru.test.ts, delta-lstm.test.ts) share: the
// inputs (x on a grid so that ties |Δx| = Θx are exact), the shapes and finite-difference cases
// both families run, and the checks whose meaning does not depend on the gates.
import { expect } from 'vitest';
import type { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import type { DeltaDims, DeltaGradients, DeltaOptions, DeltaStats, DeltaTape } from './delta-common.js';
import { numericalGradient } from './grad-check.js';

export const W_BOUND = 0.8;
export const B_BOUND = 0.5;

/** x on the grid k/8 in [−1, 1] (ties |Δx| = 0.25 exact), a third of entries repeating the last step's. */
export function gridInput(rng: Rng, d: DeltaDims): Float64Array {
  const x = new Float64Array(d.T * d.N * d.C);
  const row = d.N * d.C;
  for (let i = 0; i < x.length; i++) {
    x[i] = i >= row && rng.uniform() < 0.33 ? x[i - row] : (rng.int(17) - 8) / 8;
  }
  return x;
}

/** The shapes on which Θx = Θh = 0 must give the dense layer. */
export const DENSE_SHAPES: (DeltaDims & { seed: number })[] = [
  { T: 1, N: 1, C: 1, H: 1, seed: 1 },
  { T: 4, N: 1, C: 3, H: 5, seed: 2 },
  { T: 5, N: 3, C: 3, H: 4, seed: 3 },
  { T: 6, N: 2, C: 5, H: 3, seed: 4 },
];

export interface FdCase extends DeltaDims {
  seed: number;
  thetaX: number;
  thetaH: number;
  qw?: boolean;
  bBound?: number;
}

export const FD_TITLE = 'backward matches finite differences with the masks held (T=$T N=$N C=$C H=$H Θx=$thetaX Θh=$thetaH qw=$qw)';

/** Both families' finite-difference cases (a family may add its own). */
export const FD_CASES: FdCase[] = [
  { T: 1, N: 1, C: 2, H: 2, seed: 21, thetaX: 0.25, thetaH: 0.05 },
  { T: 5, N: 2, C: 3, H: 4, seed: 22, thetaX: 0.25, thetaH: 0.1 },
  { T: 6, N: 1, C: 4, H: 3, seed: 23, thetaX: 0.5, thetaH: 0.2 },
  { T: 4, N: 3, C: 2, H: 5, seed: 24, thetaX: 0, thetaH: 0.05 },
  { T: 5, N: 2, C: 3, H: 3, seed: 25, thetaX: 0, thetaH: 0 },
  // qw with biases up to ±0.9: some starts leave Q1.7's range and saturate
  { T: 5, N: 2, C: 3, H: 4, seed: 26, thetaX: 0.25, thetaH: 0.1, qw: true, bBound: 0.9 },
];

/** A base run's decisions and (under qw) bias sums held, so a finite-difference loss differentiates what the backward does. */
export function heldOptions(c: FdCase, base: DeltaTape): DeltaOptions {
  const { thetaX, thetaH, qw } = c;
  return { thetaX, thetaH, qw, masks: { maskX: base.maskX, maskH: base.maskH }, heldBiasSums: base.biasSums };
}

/** The finite-difference gradients of `loss` by x and every parameter (each read by `loss`). */
export function numericalGradients(
  loss: () => number, x: Float64Array, p: { weightIh: Float64Array; weightHh: Float64Array; biasIh: Float64Array; biasHh: Float64Array },
): DeltaGradients {
  return {
    dx: numericalGradient(loss, x),
    dWeightIh: numericalGradient(loss, p.weightIh),
    dWeightHh: numericalGradient(loss, p.weightHh),
    dBiasIh: numericalGradient(loss, p.biasIh),
    dBiasHh: numericalGradient(loss, p.biasHh),
  };
}

/** Every gradient within `tol` of the reference's. */
export function expectGradients(got: DeltaGradients, want: DeltaGradients, tol: number): void {
  for (const k of ['dx', 'dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) assertAllClose(got[k], want[k], tol, k);
}

/** A held input gets no gradient of its own: it reaches the x of the last update. */
export function expectHeldInputsZero(dx: Float64Array, tape: DeltaTape): void {
  for (let i = 0; i < dx.length; i++) if (tape.maskX[i] === 0) expect(dx[i]).toBe(0);
}

/** At Θ = 0 every delta is kept. */
export function expectAllKept(tape: DeltaTape): void {
  expect(Array.from(tape.maskX).every((m) => m === 1)).toBe(true);
  expect(Array.from(tape.maskH).every((m) => m === 1)).toBe(true);
}

/** On the Q3.5 grid, within its range. */
export const onQ35Grid = (v: number): boolean => v * 32 === Math.round(v * 32) && v >= -4 && v <= 3.96875;

/** [T: 2, N: 1, C: 3]: a step of exactly Q3.5(0.1) = 0.09375 in x's first entry, for Θx = 0.1 under qa. */
export const QA_TIE_X = Float64Array.of(0.5, 0, 0, 0.59375, 0, 0);
export const QA_TIE_DIMS: DeltaDims = { T: 2, N: 1, C: 3, H: 4 };

/** Θx = 0.1 is Q3.5 0.09375: a step of exactly 0.09375 is kept (and moves x̂). */
export function expectQaTieKept(tape: DeltaTape): void {
  expect(Array.from(tape.maskX)).toEqual([1, 0, 0, 1, 0, 0]);
  expect(tape.xHat[3]).toBe(0.59375);
}

/**
 * The run of C = H = 1, x = STRICT_X = 0.5, 0.75, 0.875 with Θx = 0.25 and Θh = 10: Δx kept (0.5),
 * kept (the tie 0.25), dropped (0.125), x̂ held at 0.75; Δh at t = 0 is 0 − 0 = 0 (kept only at
 * Θ = 0), later |Δh| < 10: every Δh dropped, ĥ stays 0. `gates` (3 or 4) products per kept delta.
 */
export function expectStrictThreshold(out: { tape: DeltaTape; stats: DeltaStats }, gates: number): void {
  expect(Array.from(out.tape.maskX)).toEqual([1, 1, 0]);
  expect(Array.from(out.tape.xHat)).toEqual([0.5, 0.75, 0.75]);
  expect(Array.from(out.tape.maskH)).toEqual([0, 0, 0]);
  expect(out.stats.dxZeros).toBe(1);
  expect(out.stats.dhZeros).toBe(3);
  expect(out.stats.macs).toBe(2 * gates);
  expect(out.stats.macsDense).toBe(6 * gates);
  expect(out.stats.zeroBoth).toBeCloseTo(4 / 6, 15);
}

export const STRICT_X = Float64Array.of(0.5, 0.75, 0.875);
export const STRICT_DIMS: DeltaDims = { T: 3, N: 1, C: 1, H: 1 };
