// Native softmax cross-entropy against the oracle. It uses no GEMM, so it runs once.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { softmaxCrossEntropy } from '../oracle/cross-entropy.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { F32_SOFTMAX } from './tolerances.js';

const cases = [
  { N: 1, K: 2, scale: 1 },
  { N: 7, K: 10, scale: 3 },
  { N: 64, K: 10, scale: 2 },
  { N: 3, K: 100, scale: 5 },
  // exp(±100) overflows float32: only a max-shifted log-sum-exp survives this
  { N: 5, K: 4, scale: 100 },
];

describe('native softmaxCrossEntropy vs oracle', () => {
  for (const [ci, c] of cases.entries()) {
    for (const seed of [1, 2]) {
      it(`N=${c.N} K=${c.K} logit scale ${c.scale} seed=${seed}`, () => {
        const rng = new Rng(seed, ci);
        const logits = randomNormal(rng, c.N * c.K, c.scale);
        const labels = Int32Array.from({ length: c.N }, () => rng.int(c.K));
        const ref = softmaxCrossEntropy(logits, labels, c.N, c.K);
        const got = native().softmaxCrossEntropy(toF32(logits), labels, c.N, c.K);
        assertAllClose([got.loss], [ref.loss], F32_SOFTMAX, 'loss');
        assertAllClose(got.dlogits, ref.dlogits, F32_SOFTMAX, 'dlogits');
        expect(got.correct).toBe(ref.correct);
      });
    }
  }
});
