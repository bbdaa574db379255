import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { conv2dBackward, conv2dForward, windowOutSize, type Conv2dDims } from './conv2d.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { randomNormal } from './random.js';

const dims = (p: Partial<Conv2dDims> & Pick<Conv2dDims, 'N' | 'C' | 'H' | 'W' | 'O' | 'KH' | 'KW'>): Conv2dDims => ({
  SH: 1, SW: 1, PH: 0, PW: 0, ...p,
});

describe('oracle Conv2d', () => {
  it('computes a hand-worked example (padding and stride)', () => {
    // One 3×3 image 1..9, one 2×2 kernel [[1, 0], [0, −1]], bias 0.5, stride 2, padding 1:
    // the padded image is 5×5 and the windows start at (−1, −1), (−1, 1), (1, −1), (1, 1).
    //   (−1,−1): 1·0 − 1·x[0,0] = −1;   (−1, 1): 1·0 − 1·x[0,2] = −3
    //   ( 1,−1): 1·0 − 1·x[2,0] = −7;   ( 1, 1): 1·x[1,1] − 1·x[2,2] = 5 − 9 = −4
    const d = dims({ N: 1, C: 1, H: 3, W: 3, O: 1, KH: 2, KW: 2, SH: 2, SW: 2, PH: 1, PW: 1 });
    expect(windowOutSize(d)).toEqual({ OH: 2, OW: 2 });
    const x = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const w = Float64Array.of(1, 0, 0, -1);
    expect(Array.from(conv2dForward(x, w, Float64Array.of(0.5), d))).toEqual([-0.5, -2.5, -6.5, -3.5]);
    // dy = 1 everywhere: dW[u, v] = Σ over the four windows of the input under (u, v), i.e. of
    // x at rows {u − 1, u + 1} × columns {v − 1, v + 1} where real:
    //   (0,0): x[1,1] = 5; (0,1): x[1,0] + x[1,2] = 10; (1,0): x[0,1] + x[2,1] = 10; (1,1): 1 + 3 + 7 + 9 = 20.
    const g = conv2dBackward(x, w, Float64Array.of(1, 1, 1, 1), d);
    expect(Array.from(g.dWeight)).toEqual([5, 10, 10, 20]);
    expect(Array.from(g.dBias)).toEqual([4]);
    // dx: x[1,1] gets w[0,0] = 1 from the last window; the corners get w[1,1] = −1; the rest 0.
    expect(Array.from(g.dx)).toEqual([-1, 0, -1, 0, 1, 0, -1, 0, -1]);
  });

  it.each([
    { name: '3×3 pad 1', d: dims({ N: 2, C: 2, H: 5, W: 4, O: 3, KH: 3, KW: 3, PH: 1, PW: 1 }) },
    { name: '11×11 stride 4 pad 2', d: dims({ N: 1, C: 1, H: 15, W: 13, O: 2, KH: 11, KW: 11, SH: 4, SW: 4, PH: 2, PW: 2 }) },
    { name: 'asymmetric', d: dims({ N: 2, C: 3, H: 6, W: 5, O: 2, KH: 3, KW: 2, SH: 2, SW: 3, PH: 1, PW: 1 }) },
    { name: 'padded 1×1', d: dims({ N: 3, C: 2, H: 1, W: 1, O: 2, KH: 3, KW: 3, PH: 1, PW: 1 }) },
  ])('backward matches finite differences ($name)', ({ d }) => {
    const rng = new Rng(5, d.H, d.KH);
    const { OH, OW } = windowOutSize(d);
    const x = randomNormal(rng, d.N * d.C * d.H * d.W);
    const w = randomNormal(rng, d.O * d.C * d.KH * d.KW);
    const b = randomNormal(rng, d.O);
    const dy = randomNormal(rng, d.N * d.O * OH * OW);
    const loss = () => dot(conv2dForward(x, w, b, d), dy);
    const g = conv2dBackward(x, w, dy, d);
    assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
    assertAllClose(g.dWeight, numericalGradient(loss, w), FD_TOL, 'dWeight');
    assertAllClose(g.dBias, numericalGradient(loss, b), FD_TOL, 'dBias');
  });
});
