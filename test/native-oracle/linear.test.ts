// Native Linear forward/backward against the float64 oracle, for every GEMM kernel compiled in.
// linearBackward adds dWeight and dBias into the caller's buffers (+=) and returns only dx.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { linearBackward, linearForward } from '../oracle/linear.js';
import { randomNormal, randomUniform, toF32 } from '../oracle/random.js';
import { firstDifference, linearGrads, plus, presetGradient } from '../native/helpers.js';
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

          const { y } = native().linearForward(args);
          assertAllClose(y, linearForward(x, w, b, d), F32_GEMM, 'y');

          const ref = linearBackward(x, w, dy, d);
          const bArgs = { x: args.x, weight: args.weight, ...d, dy: toF32(dy), ...linearGrads(c.I, c.O, withBias) };
          const g = native().linearBackward({ ...bArgs, needDx: true });
          expect(g.dx).not.toBeNull();
          assertAllClose(g.dx!, ref.dx, F32_GEMM, 'dx');
          assertAllClose(bArgs.dWeight, ref.dWeight, F32_GEMM, 'dWeight');
          if (withBias) assertAllClose(bArgs.dBias!, ref.dBias, F32_GEMM, 'dBias');
          else expect(bArgs.dBias).toBeNull();

          const noDx = { ...bArgs, ...linearGrads(c.I, c.O, withBias), needDx: false };
          expect(native().linearBackward(noDx).dx).toBeNull();
          assertAllClose(noDx.dWeight, ref.dWeight, F32_GEMM, 'dWeight (needDx false)');
          if (withBias) assertAllClose(noDx.dBias!, ref.dBias, F32_GEMM, 'dBias (needDx false)');
        });
      }
    }
  }

  it('gradients accumulate: preset buffers R come back as R + gradient, and R + 2·gradient after a second call', () => {
    const rng = new Rng(91);
    const d = { M: 9, I: 130, O: 129 };
    const x = randomNormal(rng, d.M * d.I);
    const w = randomUniform(rng, d.O * d.I, 1 / Math.sqrt(d.I));
    const dy = randomNormal(rng, d.M * d.O);
    const ref = linearBackward(x, w, dy, d);
    const rw = presetGradient(rng, ref.dWeight);
    const rb = presetGradient(rng, ref.dBias);
    const bArgs = { x: toF32(x), weight: toF32(w), ...d, dy: toF32(dy), dWeight: rw.buffer, dBias: rb.buffer, needDx: true };
    const first = native().linearBackward(bArgs);
    assertAllClose(rw.buffer, plus(rw.preset, ref.dWeight), F32_GEMM, 'R + dWeight');
    assertAllClose(rb.buffer, plus(rb.preset, ref.dBias), F32_GEMM, 'R + dBias');
    const second = native().linearBackward(bArgs);
    assertAllClose(rw.buffer, plus(rw.preset, ref.dWeight, 2), F32_GEMM, 'R + 2 dWeight');
    assertAllClose(rb.buffer, plus(rb.preset, ref.dBias, 2), F32_GEMM, 'R + 2 dBias');
    // dx is written, not accumulated: the same both times.
    expect(firstDifference(second.dx!, first.dx!)).toBeNull();
    assertAllClose(second.dx!, ref.dx, F32_GEMM, 'dx');
  });

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
    expect(Array.from((await native().linearForwardAsync(args)).y)).toEqual(Array.from(native().linearForward(args).y));
    const ab = { x: args.x, weight: args.weight, ...d, dy, ...linearGrads(d.I, d.O), needDx: true };
    const sb = { ...ab, ...linearGrads(d.I, d.O) };
    const a = await native().linearBackwardAsync(ab);
    const s = native().linearBackward(sb);
    expect(Array.from(a.dx!)).toEqual(Array.from(s.dx!));
    expect(Array.from(ab.dWeight)).toEqual(Array.from(sb.dWeight));
    expect(Array.from(ab.dBias!)).toEqual(Array.from(sb.dBias!));
  });
});
