import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { windowOutSize } from './conv2d.js';
import { maxPool2dBackward, maxPool2dForward, type MaxPool2dDims } from './maxpool2d.js';
import { randomNormal } from './random.js';

describe('oracle MaxPool2d', () => {
  it('computes a hand-worked example with ties and padding', () => {
    // 3×4 plane, 3×3 window, stride 2, padding 1 → 2×2 outputs; windows start at rows −1, 1 and
    // columns −1, 1. Row-major scan: the first of equal maxima wins.
    const d: MaxPool2dDims = { N: 1, C: 1, H: 3, W: 4, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1 };
    expect(windowOutSize(d)).toEqual({ OH: 2, OW: 2 });
    const x = Float64Array.of(
      0, 0, 3, 1,
      0, 2, 3, -1,
      -5, -5, -4, -6,
    );
    const r = maxPool2dForward(x, d);
    // (−1,−1): rows 0..1, cols 0..1 → max 2 at (1,1) = 5; (−1, 1): rows 0..1, cols 1..3 → 3 first at (0,2) = 2
    // ( 1,−1): rows 1..2, cols 0..1 → 2 at 5;            ( 1, 1): rows 1..2, cols 1..3 → 3 at (1,2) = 6
    expect(Array.from(r.y)).toEqual([2, 3, 2, 3]);
    expect(Array.from(r.argmax)).toEqual([5, 2, 5, 6]);
    const dx = maxPool2dBackward(r.argmax, Float64Array.of(1, 10, 100, 1000), d);
    expect(Array.from(dx)).toEqual([0, 0, 10, 0, 0, 101, 1000, 0, 0, 0, 0, 0]);
    // All zeros (a ReLU's dead patch): each window's gradient goes to its first real position only.
    const z = maxPool2dForward(new Float64Array(12), d);
    expect(Array.from(z.argmax)).toEqual([0, 1, 4, 5]);
  });

  it.each([
    { N: 2, C: 2, H: 7, W: 6, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, PW: 0 },
    { N: 1, C: 3, H: 5, W: 8, KH: 2, KW: 3, SH: 1, SW: 3, PH: 1, PW: 1 },
    { N: 2, C: 1, H: 9, W: 9, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1 },
  ])('backward matches finite differences away from ties (H=$H W=$W k=$KH×$KW s=$SH,$SW p=$PH,$PW)', (d) => {
    // Normal inputs have distinct values a.s., gaps far above the step, so max is smooth there.
    const rng = new Rng(11, d.H, d.KW);
    const { OH, OW } = windowOutSize(d);
    const x = randomNormal(rng, d.N * d.C * d.H * d.W);
    const dy = randomNormal(rng, d.N * d.C * OH * OW);
    const loss = () => dot(maxPool2dForward(x, d).y, dy);
    assertAllClose(maxPool2dBackward(maxPool2dForward(x, d).argmax, dy, d), numericalGradient(loss, x), FD_TOL, 'dx');
  });
});
