// Both GEMM kernels against a float64 triple loop: every transpose combination, shapes that hit
// M/N/K = 1, odd sizes and the builtin kernel's block edges (micro-tile MR × NR = 6 × 16 with
// AVX2, 8 × 32 with AVX-512; KC = 256, MC = 24·MR, NC = 4096; the unpacked path for M <= 2),
// alpha/beta, beta = 0 over NaN garbage; and the builtin kernel's thread-count independence.
import { afterAll, describe, expect, it } from 'vitest';
import { native, type GemmKernelName } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { firstDifference, randomF32 } from './helpers.js';

const addon = native();
const compiled = addon.info().gemmKernels;
const initialKernel = addon.info().gemm;
const initialThreads = addon.info().threads;
afterAll(() => {
  addon.setGemmKernel(initialKernel);
  addon.setThreads(initialThreads);
});

interface Case { tA: boolean; tB: boolean; M: number; N: number; K: number; alpha: number; beta: number }

/** float64 reference and a rigorous float32 error bound per element: (K+2)·2^-23·(|α|Σ|a||b| + |β||c|). */
function reference(c: Case, A: Float32Array, B: Float32Array, C: Float32Array | null) {
  const ref = new Float64Array(c.M * c.N);
  const bound = new Float64Array(c.M * c.N);
  const u = (c.K + 2) * 2 ** -23;
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      let s = 0;
      let sa = 0;
      for (let k = 0; k < c.K; k++) {
        const a = c.tA ? A[k * c.M + i] : A[i * c.K + k];
        const b = c.tB ? B[j * c.K + k] : B[k * c.N + j];
        s += a * b;
        sa += Math.abs(a * b);
      }
      const cij = C && c.beta !== 0 ? C[i * c.N + j] : 0;
      ref[i * c.N + j] = c.alpha * s + c.beta * cij;
      bound[i * c.N + j] = u * (Math.abs(c.alpha) * sa + Math.abs(c.beta * cij)) + 1e-30;
    }
  }
  return { ref, bound };
}

function check(c: Case, seed: number, withC: boolean): void {
  const rng = new Rng(seed);
  const A = randomF32(rng, c.M * c.K);
  const B = randomF32(rng, c.K * c.N);
  const C = withC ? randomF32(rng, c.M * c.N) : null;
  const before = C?.slice();
  const got = addon.gemm(c.tA, c.tB, c.M, c.N, c.K, c.alpha, A, B, c.beta, C);
  if (C && before) expect(firstDifference(C, before), 'gemm wrote into its C argument').toBeNull();
  expect(got).toBeInstanceOf(Float32Array);
  expect(got.length).toBe(c.M * c.N);
  const { ref, bound } = reference(c, A, B, C);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < got.length; i++) {
    const r = Math.abs(got[i] - ref[i]) / bound[i];
    if (!(r <= worst)) {
      worst = r;
      worstAt = i;
    }
  }
  expect(worst, `element ${worstAt}: got ${got[worstAt]}, expected ${ref[worstAt]} ± ${bound[worstAt]}`).toBeLessThanOrEqual(1);
}

const shapes: [number, number, number][] = [
  [1, 1, 1], [1, 17, 1], [1, 1, 300], [7, 1, 5], [1, 40, 33], [2, 3, 4],
  [5, 7, 3], [6, 16, 8], [13, 33, 65], [17, 31, 257], [145, 19, 11], [150, 70, 260],
  [193, 33, 40], [300, 45, 37], [9, 4100, 5],
];
const transposes = [[false, false], [true, false], [false, true], [true, true]] as const;

const kernels: GemmKernelName[] = ['builtin', 'openblas'];
describe.each(kernels)('gemm, %s kernel', (kernel) => {
  const missing = !compiled.includes(kernel);
  const skipNote = missing ? ` (skipped: ${kernel} is not compiled into this build; compiled: ${compiled.join(', ')})` : '';
  let seed = 1;
  for (const [M, N, K] of shapes) {
    for (const [tA, tB] of transposes) {
      const s = seed++;
      it.skipIf(missing)(`M=${M} N=${N} K=${K} tA=${tA} tB=${tB} vs float64${skipNote}`, () => {
        addon.setGemmKernel(kernel);
        check({ tA, tB, M, N, K, alpha: 0.75, beta: -0.5 }, s, true);
        check({ tA, tB, M, N, K, alpha: 1, beta: 0 }, s + 1000, false);
      });
    }
  }

  it.skipIf(missing)(`beta = 0 overwrites NaN and Infinity in C${skipNote}`, () => {
    addon.setGemmKernel(kernel);
    const rng = new Rng(77);
    for (const [M, N, K] of [[1, 1, 1], [13, 33, 65], [150, 70, 260]]) {
      const A = randomF32(rng, M * K);
      const B = randomF32(rng, K * N);
      const C = new Float32Array(M * N).fill(NaN);
      C[0] = Infinity;
      const got = addon.gemm(false, true, M, N, K, 1, A, B, 0, C);
      const clean = addon.gemm(false, true, M, N, K, 1, A, B, 0, null);
      expect(firstDifference(got, clean)).toBeNull();
      expect(got.every(Number.isFinite)).toBe(true);
    }
  });

  it.skipIf(missing)(`alpha = 0 scales C by beta without reading A and B${skipNote}`, () => {
    addon.setGemmKernel(kernel);
    const A = new Float32Array(6).fill(NaN);
    const B = new Float32Array(6).fill(NaN);
    const C = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(addon.gemm(false, false, 2, 2, 3, 0, A, B, 2, C))).toEqual([2, 4, 6, 8]);
    expect(Array.from(addon.gemm(false, false, 2, 2, 3, 0, A, B, 0, C))).toEqual([0, 0, 0, 0]);
    expect(Array.from(C)).toEqual([1, 2, 3, 4]); // the input C is copied, not written
  });
});

describe('builtin gemm does not depend on the thread count', () => {
  const cases: [boolean, boolean, number, number, number][] = [
    [false, true, 64, 1536, 96],   // few rows: columns split over threads
    [false, false, 400, 300, 300], // many rows: row blocks split over threads, two K slices
    [false, false, 140, 20, 300],  // few-rows path on 1 thread, row blocks on 2 and 3
    [true, false, 333, 77, 530],
    [false, true, 7, 4200, 20],    // two column panels
    [true, true, 2, 3000, 100],    // skinny (M <= 2): dot products over columns
    [false, false, 1, 5000, 64],   // skinny: axpy over rows of B
  ];
  it.each(cases)('tA=%s tB=%s M=%i N=%i K=%i: 1, 2 and 3 threads give identical bits', (tA, tB, M, N, K) => {
    addon.setGemmKernel('builtin');
    const rng = new Rng(M * 7 + N);
    const A = randomF32(rng, M * K);
    const B = randomF32(rng, K * N);
    const C = randomF32(rng, M * N);
    const results = [1, 2, 3].map((t) => {
      addon.setThreads(t);
      return addon.gemm(tA, tB, M, N, K, 1.25, A, B, 0.5, C);
    });
    expect(firstDifference(results[0], results[1])).toBeNull();
    expect(firstDifference(results[0], results[2])).toBeNull();
  });
});
