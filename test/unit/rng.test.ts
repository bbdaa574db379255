import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds and seed parts', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(1)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(1)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(2)));
    const d = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(1, 0)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(d);
  });

  it('gives permutations of 0..n-1', () => {
    const p = new Rng(3).permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('has the right first two moments for uniform, normal and beta', () => {
    const r = new Rng(7);
    const n = 20000;
    const mean = (f: () => number) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = f();
        s += v;
        s2 += v * v;
      }
      return [s / n, s2 / n - (s / n) ** 2];
    };
    const [mu, varU] = mean(() => r.uniform());
    expect(mu).toBeCloseTo(0.5, 1);
    expect(varU).toBeCloseTo(1 / 12, 2);
    const [mn, varN] = mean(() => r.normal());
    expect(Math.abs(mn)).toBeLessThan(0.03);
    expect(varN).toBeCloseTo(1, 1);
    // Beta(a, b): mean a/(a+b); EGRU initialises thresholds from Beta(3μ/(1−μ), 3).
    const [mb] = mean(() => r.beta(1, 3));
    expect(mb).toBeCloseTo(0.25, 2);
  });
});
