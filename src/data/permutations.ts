// Pixel orders for permuted sequential MNIST. The default is the order EvNN's sMNIST benchmark
// uses (benchmarks/smnist/smnist.py, `bitreversal_permutation`): bit-reverse every index of the
// next power of two (1024 for 784 pixels, i.e. 10-bit reversal) in increasing index order, and
// keep only the results that are < n. Sequence position t then reads pixel order[t]
// (EvNN applies it as `x[permutation]`). A seeded random order is the alternative.
import { Rng } from '../util/rng.js';
import { DatasetError } from './errors.js';
import { MNIST_PIXELS } from './idx.js';
import { metaPath, requireMnistMeta, writeMnistMeta } from './mnist-meta.js';
import type { PermutationOptions, SequenceView } from './types.js';
import { checkView } from './views.js';

/** Reverses the lowest `bits` bits of k. */
function reverseBits(k: number, bits: number): number {
  let r = 0;
  for (let b = 0; b < bits; b++) r = (r << 1) | ((k >>> b) & 1);
  return r;
}

/** EvNN's bit-reversal permutation of 0..n-1 (n need not be a power of two). */
export function bitReversalPermutation(n: number): Int32Array {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 30) throw new RangeError(`bitReversalPermutation: n must be an integer in [1, 2^30], got ${n}`);
  let bits = 0;
  while (1 << bits < n) bits++;
  const out = new Int32Array(n);
  let t = 0;
  for (let k = 0; k < 1 << bits; k++) {
    const r = reverseBits(k, bits);
    if (r < n) out[t++] = r;
  }
  return out;
}

/** A seeded uniformly random order of 0..n-1. */
export function randomPermutation(n: number, seed: number): Int32Array {
  return new Rng(seed).permutation(n);
}

/** True when p holds each of 0..n-1 exactly once. */
export function isPermutation(p: ArrayLike<number>, n: number): boolean {
  if (p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = p[i];
    if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

/** The name a permutation is recorded under in meta.json. */
export function permutationKey(opts: PermutationOptions): string {
  const kind = opts.permutation ?? 'bit-reversal';
  if (kind === 'bit-reversal') return 'bit-reversal';
  if (kind === 'random') {
    if (opts.seed === undefined || !Number.isInteger(opts.seed)) {
      throw new RangeError(`permutation "random" needs an integer seed, got ${opts.seed}`);
    }
    return `random-${opts.seed}`;
  }
  throw new RangeError(`unknown permutation "${String(kind)}" (expected bit-reversal or random)`);
}

function computePermutation(opts: PermutationOptions): Int32Array {
  return (opts.permutation ?? 'bit-reversal') === 'random' ? randomPermutation(MNIST_PIXELS, opts.seed as number) : bitReversalPermutation(MNIST_PIXELS);
}

function sameOrder(a: Int32Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The pixel order a view reads (null for the unpermuted views), recorded in the prepared
 * dataset's meta.json the first time it is used. A recorded order that differs from the one
 * computed now is an error: runs using it would not be comparable. */
export function resolvePermutation(dataDir: string, view: SequenceView, opts: PermutationOptions = {}): Int32Array | null {
  checkView(view);
  if (view !== 'psmnist') return null;
  const key = permutationKey(opts);
  const order = computePermutation(opts);
  const meta = requireMnistMeta(dataDir);
  const recorded = meta.permutations[key];
  if (recorded !== undefined) {
    if (!sameOrder(order, recorded)) {
      throw new DatasetError(
        metaPath(dataDir),
        `${metaPath(dataDir)}: the recorded permutation "${key}" differs from the one computed now (edited meta.json or a changed generator); re-prepare with --force`,
      );
    }
    return order;
  }
  writeMnistMeta(dataDir, { ...meta, permutations: { ...meta.permutations, [key]: Array.from(order) } });
  return order;
}
