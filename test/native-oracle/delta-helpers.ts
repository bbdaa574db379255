// What the native DeltaGRU and DeltaLSTM tests against their float64 oracles (delta-gru.test.ts,
// delta-lstm.test.ts) share: the cases (inputs a margin from the thresholds, kernels.ts), the Θh
// search, the native arguments, the shapes and chunkings, and the comparisons whose meaning does
// not depend on the gates. Each family's file keeps what differs (its gates, cN and dcN).
import { expect } from 'vitest';
import type { F32, Saved } from '../../src/native/addon.js';
import type { Tensor } from '../../src/layers/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import type { DeltaGradients } from '../oracle/delta-common.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { firstDifference, plus, presetGradient } from '../native/helpers.js';
import { centredTheta, deltaInputs, deltaMagnitudes, thresholdMargin } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

// The y check allows F32_GEMM · max|y| ≤ F32_GEMM (|h| < 1), so a native Δh = h − ĥ within that
// of the oracle's on both terms stays on the oracle's side of Θh when the margin is twice it.
const DECISION_MARGIN = 2 * F32_GEMM;
export const THETA_X = 0.3;
const X_MARGIN = 0.01; // Δx is built, so its margin can be generous

export interface Dims { T: number; N: number; C: number; H: number }

/** GruParams and LstmParams alike (PyTorch names). */
export interface TorchParams {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array;
  biasHh: Float64Array;
}

export interface DeltaCase<P extends TorchParams> {
  params: P;
  x: Float64Array;
  dy: Float64Array;
  dhN: Float64Array;
  dims: Dims;
  thetaX: number;
  thetaH: number;
}

/**
 * A case of seed `seed`: parameters of PyTorch's scale (weights ±2/√H, biases ±1/√H), then x (Δx a
 * margin from Θx when Θx > 0), dy and dhN from the same rng, which is returned for a family's
 * further draws (the LSTM's dcN). Θh 'search': the Θh that leaves every |Δh| of `forward`'s run
 * widest apart from it (searchThetaH).
 */
export function deltaCase<P extends TorchParams>(
  seed: number, dims: Dims, thetaX: number, thetaH: number | 'search',
  randomParams: (rng: Rng, C: number, H: number, weightBound: number, biasBound: number) => P,
  forward: (p: P, x: Float64Array, d: Dims, o: { thetaX: number; thetaH: number }) => { y: Float64Array; tape: { hHat: Float64Array } },
): { c: DeltaCase<P>; rng: Rng } {
  const { T, N, C, H } = dims;
  const rng = new Rng(seed);
  const k = 1 / Math.sqrt(H);
  const params = randomParams(rng, C, H, 2 * k, k);
  const x = thetaX > 0 ? deltaInputs(rng, T, N * C, thetaX, X_MARGIN) : randomNormal(rng, T * N * C);
  const dy = randomNormal(rng, T * N * H);
  const dhN = randomNormal(rng, N * H);
  const search = () => searchThetaH((candidate) => {
    const f = forward(params, x, dims, { thetaX, thetaH: candidate });
    return hiddenDeltas(f.y, f.tape.hHat, dims);
  });
  return { c: { params, x, dy, dhN, dims, thetaX, thetaH: thetaH === 'search' ? search() : thetaH }, rng };
}

/** |Δh| of a run: h_{t−1} (y shifted by a step, h_{−1} = 0) against ĥ after each step. */
function hiddenDeltas(y: Float64Array, hHat: Float64Array, d: Dims): Float64Array {
  const NH = d.N * d.H;
  const hPrev = new Float64Array(d.T * NH);
  hPrev.set(y.subarray(0, (d.T - 1) * NH), NH);
  return deltaMagnitudes(hPrev, hHat, d.T, NH);
}

/**
 * The Θh near which a run's |Δh| leave the widest gap, centred in it (the run stays the same);
 * `deltasAt(Θh)` runs the oracle and returns its |Δh|.
 */
function searchThetaH(deltasAt: (thetaH: number) => Float64Array): number {
  let best = { theta: 0, margin: -1 };
  for (let i = 0; i < 30 && best.margin < 2 * DECISION_MARGIN; i++) {
    const candidate = 0.03 + 0.01 * i;
    const c = centredTheta(deltasAt(candidate), candidate);
    if (c.margin > best.margin) best = c;
  }
  expect(best.margin, 'a Θh with every |Δh| a margin away').toBeGreaterThanOrEqual(DECISION_MARGIN);
  return best.theta;
}

/** The oracle run's deltas all lie a margin from the thresholds (else native and oracle may decide differently). */
export function expectDecisionMargins(x: Float64Array, run: { y: Float64Array; tape: { xHat: Float64Array; hHat: Float64Array } }, d: Dims, thetaX: number, thetaH: number): void {
  expect(thresholdMargin(deltaMagnitudes(x, run.tape.xHat, d.T, d.N * d.C), thetaX), 'Δx margin').toBeGreaterThanOrEqual(DECISION_MARGIN);
  expect(thresholdMargin(hiddenDeltas(run.y, run.tape.hHat, d), thetaH), 'Δh margin').toBeGreaterThanOrEqual(DECISION_MARGIN);
}

/** dy with dhN added into its last step: h_{T−1} is y's last step, as the native backward takes dhN. */
export function withLastStateGradient(dy: Float64Array, dhN: Float64Array, d: Dims): Float64Array {
  const out = dy.slice();
  for (let i = 0; i < d.N * d.H; i++) out[(d.T - 1) * d.N * d.H + i] += dhN[i];
  return out;
}

/** A case's native forward arguments (DeltaGruForwardArgs and DeltaLstmForwardArgs alike). */
export function deltaForwardArgs(
  c: { params: TorchParams; x: Float64Array; dims: Dims; thetaX: number; thetaH: number }, training: boolean, chunkFloats = 0,
) {
  return {
    weightIh: toF32(c.params.weightIh), weightHh: toF32(c.params.weightHh), biasIh: toF32(c.params.biasIh), biasHh: toF32(c.params.biasHh),
    x: toF32(c.x), ...c.dims, training, chunkFloats, thetaX: c.thetaX, thetaH: c.thetaH,
  };
}

/** The native backward arguments both families take (the LSTM adds dcN); `grads` are the buffers it adds into. */
export function deltaBackwardArgs<G>(
  c: { dy: Float64Array; dhN: Float64Array; dims: Dims }, f: { weightIh: F32; weightHh: F32; biasIh: F32; biasHh: F32; chunkFloats: number },
  saved: Saved, grads: G, needDx: boolean,
) {
  return {
    weightIh: f.weightIh, weightHh: f.weightHh, biasIh: f.biasIh, biasHh: f.biasHh, ...c.dims, chunkFloats: f.chunkFloats,
    saved, dy: toF32(c.dy), dhN: toF32(c.dhN), ...grads, needDx,
  };
}

export const PARAM_GRADS = ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const;
/** The parameters' gradients: a native call's buffers (float32 arrays here) or an oracle's. */
type ParamGrads = Record<(typeof PARAM_GRADS)[number], F32 | ArrayLike<number>>;

/** The parameters' gradients within F32_GEMM of the reference's. */
export function expectParamGrads(b: ParamGrads, ref: ParamGrads, what = ''): void {
  for (const k of PARAM_GRADS) assertAllClose(b[k] as Float32Array, ref[k] as Float32Array, F32_GEMM, `${k}${what}`);
}

/** The parameters' gradients bitwise equal (float32 buffers). */
export function expectSameParamGrads(a: ParamGrads, b: ParamGrads): void {
  for (const k of PARAM_GRADS) expect(firstDifference(a[k] as Float32Array, b[k] as Float32Array), k).toBeNull();
}

interface Counts { dxZeros: number; dxTotal: number; dhZeros: number; dhTotal: number; zeroBoth: number; macs: number; macsDense: number }

/** The same decisions as the oracle's: the counts are exact. */
export function expectSameCounts(native: Counts, ref: Counts): void {
  for (const k of ['dxZeros', 'dxTotal', 'dhZeros', 'dhTotal', 'macs', 'macsDense'] as const) expect(native[k], k).toBe(ref[k]);
  expect(native.zeroBoth).toBeCloseTo(ref.zeroBoth, 12);
}

/**
 * The native backward against the oracle's: dx and the parameters' gradients. The backward runs
 * the dense products or the event-driven ones (whichever costs fewer), so it never reports more
 * multiply-accumulates than the dense backward's.
 */
export function expectBackward(g: { dx: Float32Array | null; stats: { macs: number; macsDense: number } }, b: ParamGrads, ref: DeltaGradients): void {
  assertAllClose(g.dx!, ref.dx, F32_GEMM, 'dx');
  expectParamGrads(b, ref);
  expect(g.stats.macsDense).toBeGreaterThan(0);
  expect(g.stats.macs).toBeLessThanOrEqual(g.stats.macsDense);
}

/** The thresholds zero some deltas and pass others (a case neither all-dense nor all-zero). */
export function expectSomeZeros(stats: Counts): void {
  for (const k of ['dx', 'dh'] as const) {
    expect(stats[`${k}Zeros`], k).toBeGreaterThan(0.1 * stats[`${k}Total`]);
    expect(stats[`${k}Zeros`], k).toBeLessThan(0.9 * stats[`${k}Total`]);
  }
}

/** Every array of a run bitwise equal in the other (1 thread against 2). */
export function expectBitwiseSame(one: Record<string, Float32Array>, two: Record<string, Float32Array>): void {
  for (const k of Object.keys(two)) expect(firstDifference(one[k], two[k]), k).toBeNull();
}

/**
 * Gradient buffers are added into: with preset R in b's buffers, `backward()` leaves R + gradient,
 * then R + 2·gradient; dx is written, not added (the same both times, the oracle's).
 */
export function expectAccumulates(seed: number, b: ParamGrads, ref: DeltaGradients, backward: () => { dx: Float32Array | null }): void {
  const rng = new Rng(seed, 1);
  const presets = PARAM_GRADS.map((k) => {
    const p = presetGradient(rng, ref[k]);
    b[k] = p.buffer;
    return p.preset;
  });
  const first = backward();
  PARAM_GRADS.forEach((k, i) => assertAllClose(b[k] as Float32Array, plus(presets[i], ref[k]), F32_GEMM, `R + ${k}`));
  const second = backward();
  PARAM_GRADS.forEach((k, i) => assertAllClose(b[k] as Float32Array, plus(presets[i], ref[k], 2), F32_GEMM, `R + 2 ${k}`));
  expect(firstDifference(second.dx!, first.dx!)).toBeNull();
  assertAllClose(second.dx!, ref.dx, F32_GEMM, 'dx');
}

export const SHAPES: Dims[] = [
  { T: 1, N: 1, C: 1, H: 1 },
  { T: 5, N: 1, C: 7, H: 5 },
  { T: 6, N: 4, C: 3, H: 8 },
  { T: 12, N: 3, C: 7, H: 20 },
  { T: 9, N: 4, C: 16, H: 33 },
  { T: 5, N: 3, C: 70, H: 13 }, // C > 4H > 3H: the backward's per-step buffers are sized by C
];

export type Chunking = 'default' | 'step' | 'pair';
export const VARIANTS: { thetaX: number; thetaH: number | 'search'; chunk: Chunking }[] = [
  { thetaX: THETA_X, thetaH: 'search', chunk: 'default' },
  { thetaX: THETA_X, thetaH: 'search', chunk: 'step' },
  { thetaX: THETA_X, thetaH: 'search', chunk: 'pair' },
  { thetaX: 0, thetaH: 'search', chunk: 'pair' },
  { thetaX: THETA_X, thetaH: 0, chunk: 'step' },
];

/** 'step': the budget of exactly one step's [N, max(G, C)] buffer (G = 3H or 4H gate rows); 'pair': two steps per chunk. */
export function chunkFloats(chunk: Chunking, d: Dims, gates: number): number {
  const step = d.N * Math.max(gates * d.H, d.C);
  return chunk === 'step' ? step : chunk === 'pair' ? 2 * step + 1 : 0;
}

// N·H = 4503 per step: above the pointwise grain (4096), so 2 threads split at flat index 2251 =
// row 1, column 750 (mid-row); N·G splits the event products. chunkFloats 64: one step per chunk.
export const SPLIT: Dims = { T: 3, N: 3, C: 5, H: 1501 };

export const tensorOf = (data: Float32Array, shape: number[]): Tensor => ({ data, shape });

/** The layer tests' input [7, 2, C] and output gradient [7, 2, H]. */
export function layerData(seed: number, C: number, H: number): { x: Tensor; dOut: Tensor } {
  const rng = new Rng(seed);
  const x = tensorOf(toF32(randomNormal(rng, 7 * 2 * C)), [7, 2, C]);
  const dOut = tensorOf(toF32(randomNormal(rng, 7 * 2 * H)), [7, 2, H]);
  return { x, dOut };
}
