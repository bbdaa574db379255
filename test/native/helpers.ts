// Shared helpers for the native binding tests: seeded random arrays and valid argument sets that
// individual tests then break one field at a time.
//
// Backward passes ADD their parameter gradients into caller-given buffers, so every backward
// argument set here comes with fresh zeroed gradient buffers, and `*Grads` make new ones for a
// second call that must not see the first call's sums.
import {
  native,
  type EgruBackwardArgs, type EgruForwardArgs, type GruBackwardArgs, type GruForwardArgs, type GruForwardResult,
  type LinearArgs, type LinearBackwardArgs, type LstmBackwardArgs, type LstmForwardArgs, type LstmForwardResult,
  type Saved,
} from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';

export function randomF32(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * scale;
  return a;
}

/** The addon's Saved class (exported by the module next to the functions). */
export function savedClass(): abstract new (...a: never[]) => Saved {
  return (native() as unknown as { Saved: abstract new (...a: never[]) => Saved }).Saved;
}

export function linearArgs(rng: Rng, M = 3, I = 4, O = 5): LinearArgs {
  return { x: randomF32(rng, M * I), weight: randomF32(rng, O * I), bias: randomF32(rng, O), M, I, O };
}

export function linearGrads(I: number, O: number, bias = true): Pick<LinearBackwardArgs, 'dWeight' | 'dBias'> {
  return { dWeight: new Float32Array(O * I), dBias: bias ? new Float32Array(O) : null };
}

export function linearBackwardArgs(rng: Rng, M = 3, I = 4, O = 5): LinearBackwardArgs {
  const f = linearArgs(rng, M, I, O);
  return { x: f.x, weight: f.weight, M, I, O, dy: randomF32(rng, M * O), ...linearGrads(I, O), needDx: true };
}

export function gruForwardArgs(rng: Rng, T = 3, N = 2, C = 4, H = 5, training = true, chunkFloats = 0): GruForwardArgs {
  const s = 1 / Math.sqrt(H);
  return {
    x: randomF32(rng, T * N * C),
    h0: randomF32(rng, N * H),
    weightIh: randomF32(rng, 3 * H * C, s),
    weightHh: randomF32(rng, 3 * H * H, s),
    biasIh: randomF32(rng, 3 * H, s),
    biasHh: randomF32(rng, 3 * H, s),
    T, N, C, H, training, chunkFloats,
  };
}

export function gruGrads(C: number, H: number): Pick<GruBackwardArgs, 'dWeightIh' | 'dWeightHh' | 'dBiasIh' | 'dBiasHh'> {
  return {
    dWeightIh: new Float32Array(3 * H * C), dWeightHh: new Float32Array(3 * H * H),
    dBiasIh: new Float32Array(3 * H), dBiasHh: new Float32Array(3 * H),
  };
}

/** A training forward, then the matching backward arguments (its saved handle, fresh gradient buffers). */
export function gruBackwardArgs(
  rng: Rng,
  forward: (a: GruForwardArgs) => GruForwardResult,
  T = 3, N = 2, C = 4, H = 5,
): GruBackwardArgs & { forward: GruForwardArgs; y: Float32Array } {
  const f = gruForwardArgs(rng, T, N, C, H, true);
  const { y, saved } = forward(f);
  if (!saved) throw new Error('gruForward with training: true returned no saved handle');
  const { x: _x, h0: _h0, training: _t, ...rest } = f;
  return {
    ...rest, saved, dy: randomF32(rng, T * N * H), dhT: randomF32(rng, N * H), ...gruGrads(C, H), needDx: true,
    forward: f, y,
  };
}

export function lstmForwardArgs(rng: Rng, T = 3, N = 2, C = 4, H = 5, training = true, chunkFloats = 0): LstmForwardArgs {
  const s = 1 / Math.sqrt(H);
  return {
    x: randomF32(rng, T * N * C),
    h0: randomF32(rng, N * H),
    c0: randomF32(rng, N * H),
    weightIh: randomF32(rng, 4 * H * C, s),
    weightHh: randomF32(rng, 4 * H * H, s),
    biasIh: randomF32(rng, 4 * H, s),
    biasHh: randomF32(rng, 4 * H, s),
    T, N, C, H, training, chunkFloats,
  };
}

export function lstmGrads(C: number, H: number): Pick<LstmBackwardArgs, 'dWeightIh' | 'dWeightHh' | 'dBiasIh' | 'dBiasHh'> {
  return {
    dWeightIh: new Float32Array(4 * H * C), dWeightHh: new Float32Array(4 * H * H),
    dBiasIh: new Float32Array(4 * H), dBiasHh: new Float32Array(4 * H),
  };
}

export function lstmBackwardArgs(
  rng: Rng,
  forward: (a: LstmForwardArgs) => LstmForwardResult,
  T = 3, N = 2, C = 4, H = 5,
): LstmBackwardArgs & { forward: LstmForwardArgs } {
  const f = lstmForwardArgs(rng, T, N, C, H, true);
  const { saved } = forward(f);
  if (!saved) throw new Error('lstmForward with training: true returned no saved handle');
  const { x: _x, h0: _h0, c0: _c0, training: _t, ...rest } = f;
  return {
    ...rest, saved, dy: randomF32(rng, T * N * H), dhN: randomF32(rng, N * H), dcN: randomF32(rng, N * H),
    ...lstmGrads(C, H), needDx: true, forward: f,
  };
}

export function egruForwardArgs(rng: Rng, T = 3, N = 2, C = 4, H = 5, training = true): EgruForwardArgs {
  return {
    x: randomF32(rng, T * N * C), y0: null, zoneoutMask: null, dropconnectMask: null, noise: null,
    kernel: randomF32(rng, C * 3 * H, 0.5), recurrentKernel: randomF32(rng, H * 3 * H, 0.5),
    bias: randomF32(rng, 3 * H, 0.5), recurrentBias: randomF32(rng, 3 * H, 0.5), thr: new Float32Array(H).fill(0.2),
    T, N, C, H, training, zoneout: 0, dropconnect: 0, dampening: 0.7, support: 1, sparseInput: false, chunkFloats: 0,
    keepO: true, keepTrace: true,
  };
}

export function egruGrads(
  C: number, H: number,
): Pick<EgruBackwardArgs, 'dKernel' | 'dRecurrentKernel' | 'dBias' | 'dRecurrentBias' | 'dThr'> {
  return {
    dKernel: new Float32Array(C * 3 * H), dRecurrentKernel: new Float32Array(H * 3 * H),
    dBias: new Float32Array(3 * H), dRecurrentBias: new Float32Array(3 * H), dThr: new Float32Array(H),
  };
}

/** Backward arguments for an EGRU forward's result (upstream dy of ones, nothing else). */
export function egruBackwardArgs(f: EgruForwardArgs, saved: Saved): EgruBackwardArgs {
  const { T, N, C, H } = f;
  return {
    kernel: f.kernel, recurrentKernel: f.recurrentKernel, bias: f.bias, recurrentBias: f.recurrentBias, thr: f.thr,
    T, N, C, H, chunkFloats: f.chunkFloats, saved, below: null, dxActive: null,
    dy: new Float32Array(T * N * H).fill(1), dyN: null, dc: null, do: null, dtrace: null, gradClip: 0,
    ...egruGrads(C, H), needDx: true, needDy0: true,
  };
}

/** Bitwise equality of two float arrays (NaN equal to NaN), reporting the first difference. */
export function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

/** Runs fn with the engine's pool at n threads, then restores the previous count (also on throw). */
export function withThreads<R>(n: number, fn: () => R): R {
  const previous = native().info().threads;
  native().setThreads(n);
  try {
    return fn();
  } finally {
    native().setThreads(previous);
  }
}

/**
 * Preset contents for a gradient buffer that a backward pass adds into: normal values of the
 * reference gradient's own scale (so an error in the added gradient is not hidden under a large
 * preset), each exactly representable in float32. Returns the float64 values and a float32 copy.
 */
export function presetGradient(rng: Rng, ref: ArrayLike<number>): { preset: Float64Array; buffer: Float32Array } {
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  const preset = new Float64Array(ref.length);
  for (let i = 0; i < ref.length; i++) preset[i] = Math.fround(rng.normal() * (scale > 0 ? scale : 1));
  return { preset, buffer: Float32Array.from(preset) };
}

/** a + k·b element-wise, in float64. */
export function plus(a: ArrayLike<number>, b: ArrayLike<number>, k = 1): Float64Array {
  if (a.length !== b.length) throw new Error(`plus: lengths ${a.length} vs ${b.length}`);
  return Float64Array.from(a, (v, i) => v + k * b[i]);
}
