import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { softmaxCrossEntropy } from './cross-entropy.js';
import { FD_TOL, numericalGradient } from './grad-check.js';
import { randomNormal } from './random.js';

describe('oracle softmax cross-entropy', () => {
  it('computes a hand-worked example', () => {
    // row 0: logits [0, 0], label 0 → loss ln 2, softmax [½, ½], dlogits/N = [(½ − 1)/2, ½/2]
    // row 1: logits [ln 3, 0], label 1 → softmax [¾, ¼], loss −ln ¼ = ln 4, dlogits = [¾/2, (¼ − 1)/2]
    // mean loss = (ln 2 + ln 4)/2 = 1.5 ln 2; arg-max row 0 is index 0 (first of ties) = label, row 1 is 0 ≠ 1
    const out = softmaxCrossEntropy(Float64Array.of(0, 0, Math.log(3), 0), [0, 1], 2, 2);
    expect(out.loss).toBeCloseTo(1.5 * Math.LN2, 14);
    assertAllClose(out.dlogits, [-0.25, 0.25, 0.375, -0.375], 1e-15, 'dlogits');
    expect(out.correct).toBe(1);
  });

  it('stays finite for large logits', () => {
    const out = softmaxCrossEntropy(Float64Array.of(1000, 0, -1000), [1], 1, 3);
    expect(out.loss).toBeCloseTo(1000, 9);
  });

  it.each([
    { N: 1, K: 2, seed: 1 },
    { N: 5, K: 7, seed: 2 },
    { N: 8, K: 10, seed: 3 },
  ])('dlogits match finite differences (N=$N K=$K)', ({ N, K, seed }) => {
    const rng = new Rng(seed);
    const logits = randomNormal(rng, N * K, 3);
    const labels = Array.from({ length: N }, () => rng.int(K));
    const numeric = numericalGradient(() => softmaxCrossEntropy(logits, labels, N, K).loss, logits);
    assertAllClose(softmaxCrossEntropy(logits, labels, N, K).dlogits, numeric, FD_TOL, 'dlogits');
  });

  it('rejects a label outside [0, K)', () => {
    expect(() => softmaxCrossEntropy(new Float64Array(3), [3], 1, 3)).toThrow(/label 3 of row 0/);
  });
});
