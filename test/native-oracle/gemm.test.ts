// The dense GEMM kernels directly against a float64 product, for every kernel compiled in.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { matmul } from '../oracle/matmul.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

const kernels = compiledGemmKernels();

describe('GEMM kernels', () => {
  it('at least one kernel is compiled in and the current one is among them', () => {
    const info = native().info();
    expect(info.gemmKernels.length).toBeGreaterThan(0);
    expect(info.gemmKernels).toContain(info.gemm);
  });

  it.each(kernels)('setGemmKernel(%s) selects it', (kernel) => {
    const previous = native().info().gemm;
    native().setGemmKernel(kernel);
    expect(native().info().gemm).toBe(kernel);
    native().setGemmKernel(previous);
  });
});

const shapes = [
  { M: 1, N: 1, K: 1 },
  { M: 5, N: 7, K: 3 },
  { M: 17, N: 33, K: 65 },
  { M: 130, N: 9, K: 129 },
  { M: 64, N: 64, K: 64 },
];
const transposes = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

describe.each(kernels)('native gemm (%s) vs float64 product', (kernel) => {
  useGemmKernel(kernel);
  let seed = 100;
  for (const s of shapes) {
    for (const t of transposes) {
      const caseSeed = seed++;
      it(`M=${s.M} N=${s.N} K=${s.K} transA=${t.transA} transB=${t.transB}`, () => {
        const rng = new Rng(caseSeed);
        const A = randomNormal(rng, s.M * s.K);
        const B = randomNormal(rng, s.K * s.N);
        const C = randomNormal(rng, s.M * s.N);
        // alpha/beta not 1/0, so a kernel that ignores either is caught
        const alpha = 0.75;
        const beta = -0.5;
        const expected = matmul(t.transA, t.transB, s.M, s.N, s.K, alpha, A, B, beta, C);
        const got = native().gemm(t.transA, t.transB, s.M, s.N, s.K, alpha, toF32(A), toF32(B), beta, toF32(C));
        assertAllClose(got, expected, F32_GEMM, 'C');
        const noC = native().gemm(t.transA, t.transB, s.M, s.N, s.K, alpha, toF32(A), toF32(B), 0, null);
        assertAllClose(noC, matmul(t.transA, t.transB, s.M, s.N, s.K, alpha, A, B, 0, null), F32_GEMM, 'C (null)');
      });
    }
  }
});
