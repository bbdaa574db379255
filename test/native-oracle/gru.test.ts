// Native GRU forward/backward against the float64 oracle: random shapes (T = 1, N = 1, odd sizes,
// sizes across 64/128 blocking boundaries), with and without h0 and dhT, single- and multi-chunk
// (a small chunkFloats budget), every output and gradient, for every GEMM kernel compiled in.
// Backward reads x, h0, y and the cache from the forward's saved handle and adds the parameter
// gradients into the caller's buffers; accumulation is checked on preset buffers. The pointwise
// kernels' thread split is checked on N·H well above the grain with 2 threads, where a thread's
// range starts mid-row, against the oracle and bitwise against 1 thread.
import { describe, expect, it } from 'vitest';
import { native, type GruBackwardArgs, type GruForwardArgs } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { gruBackward, gruForward, type GruGradients, type GruParams } from '../oracle/gru.js';
import { randomGruParams, randomNormal, toF32 } from '../oracle/random.js';
import { firstDifference, gruGrads, plus, presetGradient, withThreads } from '../native/helpers.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

const shapes = [
  { T: 1, N: 1, C: 1, H: 1 },
  { T: 1, N: 3, C: 7, H: 5 },
  { T: 5, N: 1, C: 7, H: 5 },
  { T: 6, N: 4, C: 3, H: 8 },
  { T: 9, N: 2, C: 16, H: 13 },
  { T: 12, N: 8, C: 33, H: 64 },
  { T: 3, N: 5, C: 70, H: 130 },
];
// chunk: 'step' = a budget of exactly one step's [N, 3H] buffer (every step its own chunk);
// 'pair' = two steps per chunk, so an odd T ends with a one-step chunk.
type Chunking = 'default' | 'step' | 'pair';
const variants: { withH0: boolean; withDhT: boolean; chunk: Chunking }[] = [
  { withH0: false, withDhT: false, chunk: 'default' },
  { withH0: true, withDhT: false, chunk: 'default' },
  { withH0: false, withDhT: true, chunk: 'default' },
  { withH0: true, withDhT: true, chunk: 'default' },
  { withH0: true, withDhT: true, chunk: 'step' },
  { withH0: false, withDhT: true, chunk: 'pair' },
];

function chunkFloats(chunk: Chunking, d: { N: number; H: number }): number {
  const step = d.N * 3 * d.H;
  return chunk === 'step' ? step : chunk === 'pair' ? 2 * step + 1 : 0;
}

interface Case {
  params: GruParams;
  x: Float64Array;
  h0: Float64Array | null;
  dy: Float64Array;
  dhT: Float64Array | null;
  dims: { T: number; N: number; C: number; H: number };
}

function makeCase(seed: number, dims: Case['dims'], withH0: boolean, withDhT: boolean): Case {
  const { T, N, C, H } = dims;
  const rng = new Rng(seed);
  const k = 1 / Math.sqrt(H); // PyTorch's init bound; doubled for weights so gates saturate somewhat
  return {
    params: randomGruParams(rng, C, H, 2 * k, k),
    x: randomNormal(rng, T * N * C),
    h0: withH0 ? randomNormal(rng, N * H, 0.5) : null,
    dy: randomNormal(rng, T * N * H),
    dhT: withDhT ? randomNormal(rng, N * H) : null,
    dims,
  };
}

function forwardArgs(c: Case, training: boolean, chunk = 0): GruForwardArgs {
  return {
    weightIh: toF32(c.params.weightIh),
    weightHh: toF32(c.params.weightHh),
    biasIh: toF32(c.params.biasIh),
    biasHh: toF32(c.params.biasHh),
    x: toF32(c.x),
    h0: c.h0 ? toF32(c.h0) : null,
    ...c.dims,
    training,
    chunkFloats: chunk,
  };
}

function backwardArgs(c: Case, f: GruForwardArgs, saved: GruBackwardArgs['saved'], needDx = true): GruBackwardArgs {
  return {
    weightIh: f.weightIh, weightHh: f.weightHh, biasIh: f.biasIh, biasHh: f.biasHh, ...c.dims, chunkFloats: f.chunkFloats,
    saved, dy: toF32(c.dy), dhT: c.dhT ? toF32(c.dhT) : null, ...gruGrads(c.dims.C, c.dims.H), needDx,
  };
}

function expectParamGrads(b: GruBackwardArgs, ref: GruGradients, what = ''): void {
  assertAllClose(b.dWeightIh, ref.dWeightIh, F32_GEMM, `dWeightIh${what}`);
  assertAllClose(b.dWeightHh, ref.dWeightHh, F32_GEMM, `dWeightHh${what}`);
  assertAllClose(b.dBiasIh, ref.dBiasIh, F32_GEMM, `dBiasIh${what}`);
  assertAllClose(b.dBiasHh, ref.dBiasHh, F32_GEMM, `dBiasHh${what}`);
}

/** Forward and backward through the native calls, checked against the oracle; returns every output. */
function oracle(c: Case): { y: Float64Array; grad: GruGradients } {
  const ref = gruForward(c.params, c.x, c.h0, c.dims);
  return { y: ref.y, grad: gruBackward(c.params, c.x, ref.tape, c.dy, c.dhT, c.dims) };
}

function checkCase(c: Case, chunk: number, expected = oracle(c)): Record<string, Float32Array> {
  const ref = expected;
  const refGrad = expected.grad;
  const args = forwardArgs(c, true, chunk);
  const fwd = native().gruForward(args);
  assertAllClose(fwd.y, ref.y, F32_GEMM, 'y');
  expect(fwd.saved?.madeBy).toBe('gruForward');
  const b = backwardArgs(c, args, fwd.saved!);
  const g = native().gruBackward(b);
  expect(g.dx).not.toBeNull();
  assertAllClose(g.dx!, refGrad.dx, F32_GEMM, 'dx');
  assertAllClose(g.dh0, refGrad.dh0, F32_GEMM, 'dh0');
  expectParamGrads(b, refGrad);
  return { y: fwd.y, dx: g.dx!, dh0: g.dh0, dWeightIh: b.dWeightIh, dWeightHh: b.dWeightHh, dBiasIh: b.dBiasIh, dBiasHh: b.dBiasHh };
}

// N·H = 9003 elements per step: above the forward grain (4096) and the backward grain (8192), so
// 2 threads split every pointwise pass, at flat index 4502 = row 1, column 1501 (mid-row).
// chunkFloats 64 makes every step its own time chunk.
const SPLIT = { T: 3, N: 3, C: 5, H: 3001 };
let splitCase: { c: Case; ref: ReturnType<typeof oracle> } | undefined;
const bigCase = () => {
  if (!splitCase) {
    const c = makeCase(3001, SPLIT, true, true);
    splitCase = { c, ref: oracle(c) };
  }
  return splitCase;
};

describe.each(compiledGemmKernels())('native GRU vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [si, dims] of shapes.entries()) {
    for (const [vi, v] of variants.entries()) {
      const seed = 1000 + 10 * si + vi;
      const chunk = chunkFloats(v.chunk, dims);
      it(`T=${dims.T} N=${dims.N} C=${dims.C} H=${dims.H} h0=${v.withH0} dhT=${v.withDhT} chunks=${v.chunk}`, () => {
        checkCase(makeCase(seed, dims, v.withH0, v.withDhT), chunk);
      });
    }
  }

  it('inference forward (training = false) gives the same y as the oracle and no saved handle', () => {
    const c = makeCase(2001, { T: 7, N: 3, C: 9, H: 11 }, true, false);
    const fwd = native().gruForward(forwardArgs(c, false));
    expect(fwd.saved).toBeNull();
    assertAllClose(fwd.y, gruForward(c.params, c.x, c.h0, c.dims).y, F32_GEMM, 'y');
    const chunked = native().gruForward(forwardArgs(c, false, 64));
    assertAllClose(chunked.y, gruForward(c.params, c.x, c.h0, c.dims).y, F32_GEMM, 'y (chunkFloats 64)');
  });

  it('needDx = false returns no dx and the same parameter gradients', () => {
    const c = makeCase(2002, { T: 4, N: 2, C: 6, H: 7 }, true, true);
    const ref = gruForward(c.params, c.x, c.h0, c.dims);
    const refGrad = gruBackward(c.params, c.x, ref.tape, c.dy, c.dhT, c.dims);
    const args = forwardArgs(c, true);
    const fwd = native().gruForward(args);
    const b = backwardArgs(c, args, fwd.saved!, false);
    const g = native().gruBackward(b);
    expect(g.dx).toBeNull();
    assertAllClose(g.dh0, refGrad.dh0, F32_GEMM, 'dh0');
    expectParamGrads(b, refGrad);
  });

  it('gradients accumulate over calls and time chunks: preset R comes back as R + gradient, then R + 2·gradient', () => {
    const c = makeCase(2004, { T: 7, N: 3, C: 9, H: 11 }, true, true);
    const ref = gruForward(c.params, c.x, c.h0, c.dims);
    const refGrad = gruBackward(c.params, c.x, ref.tape, c.dy, c.dhT, c.dims);
    const rng = new Rng(2004, 1);
    const args = forwardArgs(c, true, 2 * c.dims.N * 3 * c.dims.H); // chunks of 2, 2, 2, 1 steps
    const fwd = native().gruForward(args);
    const b = backwardArgs(c, args, fwd.saved!);
    const keys = ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const;
    const presets = keys.map((k) => {
      const p = presetGradient(rng, refGrad[k]);
      b[k] = p.buffer;
      return p.preset;
    });
    const first = native().gruBackward(b);
    keys.forEach((k, i) => assertAllClose(b[k], plus(presets[i], refGrad[k]), F32_GEMM, `R + ${k}`));
    const second = native().gruBackward(b);
    keys.forEach((k, i) => assertAllClose(b[k], plus(presets[i], refGrad[k], 2), F32_GEMM, `R + 2 ${k}`));
    // dx and dh0 are written, not accumulated.
    expect(firstDifference(second.dx!, first.dx!)).toBeNull();
    expect(firstDifference(second.dh0, first.dh0)).toBeNull();
    assertAllClose(second.dh0, refGrad.dh0, F32_GEMM, 'dh0');
  });

  it('async variants give the same numbers as the sync calls', async () => {
    const c = makeCase(2003, { T: 6, N: 4, C: 5, H: 9 }, true, true);
    const args = forwardArgs(c, true);
    const s = native().gruForward(args);
    const a = await native().gruForwardAsync(args);
    expect(Array.from(a.y)).toEqual(Array.from(s.y));
    const bs = backwardArgs(c, args, s.saved!);
    const ba = backwardArgs(c, args, a.saved!);
    const gs = native().gruBackward(bs);
    const ga = await native().gruBackwardAsync(ba);
    for (const key of ['dx', 'dh0'] as const) expect(Array.from(ga[key]!), key).toEqual(Array.from(gs[key]!));
    for (const key of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) {
      expect(Array.from(ba[key]), key).toEqual(Array.from(bs[key]));
    }
  });

  it(`multi-thread split (2 threads, N·H = ${SPLIT.N * SPLIT.H}, segments starting mid-row) and multi-chunk: matches the oracle${kernel === 'builtin' ? ' and 1 thread bitwise' : ''}`, () => {
    const { c, ref } = bigCase();
    const two = withThreads(2, () => checkCase(c, 64, ref));
    if (kernel !== 'builtin') return; // OpenBLAS does not promise thread-count-independent sums
    const one = withThreads(1, () => checkCase(c, 64, ref));
    for (const k of Object.keys(two)) expect(firstDifference(one[k], two[k]), k).toBeNull();
  });
});
