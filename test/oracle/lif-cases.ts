// Random cases for the LIF oracle and the native-vs-oracle tests: binary spike inputs (as dense
// float64 and as the compact SpikeEvents the layers read) and the search for a case whose spike and
// band decisions are stable (see minDecisionDistance in lif.ts).
import type { SpikeEvents } from '../../src/layers/tensor.js';
import type { Rng } from '../../src/util/rng.js';

/** n values, each 1 with probability `density`, else 0. */
export function randomSpikes(rng: Rng, n: number, density: number): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.uniform() < density ? 1 : 0));
}

/** The events of a dense 0/1 [B,T,C] array (row b·T+t, channels ascending). */
export function denseToEvents(x: ArrayLike<number>, B: number, T: number, C: number): SpikeEvents {
  const offsets = new Int32Array(B * T + 1);
  const index: number[] = [];
  for (let r = 0; r < B * T; r++) {
    for (let c = 0; c < C; c++) {
      const v = x[r * C + c];
      if (v !== 0 && v !== 1) throw new RangeError(`denseToEvents: x[${r * C + c}] = ${v} is not 0 or 1`);
      if (v === 1) index.push(c);
    }
    offsets[r + 1] = index.length;
  }
  return { B, T, C, offsets, index: Int32Array.from(index) };
}

/**
 * The first seed from `seed0` whose case passes `ok` (a fixed order, so tests are deterministic);
 * throws after `tries` seeds so that a too strict condition is noticed rather than looped on.
 */
export function findCase<C>(seed0: number, make: (seed: number) => C, ok: (c: C) => boolean, tries = 500): C {
  for (let s = seed0; s < seed0 + tries; s++) {
    const c = make(s);
    if (ok(c)) return c;
  }
  throw new Error(`findCase: no case from seed ${seed0} passed in ${tries} tries`);
}
