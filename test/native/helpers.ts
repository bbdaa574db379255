// Shared helpers for the native binding tests: seeded random arrays and valid argument sets that
// individual tests then break one field at a time.
import type { GruBackwardArgs, GruForwardArgs, LinearArgs, LinearBackwardArgs } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';

export function randomF32(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * scale;
  return a;
}

export function linearArgs(rng: Rng, M = 3, I = 4, O = 5): LinearArgs {
  return { x: randomF32(rng, M * I), weight: randomF32(rng, O * I), bias: randomF32(rng, O), M, I, O };
}

export function linearBackwardArgs(rng: Rng, M = 3, I = 4, O = 5): LinearBackwardArgs {
  return { ...linearArgs(rng, M, I, O), dy: randomF32(rng, M * O), needDx: true };
}

export function gruForwardArgs(rng: Rng, T = 3, N = 2, C = 4, H = 5, training = true): GruForwardArgs {
  const s = 1 / Math.sqrt(H);
  return {
    x: randomF32(rng, T * N * C),
    h0: randomF32(rng, N * H),
    weightIh: randomF32(rng, 3 * H * C, s),
    weightHh: randomF32(rng, 3 * H * H, s),
    biasIh: randomF32(rng, 3 * H, s),
    biasHh: randomF32(rng, 3 * H, s),
    T, N, C, H, training,
  };
}

/** Forward then the matching backward arguments (y and cache from a real forward pass). */
export function gruBackwardArgs(
  rng: Rng,
  forward: (a: GruForwardArgs) => { y: Float32Array; cache: Float32Array },
  T = 3, N = 2, C = 4, H = 5,
): GruBackwardArgs {
  const f = gruForwardArgs(rng, T, N, C, H, true);
  const { y, cache } = forward(f);
  return { ...f, y, cache, dy: randomF32(rng, T * N * H), dhT: randomF32(rng, N * H), needDx: true };
}

/** Bitwise equality of two float arrays (NaN equal to NaN), reporting the first difference. */
export function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}
