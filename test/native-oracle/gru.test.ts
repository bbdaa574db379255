// Native GRU forward/backward against the float64 oracle: random shapes (T = 1, N = 1, odd sizes,
// sizes across 64/128 blocking boundaries), with and without h0 and dhT, every output and gradient,
// for every GEMM kernel compiled in.
import { describe, expect, it } from 'vitest';
import { native, type GruForwardArgs } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { gruBackward, gruForward, type GruParams } from '../oracle/gru.js';
import { randomGruParams, randomNormal, toF32 } from '../oracle/random.js';
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
const variants = [
  { withH0: false, withDhT: false },
  { withH0: true, withDhT: false },
  { withH0: false, withDhT: true },
  { withH0: true, withDhT: true },
];

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

function forwardArgs(c: Case, training: boolean): GruForwardArgs {
  return {
    weightIh: toF32(c.params.weightIh),
    weightHh: toF32(c.params.weightHh),
    biasIh: toF32(c.params.biasIh),
    biasHh: toF32(c.params.biasHh),
    x: toF32(c.x),
    h0: c.h0 ? toF32(c.h0) : null,
    ...c.dims,
    training,
  };
}

describe.each(compiledGemmKernels())('native GRU vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [si, dims] of shapes.entries()) {
    for (const [vi, v] of variants.entries()) {
      const seed = 1000 + 10 * si + vi;
      it(`T=${dims.T} N=${dims.N} C=${dims.C} H=${dims.H} h0=${v.withH0} dhT=${v.withDhT}`, () => {
        const c = makeCase(seed, dims, v.withH0, v.withDhT);
        const ref = gruForward(c.params, c.x, c.h0, c.dims);
        const refGrad = gruBackward(c.params, c.x, ref.tape, c.dy, c.dhT, c.dims);

        const args = forwardArgs(c, true);
        const fwd = native().gruForward(args);
        assertAllClose(fwd.y, ref.y, F32_GEMM, 'y');

        const g = native().gruBackward({
          ...args, y: fwd.y, cache: fwd.cache, dy: toF32(c.dy), dhT: c.dhT ? toF32(c.dhT) : null, needDx: true,
        });
        expect(g.dx).not.toBeNull();
        assertAllClose(g.dx!, refGrad.dx, F32_GEMM, 'dx');
        assertAllClose(g.dh0, refGrad.dh0, F32_GEMM, 'dh0');
        assertAllClose(g.dWeightIh, refGrad.dWeightIh, F32_GEMM, 'dWeightIh');
        assertAllClose(g.dWeightHh, refGrad.dWeightHh, F32_GEMM, 'dWeightHh');
        assertAllClose(g.dBiasIh, refGrad.dBiasIh, F32_GEMM, 'dBiasIh');
        assertAllClose(g.dBiasHh, refGrad.dBiasHh, F32_GEMM, 'dBiasHh');
      });
    }
  }

  it('inference forward (training = false) gives the same y as the oracle', () => {
    const c = makeCase(2001, { T: 7, N: 3, C: 9, H: 11 }, true, false);
    const fwd = native().gruForward(forwardArgs(c, false));
    assertAllClose(fwd.y, gruForward(c.params, c.x, c.h0, c.dims).y, F32_GEMM, 'y');
  });

  it('needDx = false returns no dx and the same parameter gradients', () => {
    const c = makeCase(2002, { T: 4, N: 2, C: 6, H: 7 }, true, true);
    const ref = gruForward(c.params, c.x, c.h0, c.dims);
    const refGrad = gruBackward(c.params, c.x, ref.tape, c.dy, c.dhT, c.dims);
    const args = forwardArgs(c, true);
    const fwd = native().gruForward(args);
    const g = native().gruBackward({ ...args, ...fwd, dy: toF32(c.dy), dhT: toF32(c.dhT!), needDx: false });
    expect(g.dx).toBeNull();
    assertAllClose(g.dh0, refGrad.dh0, F32_GEMM, 'dh0');
    assertAllClose(g.dWeightIh, refGrad.dWeightIh, F32_GEMM, 'dWeightIh');
    assertAllClose(g.dWeightHh, refGrad.dWeightHh, F32_GEMM, 'dWeightHh');
    assertAllClose(g.dBiasIh, refGrad.dBiasIh, F32_GEMM, 'dBiasIh');
    assertAllClose(g.dBiasHh, refGrad.dBiasHh, F32_GEMM, 'dBiasHh');
  });

  it('async variants give the same numbers as the sync calls', async () => {
    const c = makeCase(2003, { T: 6, N: 4, C: 5, H: 9 }, true, true);
    const args = forwardArgs(c, true);
    const s = native().gruForward(args);
    const a = await native().gruForwardAsync(args);
    expect(Array.from(a.y)).toEqual(Array.from(s.y));
    const bArgs = { ...args, y: s.y, cache: s.cache, dy: toF32(c.dy), dhT: toF32(c.dhT!), needDx: true };
    const gs = native().gruBackward(bArgs);
    const ga = await native().gruBackwardAsync(bArgs);
    for (const key of ['dx', 'dh0', 'dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) {
      expect(Array.from(ga[key]!), key).toEqual(Array.from(gs[key]!));
    }
  });
});
