import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { prepareMnist } from '../../src/data/mnist.js';
import { bitReversalPermutation, isPermutation, randomPermutation, resolvePermutation } from '../../src/data/permutations.js';
import type { MnistMeta } from '../../src/data/types.js';
import { tempDir, writeSourceDir } from './fixtures.js';

describe('bit-reversal permutation (EvNN benchmarks/smnist/smnist.py, bitreversal_permutation)', () => {
  it('is a permutation of 0..783', () => {
    expect(isPermutation(bitReversalPermutation(784), 784)).toBe(true);
  });

  it('matches the reference definition at hand-checked positions', () => {
    // EvNN: m = ceil(log2 784) = 10; list the 10-bit reversal of k = 0, 1, ..., 1023 in order and
    // drop results ≥ 784. By hand: rev(0)=0, rev(1)=0b1000000000=512, rev(2)=256, rev(3)=768,
    // rev(4)=128, rev(5)=640, rev(6)=384, rev(7)=896 (dropped), rev(8)=64, rev(9)=576, rev(10)=320,
    // rev(11)=832 (dropped), rev(12)=192, rev(13)=704.
    const p = bitReversalPermutation(784);
    expect(Array.from(p.subarray(0, 12))).toEqual([0, 512, 256, 768, 128, 640, 384, 64, 576, 320, 192, 704]);
    // The tail: rev(1023)=1023, rev(1022)=0b0111111111=511, rev(1021)=767, rev(1020)=255,
    // rev(1019)=0b1101111111 = 895 (dropped), rev(1018)=383, rev(1017)=0b1001111111 = 639.
    expect(Array.from(p.subarray(779))).toEqual([639, 383, 255, 767, 511]);
    // Middle positions, from running a line-by-line NumPy transcription of EvNN's
    // bitreversal_po2 / bitreversal_permutation (np.hstack halving, np.extract(perm < n)).
    expect(p[100]).toBe(260);
    expect(p[400]).toBe(577);
  });

  it('is the plain bit reversal for powers of two and filters otherwise', () => {
    expect(Array.from(bitReversalPermutation(8))).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
    expect(Array.from(bitReversalPermutation(5))).toEqual([0, 4, 2, 1, 3]); // 3-bit order without 6, 5, 7
    expect(Array.from(bitReversalPermutation(1))).toEqual([0]);
  });
});

describe('random permutation', () => {
  it('is a seeded permutation', () => {
    const a = randomPermutation(784, 5);
    expect(isPermutation(a, 784)).toBe(true);
    expect(Array.from(randomPermutation(784, 5))).toEqual(Array.from(a));
    expect(Array.from(randomPermutation(784, 6))).not.toEqual(Array.from(a));
  });
});

describe('resolvePermutation', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dataDir: string;
  const metaFile = (): string => join(dataDir, 'mnist', 'meta.json');
  const meta = (): MnistMeta => JSON.parse(readFileSync(metaFile(), 'utf8')) as MnistMeta;
  beforeEach(async () => {
    tmp = tempDir();
    dataDir = join(tmp.dir, 'datasets');
    writeSourceDir(join(tmp.dir, 'src'));
    await prepareMnist({ dataDir, source: join(tmp.dir, 'src') });
  });
  afterEach(() => tmp.cleanup());

  it('returns null for unpermuted views and records nothing', () => {
    expect(resolvePermutation(dataDir, 'smnist')).toBeNull();
    expect(resolvePermutation(dataDir, 'smnist-rows', { permutation: 'random', seed: 3 })).toBeNull();
    expect(meta().permutations).toEqual({});
  });

  it('records the bit-reversal order in meta.json when first used', () => {
    const p = resolvePermutation(dataDir, 'psmnist');
    expect(Array.from(p!)).toEqual(Array.from(bitReversalPermutation(784)));
    expect(meta().permutations).toEqual({ 'bit-reversal': Array.from(p!) });
    const before = readFileSync(metaFile(), 'utf8');
    expect(Array.from(resolvePermutation(dataDir, 'psmnist', { permutation: 'bit-reversal' })!)).toEqual(Array.from(p!));
    expect(readFileSync(metaFile(), 'utf8')).toBe(before);
  });

  it('records a seeded random order under its seed', () => {
    const p = resolvePermutation(dataDir, 'psmnist', { permutation: 'random', seed: 11 });
    expect(Array.from(p!)).toEqual(Array.from(randomPermutation(784, 11)));
    resolvePermutation(dataDir, 'psmnist');
    expect(Object.keys(meta().permutations).sort()).toEqual(['bit-reversal', 'random-11']);
    expect(meta().permutations['random-11']).toEqual(Array.from(p!));
  });

  it('refuses a recorded order that differs from the computed one', () => {
    resolvePermutation(dataDir, 'psmnist');
    const m = meta();
    const edited = m.permutations['bit-reversal'];
    [edited[0], edited[1]] = [edited[1], edited[0]];
    writeFileSync(metaFile(), JSON.stringify(m));
    expect(() => resolvePermutation(dataDir, 'psmnist')).toThrow(DatasetError);
    expect(() => resolvePermutation(dataDir, 'psmnist')).toThrow('the recorded permutation "bit-reversal" differs from the one computed now');
  });

  it('needs a seed for random and a prepared dataset', () => {
    expect(() => resolvePermutation(dataDir, 'psmnist', { permutation: 'random' })).toThrow('permutation "random" needs an integer seed, got undefined');
    expect(() => resolvePermutation(join(tmp.dir, 'none'), 'psmnist')).toThrow(/MNIST is not prepared/);
  });
});
