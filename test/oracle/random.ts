// Random test data. Every value is rounded to float32 first, so the native engine (float32) and
// the oracle (float64) start from bit-identical inputs and any difference is the engine's arithmetic.
import { Rng } from '../../src/util/rng.js';
import type { GruParams } from './gru.js';

/** n normal values times `scale`, each exactly representable in float32. */
export function randomNormal(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rng.normal() * scale);
  return out;
}

/** n uniform values in [-bound, bound), each exactly representable in float32. */
export function randomUniform(rng: Rng, n: number, bound: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround((2 * rng.uniform() - 1) * bound);
  return out;
}

export function toF32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

export function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** GRU parameters (PyTorch layout) drawn uniformly: weights in ±weightBound, biases in ±biasBound. */
export function randomGruParams(rng: Rng, C: number, H: number, weightBound: number, biasBound: number): GruParams {
  return {
    weightIh: randomUniform(rng, 3 * H * C, weightBound),
    weightHh: randomUniform(rng, 3 * H * H, weightBound),
    biasIh: randomUniform(rng, 3 * H, biasBound),
    biasHh: randomUniform(rng, 3 * H, biasBound),
  };
}
