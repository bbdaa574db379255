// A weight used twice gets both contributions: gradients add into one buffer per Parameter
// (keyed by the object, not the name). Checked by finite differences on a tiny tied model,
// y = W·(W·x + b1) + b2 with one W in two Linear layers (a language model's decoder tied to its
// embedding is the same situation). The loss r·y is quadratic in W, so central differences are
// exact up to float32 rounding of the forward.
import { describe, expect, it } from 'vitest';
import { Linear } from '../../src/layers/linear.js';
import { zeroGrads } from '../../src/layers/parameters.js';
import { Rng } from '../../src/util/rng.js';

const D = 5;
const M = 3;

function model() {
  const first = new Linear({ inFeatures: D, outFeatures: D, seed: 1, prefix: 'enc.' });
  const second = new Linear({ inFeatures: D, outFeatures: D, seed: 2, prefix: 'dec.', weight: first.weight });
  return { first, second, params: [...new Set([...first.parameters(), ...second.parameters()])] };
}

function loss(m: ReturnType<typeof model>, x: Float32Array, r: Float32Array): number {
  const h = m.first.forward({ data: x, shape: [M, D] }, { training: false });
  const y = m.second.forward(h, { training: false });
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += r[i] * y.data[i];
  return s;
}

describe('tied weights', () => {
  it('the tied weight is one parameter whose gradient is the sum of both uses (finite differences)', () => {
    const rng = new Rng(5);
    const m = model();
    expect(m.params.length).toBe(3); // W once, two biases
    expect(m.second.weight).toBe(m.first.weight);
    const x = Float32Array.from({ length: M * D }, () => rng.normal());
    const r = Float32Array.from({ length: M * D }, () => rng.normal());
    zeroGrads(m.params);
    const h = m.first.forward({ data: x, shape: [M, D] });
    m.second.forward(h);
    const back = m.second.backward({ data: r, shape: [M, D] }, { accumulate: true });
    const decoderUse = m.first.weight.grad.slice();
    m.first.backward(back.input!, { accumulate: true, needInputGrad: false });
    const both = m.first.weight.grad;
    const encoderUse = both.map((g, i) => g - decoderUse[i]);
    // Both uses contribute: a merge by name would keep only one of them.
    expect(Math.max(...decoderUse.map(Math.abs))).toBeGreaterThan(0.1);
    expect(Math.max(...encoderUse.map(Math.abs))).toBeGreaterThan(0.1);
    const w = m.first.weight.data;
    const eps = 0.25;
    const fd = Array.from(w, (w0, i) => {
      w[i] = w0 + eps;
      const up = loss(m, x, r);
      w[i] = w0 - eps;
      const down = loss(m, x, r);
      w[i] = w0;
      return (up - down) / (2 * eps);
    });
    // float32 forward rounding of a loss of O(10), divided by 2·eps: ~1e-6; relative to the gradient's scale.
    const scale = Math.max(...fd.map(Math.abs));
    fd.forEach((f, i) => expect(Math.abs(both[i] - f), `dW[${i}]`).toBeLessThan(1e-5 * scale));
  });

  it('refuses a tied weight of the wrong shape', () => {
    const a = new Linear({ inFeatures: 4, outFeatures: 3 });
    expect(() => new Linear({ inFeatures: 3, outFeatures: 4, weight: a.weight })).toThrow(/tied weight must have shape \[4, 3\], got \[3, 4\]/);
  });
});
