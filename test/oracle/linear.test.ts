import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import { linearBackward, linearForward } from './linear.js';
import { randomNormal } from './random.js';

describe('oracle Linear', () => {
  it('computes a hand-worked example', () => {
    // x = [[1, 2]], W = [[3, 4], [5, 6], [7, 8]], b = [0.5, -1, 2]
    // y = [1·3 + 2·4 + 0.5, 1·5 + 2·6 − 1, 1·7 + 2·8 + 2] = [11.5, 16, 25]
    const y = linearForward(
      Float64Array.of(1, 2), Float64Array.of(3, 4, 5, 6, 7, 8), Float64Array.of(0.5, -1, 2), { M: 1, I: 2, O: 3 },
    );
    expect(Array.from(y)).toEqual([11.5, 16, 25]);
    // dy = [1, 0, −1]: dx = dy W = [3 − 7, 4 − 8] = [−4, −4]; dW = dyᵀ x = [[1, 2], [0, 0], [−1, −2]]; db = dy
    const g = linearBackward(Float64Array.of(1, 2), Float64Array.of(3, 4, 5, 6, 7, 8), Float64Array.of(1, 0, -1), { M: 1, I: 2, O: 3 });
    expect(Array.from(g.dx)).toEqual([-4, -4]);
    expect(Array.from(g.dWeight)).toEqual([1, 2, 0, 0, -1, -2]);
    expect(Array.from(g.dBias)).toEqual([1, 0, -1]);
  });

  it.each([
    { M: 1, I: 1, O: 1, seed: 1 },
    { M: 3, I: 7, O: 5, seed: 2 },
    { M: 6, I: 4, O: 9, seed: 3 },
  ])('backward matches finite differences (M=$M I=$I O=$O)', ({ M, I, O, seed }) => {
    const rng = new Rng(seed);
    const d = { M, I, O };
    const x = randomNormal(rng, M * I);
    const w = randomNormal(rng, O * I);
    const b = randomNormal(rng, O);
    const dy = randomNormal(rng, M * O);
    const loss = () => dot(linearForward(x, w, b, d), dy);
    const g = linearBackward(x, w, dy, d);
    assertAllClose(g.dx, numericalGradient(loss, x), FD_TOL, 'dx');
    assertAllClose(g.dWeight, numericalGradient(loss, w), FD_TOL, 'dWeight');
    assertAllClose(g.dBias, numericalGradient(loss, b), FD_TOL, 'dBias');
  });
});
