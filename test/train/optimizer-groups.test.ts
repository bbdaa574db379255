// The Optimizer class (src/train/optimizer.ts): parameter groups (per-group learning-rate scale
// and weight decay, first match wins, unmatched parameters take the spec's settings), the
// thresholds' thr_lr_scale as buildOptimizer appends it, and tied weights (one slot).
// Hand values in the comments; the update arithmetic itself is tested in optim.test.ts.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { makeParameter, type Parameter } from '../../src/layers/parameters.js';
import type { SequenceClassifier } from '../../src/models/sequence-classifier.js';
import { THRESHOLD_PARAMS, buildOptimizer } from '../../src/pipeline/model-from-config.js';
import { Optimizer, type OptimizerSpec } from '../../src/train/optimizer.js';
import { assertAllClose } from '../oracle/compare.js';
import { F32_ELEMENTWISE } from '../native-oracle/tolerances.js';

const sgd = (weightDecay: number): OptimizerSpec => ({
  type: 'sgd', lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay, momentum: 0, dampening: 0, nesterov: false,
});
const adam = (type: 'adam' | 'adamw', weightDecay: number): OptimizerSpec => ({
  type, lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay, momentum: 0, dampening: 0, nesterov: false,
});

/** A parameter with data [1, −2] and gradient [0.5, 0.25]. */
function param(name: string, data = [1, -2], grad = [0.5, 0.25]): Parameter {
  const p = makeParameter(name, [data.length]);
  p.data.set(data);
  p.grad.set(grad);
  return p;
}

describe('Optimizer parameter groups', () => {
  it('SGD: per-group lr scale and weight decay, first match wins, unmatched parameters use the spec', () => {
    const ps = ['rnn.weight', 'readout.weight', 'readout.bias', 'other'].map((n) => param(n));
    const opt = new Optimizer(ps, sgd(0.01), [
      { match: '^rnn\\.', lrScale: 0.5, weightDecay: 0.2 },
      { match: 'weight$', lrScale: 2 }, // rnn.weight matches too, but the first group has it
      { match: '^readout\\.bias$', lrScale: 1, weightDecay: 0 }, // an explicit 0 is honoured
    ]);
    opt.step(0.1);
    // p ← p − lr·scale·(g + wd·p), p = [1, −2], g = [0.5, 0.25]
    // rnn.weight:     d = [0.5 + 0.2, 0.25 − 0.4] = [0.7, −0.15];   p = [1 − 0.05·0.7, −2 + 0.05·0.15] = [0.965, −1.9925]
    // readout.weight: d = [0.5 + 0.01, 0.25 − 0.02] = [0.51, 0.23]; p = [1 − 0.2·0.51, −2 − 0.2·0.23] = [0.898, −2.046]
    // readout.bias:   d = g;                                         p = [1 − 0.05, −2 − 0.025] = [0.95, −2.025]
    // other:          d = [0.51, 0.23];                              p = [1 − 0.051, −2 − 0.023] = [0.949, −2.023]
    const want: Record<string, number[]> = {
      'rnn.weight': [0.965, -1.9925],
      'readout.weight': [0.898, -2.046],
      'readout.bias': [0.95, -2.025],
      other: [0.949, -2.023],
    };
    for (const p of ps) assertAllClose(p.data, want[p.name], F32_ELEMENTWISE, p.name);
  });

  it('AdamW: a group weight decay is decoupled and scaled by the group lr', () => {
    const ps = [param('a'), param('b')];
    const opt = new Optimizer(ps, adam('adamw', 0.01), [{ match: '^a$', lrScale: 3, weightDecay: 0.5 }]);
    opt.step(0.01);
    // step 1 with m = v = 0: the Adam direction is g/(|g| + eps) = 1 − 1e-8/|g| per element
    // a: lr' = 0.03;  p = p·(1 − 0.03·0.5) − 0.03·[1 − 2e-8, 1 − 4e-8] = [0.985 − 0.0299999994, −1.97 − 0.0299999988]
    // b: lr' = 0.01;  p = p·(1 − 0.01·0.01) − 0.01·[1 − 2e-8, 1 − 4e-8] = [0.9999 − 0.0099999998, −1.9998 − 0.0099999996]
    assertAllClose(ps[0].data, [0.9550000006, -1.9999999988], F32_ELEMENTWISE, 'a');
    assertAllClose(ps[1].data, [0.9899000002, -2.0097999996], F32_ELEMENTWISE, 'b');
  });

  it('a parameter passed twice (tied weights) has one slot and is updated once per step', () => {
    const w = param('embedding.weight');
    const opt = new Optimizer([w, param('x'), w], sgd(0), []);
    opt.step(0.1);
    // once: [1 − 0.05, −2 − 0.025]; twice would be [0.9, −2.05]
    assertAllClose(w.data, [0.95, -2.025], F32_ELEMENTWISE, 'tied');
    const adamOpt = new Optimizer([w, w], adam('adam', 0), []);
    expect(Object.keys(adamOpt.stateTensors())).toEqual(['embedding.weight.m', 'embedding.weight.v']);
    adamOpt.step(0.01);
    // one Adam step moves each element by lr·g/(|g| + eps) ≈ 0.01, not 0.02
    assertAllClose(w.data, [0.95 - 0.01 * (1 - 2e-8), -2.025 - 0.01 * (1 - 4e-8)], F32_ELEMENTWISE, 'tied adam');
    // the one slot's moments saw the gradient once: m = 0.1·g, v = 0.001·g²
    const st = adamOpt.stateTensors();
    assertAllClose(st['embedding.weight.m'].data, [0.05, 0.025], F32_ELEMENTWISE, 'm');
  });
});

describe('buildOptimizer: param_groups and thr_lr_scale from a config', () => {
  const config = (train: string) =>
    parseConfigText(`
name: groups
data: { dataset: mnist, view: smnist-rows }
model: { rnn: { type: egru, hidden_size: 4, num_layers: 2 } }
train:
  epochs: 1
  batch_size: 8
  optimizer: { type: adam, lr: 0.01 }
${train}`);
  const names = ['rnn.rnns.0.kernel', 'rnn.rnns.0.thr', 'rnn.rnns.1.thr', 'rnn.rnns.1.kernel', 'rnn.kthr', 'readout.weight', 'readout.bias'];
  // A model stand-in: buildOptimizer only asks for the parameters.
  const modelOf = (ps: Parameter[]) => ({ parameters: () => ps }) as unknown as SequenceClassifier;

  /** The learning-rate multiplier each parameter got, read off one Adam step from m = v = 0. */
  function scales(train: string): Record<string, number> {
    const cfg = config(train);
    const ps = names.map((n) => param(n, [0, 0], [0.25, -0.25]));
    const opt = buildOptimizer(cfg, modelOf(ps));
    opt.step(cfg.train.optimizer.lr);
    // Δp = −lr·scale·g/(|g| + eps) = ∓lr·scale·(1 − 4e-8): the scale to float32 accuracy
    return Object.fromEntries(ps.map((p) => [p.name, -p.data[0] / (0.01 * (1 - 4e-8))]));
  }

  it('THRESHOLD_PARAMS matches whole …thr name components only', () => {
    const re = new RegExp(THRESHOLD_PARAMS);
    expect(['thr', 'rnn.thr', 'rnn.rnns.3.thr'].every((n) => re.test(n))).toBe(true);
    expect(['rnn.kthr', 'rnn.thr.x', 'rnn.thresh'].some((n) => re.test(n))).toBe(false);
  });

  it('each parameter gets its group scale; thr_lr_scale applies to thresholds no user group matched', () => {
    const s = scales(`  param_groups:
    - { match: "^readout\\\\.", lr_scale: 0.1 }
    - { match: "^rnn\\\\.rnns\\\\.1\\\\.", lr_scale: 2 }
  thr_lr_scale: 0.5
`);
    const want: Record<string, number> = {
      'rnn.rnns.0.kernel': 1, // no group
      'rnn.rnns.0.thr': 0.5, // thr_lr_scale
      'rnn.rnns.1.thr': 2, // the user's group comes first and wins over thr_lr_scale
      'rnn.rnns.1.kernel': 2,
      'rnn.kthr': 1, // not a threshold
      'readout.weight': 0.1,
      'readout.bias': 0.1,
    };
    for (const n of names) expect(Math.abs(s[n] - want[n]), `${n}: scale ${s[n]}, expected ${want[n]}`).toBeLessThanOrEqual(1e-6 * want[n]);
  });

  it('without param_groups and thr_lr_scale every parameter steps at the optimizer lr', () => {
    const s = scales('');
    for (const n of names) expect(Math.abs(s[n] - 1), n).toBeLessThanOrEqual(1e-6);
  });

  it('a group weight_decay replaces the optimizer one for its parameters only', () => {
    const cfg = config(`  param_groups:
    - { match: "^readout\\\\.", weight_decay: 0.5 }
`);
    const cfgL2 = { ...cfg, train: { ...cfg.train, optimizer: { ...cfg.train.optimizer, weight_decay: 0.1 } } } as typeof cfg;
    // Adam with L2: g' = g + wd·p. With p = 1, g = 0 the first step moves p by −lr·sign(wd)·wd/(wd + eps) ≈ −lr
    // whatever wd is, so use the moment m = (1 − β1)·wd·p instead: 0.05 for the group, 0.01 for the rest.
    const ps = ['readout.weight', 'rnn.kernel'].map((n) => param(n, [1], [0]));
    const opt = buildOptimizer(cfgL2, modelOf(ps));
    opt.step(0.01);
    const st = opt.stateTensors();
    assertAllClose(st['readout.weight.m'].data, [0.05], F32_ELEMENTWISE, 'group wd 0.5');
    assertAllClose(st['rnn.kernel.m'].data, [0.01], F32_ELEMENTWISE, 'optimizer wd 0.1');
  });
});
