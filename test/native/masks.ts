// The keep-masks the engine should draw, rebuilt here from the Philox primitives (whose
// known-answer tests are in philox.test.ts) and the documented derivation in
// native/include/evnn/masks.h — not from the engine's mask code: the stream seed is the first two
// words of one Philox block of (epoch, batch, layer, purpose) under the run's seed, and element i
// is kept where uniform number i of that stream is >= p.
import { native } from '../../src/native/addon.js';

export const PURPOSE = { zoneout: 1, dropconnect: 2, dropout: 3, word: 4 } as const;

export function expectedKeep(
  key: { seed: number; epoch: number; batch: number; layer: number }, purpose: number, p: number, n: number,
): Uint8Array {
  const seedWords = new Uint32Array([key.seed >>> 0, Math.floor(key.seed / 2 ** 32) >>> 0]);
  const block = native().philoxBlock(new Uint32Array([key.epoch, key.batch, key.layer, purpose]), seedWords);
  const stream = BigInt(block[0]) | (BigInt(block[1]) << 32n);
  const u = new Float32Array(n);
  native().philoxUniform(u, stream, 0n);
  return Uint8Array.from(u, (v) => (v >= p ? 1 : 0));
}
