import { describe, expect, it } from 'vitest';
import { passThrough, quantize, quantizeIf, roundHalfEven } from './fixed-point.js';

const Q35 = { qi: 3, qf: 5 };

describe('oracle fixed point', () => {
  it('rounds half to even', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, -2, -2, 2, 3]);
  });

  it('quantises Q3.5 hand values: steps of 1/32, saturation at 3.96875 and −4', () => {
    const cases: [number, number][] = [
      [0.1, 0.09375], // 3.2 LSBs → 3
      [-0.1, -0.09375],
      [0.3, 0.3125], // 9.6 → 10
      [0.015625, 0], // 0.5 LSB: the tie goes to the even 0
      [0.046875, 0.0625], // 1.5 → 2
      [0.078125, 0.0625], // 2.5 → 2
      [-0.046875, -0.0625],
      [-0.078125, -0.0625],
      [3.96875, 3.96875], // 127 LSBs, the largest
      [3.98, 3.96875], // 127.36 → 127
      [3.99, 3.96875], // 127.68 → 128, clamped
      [100, 3.96875],
      [-4, -4], // −128 LSBs, the smallest
      [-4.01, -4],
      [-100, -4],
    ];
    for (const [x, q] of cases) expect(quantize(x, Q35)).toBe(q);
    expect(quantizeIf(0.1, Q35, false)).toBe(0.1);
  });

  it('quantises other formats (Q1.7 weights, Q2.6 gate outputs)', () => {
    expect(quantize(0.7, { qi: 1, qf: 7 })).toBe(90 / 128);
    expect(quantize(1.5, { qi: 1, qf: 7 })).toBe(127 / 128);
    expect(quantize(-1.5, { qi: 1, qf: 7 })).toBe(-1);
    expect(quantize(0.99, { qi: 2, qf: 6 })).toBe(63 / 64);
    expect(quantize(0.995, { qi: 2, qf: 6 })).toBe(1);
  });

  it('passes the gradient through unless the rounded value is clamped', () => {
    const xs = [3.96875, 3.98, 3.99, -4, -4.01, -4.02, 0.1, 100];
    expect(xs.map((x) => passThrough(x, Q35))).toEqual([1, 1, 0, 1, 1, 0, 1, 0]);
  });
});
