// GestureClassifier: EvNN's DVS128 model composed from the front end, a stack and the classifier.
// Parameter names as EvNN's module's; the mean readout equals the mean of per-step logits; the
// gradients of parameters in every part (classifier, recurrent layer, front end) match central
// finite differences of the loss (float32 forward, so a loose bound that still catches a missing or
// doubled term); dropout draws from the batch key; state round trip.
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/batch-source.js';
import { GestureClassifier, type GestureClassifierOptions } from '../../src/models/gesture-classifier.js';
import { Rng } from '../../src/util/rng.js';

const S = 32;
const T = 3;
const N = 2;
const K = 3;

function options(o: Partial<GestureClassifierOptions> = {}): GestureClassifierOptions {
  return {
    frameSize: S, numClasses: K, seed: 5, convChannels: [4, 6, 8, 6, 6],
    rnn: { type: 'gru', hiddenSizes: [5], options: {} }, readout: 'mean', ...o,
  };
}

function frames(seed: number): Batch {
  const rng = new Rng(seed, 1);
  const x = new Float32Array(T * N * S * S);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.2 ? rng.uniform() : 0;
  return { x: { data: x, shape: [T, N, 1, S, S] }, labels: Int32Array.from([1, 2]) };
}

describe('GestureClassifier', () => {
  it('names its parameters as EvNN\'s DVS128 module', () => {
    const names = new GestureClassifier(options()).parameters().map((p) => p.name);
    expect(names).toEqual([
      'conv.0.weight', 'conv.0.bias', 'conv.3.weight', 'conv.3.bias', 'conv.6.weight', 'conv.6.bias', 'conv.9.weight', 'conv.9.bias',
      'conv.12.weight', 'conv.12.bias', 'conv.15.weight', 'conv.15.bias',
      'layers.0.weight_ih_l0', 'layers.0.weight_hh_l0', 'layers.0.bias_ih_l0', 'layers.0.bias_hh_l0', 'fc.weight', 'fc.bias',
    ]);
    const egru = new GestureClassifier(options({ rnn: { type: 'egru', hiddenSizes: [5], options: {} }, readoutTap: 'trace' }));
    expect(egru.parameters().map((p) => p.name).filter((n) => n.startsWith('layers.'))).toEqual([
      'layers.0.kernel', 'layers.0.recurrent_kernel', 'layers.0.bias', 'layers.0.recurrent_bias', 'layers.0.thr',
    ]);
  });

  it('reads out the mean of the per-step logits, or the last step', async () => {
    const batch = frames(1);
    for (const readout of ['mean', 'last'] as const) {
      const m = new GestureClassifier(options({ readout }));
      const r = await m.evalBatch(batch);
      // the same from the parts: front end, stack, classifier on every step
      const f = m.frontEnd.forward(batch.x!, { training: false });
      const out = m.rnn.forward;
      const { runSync } = await import('../../src/layers/drive.js');
      const seq = runSync(out.call(m.rnn, f.data, T, N, { training: false })).output;
      const logits = m.fc.forward({ data: seq, shape: [T * N, 5] }, { training: false }).data;
      const pick = new Float64Array(N * K);
      for (let t = 0; t < T; t++) {
        if (readout === 'last' && t !== T - 1) continue;
        for (let i = 0; i < N * K; i++) pick[i] += logits[t * N * K + i] / (readout === 'mean' ? T : 1);
      }
      let loss = 0;
      for (let n = 0; n < N; n++) {
        const row = pick.subarray(n * K, (n + 1) * K);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        loss += (lse - row[batch.labels[n]]) / N;
      }
      expect(r.loss).toBeCloseTo(loss, 5);
    }
  });

  it('gives every part\'s gradient of the loss (central differences along directions)', async () => {
    const batch = frames(2);
    const m = new GestureClassifier(options());
    await m.trainBatch(batch);
    const byName = new Map(m.parameters().map((p) => [p.name, p]));
    // Per parameter tensor, the loss's derivative along two unit directions (the gradient's own and
    // a random one) by central differences, against g·d. A direction spreads the step over every
    // entry, so the float32 loss's rounding (~1e-7 over 2h = 2e-2) stays near 1e-5 and few ReLUs or
    // pools cross a kink; the bound, 3% of |g| plus that noise, is far below a missing 1/T or a
    // doubled path.
    const h = 1e-2;
    const rng = new Rng(7, 2);
    for (const name of ['fc.weight', 'fc.bias', 'layers.0.weight_hh_l0', 'layers.0.weight_ih_l0', 'layers.0.bias_hh_l0', 'conv.15.weight', 'conv.15.bias', 'conv.12.weight', 'conv.6.weight', 'conv.0.weight']) {
      const p = byName.get(name)!;
      const g = Float64Array.from(p.grad);
      const norm = Math.hypot(...g);
      expect(norm, `${name}: no gradient to check`).toBeGreaterThan(1e-4);
      const random = Float64Array.from(g, () => rng.normal());
      const rnorm = Math.hypot(...random);
      for (const [which, d] of [['gradient', g.map((v) => v / norm)], ['random', random.map((v) => v / rnorm)]] as const) {
        const keep = Float32Array.from(p.data);
        const at = async (s: number) => {
          for (let i = 0; i < keep.length; i++) p.data[i] = keep[i] + s * d[i];
          return (await m.evalBatch(batch)).loss;
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        p.data.set(keep);
        const analytic = g.reduce((acc, v, i) => acc + v * d[i], 0);
        expect(Math.abs(analytic - fd), `${name} along the ${which} direction: analytic ${analytic}, finite differences ${fd}`).toBeLessThan(2e-5 + 0.03 * norm);
      }
    }
  });

  it('draws its dropout from the batch key and keeps the state it is given', async () => {
    const batch = frames(3);
    const m = new GestureClassifier(options({ dropout: 0.5 }));
    const a = await m.trainBatch(batch, { epoch: 0, batch: 0 });
    const b = await m.trainBatch(batch, { epoch: 0, batch: 0 });
    const c = await m.trainBatch(batch, { epoch: 1, batch: 0 });
    expect(b.loss).toBe(a.loss);
    expect(c.loss).not.toBe(a.loss);
    const other = new GestureClassifier(options({ seed: 9 }));
    other.loadState(m.state());
    expect((await other.evalBatch(batch)).loss).toBe((await m.evalBatch(batch)).loss);
    expect(() => other.loadState({})).toThrow(/conv\.0\.weight/);
  });
});
