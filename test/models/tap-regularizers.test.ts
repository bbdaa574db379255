// EvNN's activity and voltage regularisers, computed by the engine, against finite differences of
// their own values and against the formulas: value = constant·(mean(x) − target)² and
// constant·mean((x − target)²); the gradient is added into the given buffer (+=).
import { describe, expect, it } from 'vitest';
import { addTapRegularizers } from '../../src/models/tap-regularizers.js';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';

const n = 57;

function values(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe.each([
  ['mean-target', (x: Float32Array, c: number, t: number) => c * (x.reduce((a, v) => a + v, 0) / x.length - t) ** 2],
  ['mean-square', (x: Float32Array, c: number, t: number) => (c * x.reduce((a, v) => a + (v - t) ** 2, 0)) / x.length],
] as const)('%s regulariser', (kind, formula) => {
  const op = (x: Float32Array, grad: Float32Array, constant: number, target: number) => {
    const args = { x, grad, n: x.length, constant, target };
    return (kind === 'mean-target' ? native().regularizeMeanTarget(args) : native().regularizeMeanSquare(args)).stats.value;
  };

  it('value matches the formula; gradient matches central differences of the value', () => {
    for (const [constant, target] of [[1, 0.05], [2.5, -0.9], [0.3, 0.7]]) {
      const x = values(Math.round(constant * 10));
      const grad = new Float32Array(n);
      const v = op(x, grad, constant, target);
      expect(v).toBeCloseTo(formula(x, constant, target), 9);
      const h = 1 / 64; // exact in float32 at these magnitudes
      const scale = Math.max(...Array.from(grad, Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const x0 = x[i];
        x[i] = x0 + h;
        const up = op(x, new Float32Array(n), constant, target);
        x[i] = x0 - h;
        const down = op(x, new Float32Array(n), constant, target);
        x[i] = x0;
        // Both terms are quadratic in x: central differences are exact up to rounding.
        expect(Math.abs(grad[i] - (up - down) / (2 * h)), `d/dx[${i}]`).toBeLessThan(1e-5 * scale);
      }
    }
  });

  it('adds into the gradient buffer; a zero constant is skipped by the model helper', () => {
    const x = values(3);
    const once = new Float32Array(n);
    op(x, once, 1.5, 0.2);
    const twice = Float32Array.from(once);
    op(x, twice, 1.5, 0.2);
    twice.forEach((g, i) => expect(g).toBeCloseTo(2 * once[i], 6));
    const grads: Record<string, Float32Array> = {};
    addTapRegularizers([{ tap: 'o', kind, constant: 0, target: 0.1 }], { o: x }, grads);
    expect(grads.o).toBeUndefined();
    addTapRegularizers([{ tap: 'o', kind, constant: 1.5, target: 0.2 }], { o: x }, grads);
    expect(Array.from(grads.o)).toEqual(Array.from(once));
  });
});
