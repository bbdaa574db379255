// Native Linear forward/backward against the float64 oracle, for every GEMM kernel compiled in.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { linearBackward, linearForward } from '../oracle/linear.js';
import { randomNormal, randomUniform, toF32 } from '../oracle/random.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

const cases = [
  { M: 1, I: 1, O: 1 },
  { M: 3, I: 7, O: 5 },
  { M: 1, I: 33, O: 10 },
  { M: 17, I: 5, O: 1 },
  { M: 64, I: 100, O: 10 },
  { M: 9, I: 130, O: 129 },
];

describe.each(compiledGemmKernels())('native Linear vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [ci, c] of cases.entries()) {
    for (const withBias of [true, false]) {
      for (const seed of [1, 2]) {
        it(`M=${c.M} I=${c.I} O=${c.O} bias=${withBias} seed=${seed}`, () => {
          const rng = new Rng(seed, ci, withBias ? 1 : 0);
          const d = c;
          const x = randomNormal(rng, c.M * c.I);
          const w = randomUniform(rng, c.O * c.I, 1 / Math.sqrt(c.I));
          const b = withBias ? randomUniform(rng, c.O, 1) : null;
          const dy = randomNormal(rng, c.M * c.O);
          const args = { x: toF32(x), weight: toF32(w), bias: b ? toF32(b) : null, ...d };

          const y = native().linearForward(args);
          assertAllClose(y, linearForward(x, w, b, d), F32_GEMM, 'y');

          const ref = linearBackward(x, w, dy, d);
          const g = native().linearBackward({ ...args, dy: toF32(dy), needDx: true });
          expect(g.dx).not.toBeNull();
          assertAllClose(g.dx!, ref.dx, F32_GEMM, 'dx');
          assertAllClose(g.dWeight, ref.dWeight, F32_GEMM, 'dWeight');
          if (withBias) {
            expect(g.dBias).not.toBeNull();
            assertAllClose(g.dBias!, ref.dBias, F32_GEMM, 'dBias');
          } else {
            expect(g.dBias).toBeNull();
          }

          const noDx = native().linearBackward({ ...args, dy: toF32(dy), needDx: false });
          expect(noDx.dx).toBeNull();
          assertAllClose(noDx.dWeight, ref.dWeight, F32_GEMM, 'dWeight (needDx false)');
        });
      }
    }
  }

  it('async variants give the same numbers as the sync calls', async () => {
    const rng = new Rng(77);
    const d = { M: 12, I: 9, O: 7 };
    const args = {
      x: toF32(randomNormal(rng, d.M * d.I)),
      weight: toF32(randomNormal(rng, d.O * d.I)),
      bias: toF32(randomNormal(rng, d.O)),
      ...d,
    };
    const dy = toF32(randomNormal(rng, d.M * d.O));
    expect(Array.from(await native().linearForwardAsync(args))).toEqual(Array.from(native().linearForward(args)));
    const a = await native().linearBackwardAsync({ ...args, dy, needDx: true });
    const s = native().linearBackward({ ...args, dy, needDx: true });
    expect(Array.from(a.dx!)).toEqual(Array.from(s.dx!));
    expect(Array.from(a.dWeight)).toEqual(Array.from(s.dWeight));
    expect(Array.from(a.dBias!)).toEqual(Array.from(s.dBias!));
  });
});
