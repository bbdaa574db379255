// quantizeInPlace and quantizePassThrough (fixed_point.h: gaochangw/DeltaRNN's quantize_tensor and
// its straight-through gradient) against values worked out by hand:
//   Q(qi.qf)(x) = clamp(round(x·2^qf), −2^(qi+qf−1), 2^(qi+qf−1) − 1) / 2^qf, round half to even.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';

const q = (values: number[], qi: number, qf: number): number[] => {
  const a = Float32Array.from(values);
  native().quantizeInPlace(a, qi, qf);
  return Array.from(a);
};

describe('quantizeInPlace', () => {
  it('Q1.7 (the default weight format): a grid of 2^−7 on [−1, 1 − 2^−7]', () => {
    // 0.3·128 = 38.4 → 38; 0.123·128 = 15.744 → 16; 5 and −2 saturate at 127 and −128.
    expect(q([0.3, 0.123, 5, -2, 0, -0.3], 1, 7)).toEqual([38 / 128, 16 / 128, 127 / 128, -1, 0, -38 / 128]);
  });

  it('rounds half to even (torch.round), not half away from zero', () => {
    // ·128: 1.5 → 2, 2.5 → 2, −1.5 → −2, −2.5 → −2, 3.5 → 4
    expect(q([1.5 / 128, 2.5 / 128, -1.5 / 128, -2.5 / 128, 3.5 / 128], 1, 7)).toEqual([2 / 128, 2 / 128, -2 / 128, -2 / 128, 4 / 128]);
  });

  it('Q3.5 (the default activation format) and Q2.6 (nonlinear): range [−2^(qi−1), 2^(qi−1) − 2^−qf]', () => {
    expect(q([3.99, -4.2, 1.01, 10], 3, 5)).toEqual([127 / 32, -4, 32 / 32, 127 / 32]);
    expect(q([0.999, -3, 0.51], 2, 6)).toEqual([64 / 64, -2, 33 / 64]);
  });

  it('works on an engine tensor in place (a parameter), and on values already on the grid as the identity', () => {
    const t = native().engineTensor(4);
    t.host().set([0.3, -0.3, 2, 0.5]);
    native().quantizeInPlace(t, 1, 7);
    expect(Array.from(t.host())).toEqual([38 / 128, -38 / 128, 127 / 128, 0.5]);
    const before = Array.from(t.host());
    native().quantizeInPlace(t, 1, 7);
    expect(Array.from(t.host())).toEqual(before);
  });

  it('refuses formats that are not integers with qi >= 1 and qi + qf <= 24, and a non-array', () => {
    const a = new Float32Array(2);
    expect(() => native().quantizeInPlace(a, 0, 7)).toThrow(/quantizeInPlace: qi must be an integer in \[1, 24\]/);
    expect(() => native().quantizeInPlace(a, 1.5, 7)).toThrow(RangeError);
    expect(() => native().quantizeInPlace(a, 8, 17)).toThrow(/qi \+ qf must be <= 24/);
    expect(() => native().quantizeInPlace([1, 2] as unknown as Float32Array, 1, 7)).toThrow(TypeError);
  });
});

describe('quantizePassThrough', () => {
  it('zeroes the gradient where Q1.7 saturates and leaves it elsewhere', () => {
    // ·128: 0.99 → 127 (inside), 1.0 → 128 (> 127: saturated), −1.0 → −128 (inside), −1.01 → −129 (saturated)
    const x = Float32Array.from([0.99, 1.0, -1.0, -1.01, 0]);
    const dx = Float32Array.from([1, 2, 3, 4, 5]);
    native().quantizePassThrough(x, dx, 1, 7);
    expect(Array.from(dx)).toEqual([1, 0, 3, 0, 5]);
    expect(() => native().quantizePassThrough(x, new Float32Array(4), 1, 7)).toThrow(/dx has length 4, expected x.length = 5/);
  });
});
