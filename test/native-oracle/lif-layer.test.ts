// The library's LIF class (src/layers/lif.ts) against the float64 oracle: forward from events and
// from a dense tensor, dense BPTT and S3GD through the class (dW added into w.grad, dx / dxActive,
// dspkRow, the S3GD chain from an upper to a lower layer), the async twins, state and the option
// and argument checks. Decisions are kept MARGIN = 1e-3 from ϑ, b_th and 2ϑ − b_th (as in lif.test.ts).
import { describe, expect, it } from 'vitest';
import { LIF } from '../../src/layers/lif.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import {
  activeMask, entriesOf, lifBackwardDense, lifBackwardS3gd, lifForward, minDecisionDistance, withRow, type LifOptions,
} from '../oracle/lif.js';
import { denseToEvents, findCase, randomSpikes } from '../oracle/lif-cases.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { F32_GEMM } from './tolerances.js';

const MARGIN = 1e-3;
const OPTS: LifOptions = { beta: Math.fround(0.88), threshold: 1, bTh: Math.fround(0.8) };
const B = 5;
const T = 10;
const I = 8;
const H0 = 6;
const H1 = 5;

const c = findCase(77, (seed) => {
  const rng = new Rng(seed, 0x1a7);
  const x = randomSpikes(rng, B * T * I, 0.35);
  const w0 = randomNormal(rng, I * H0, 0.8);
  const w1 = randomNormal(rng, H0 * H1, 0.9);
  const f0 = lifForward(x, w0, { B, T, I, H: H0 }, OPTS);
  const f1 = lifForward(f0.spk, w1, { B, T, I: H0, H: H1 }, OPTS);
  return { x, w0, w1, f0, f1, dspk: randomNormal(rng, B * T * H1), row: randomNormal(rng, B * H1, 0.5) };
}, (k) => [k.f0, k.f1].every((f) => minDecisionDistance(f.mem, OPTS) > MARGIN && f.spk.includes(1) && activeMask(f.mem, OPTS).includes(1)));

function layers(backward: 'dense' | 's3gd'): [LIF, LIF] {
  const common = { beta: OPTS.beta, threshold: OPTS.threshold, bTh: OPTS.bTh, backward };
  const l0 = new LIF({ inputSize: I, hiddenSize: H0, name: 'w1', ...common });
  const l1 = new LIF({ inputSize: H0, hiddenSize: H1, name: 'w2', ...common });
  l0.loadState({ w1: { data: toF32(c.w0), shape: [I, H0] } });
  l1.loadState({ w2: { data: toF32(c.w1), shape: [H0, H1] } });
  return [l0, l1];
}

describe('LIF layer', () => {
  it('forward from events and from a dense tensor gives the oracle spikes', async () => {
    const [l0] = layers('s3gd');
    const fromEvents = l0.forward(denseToEvents(c.x, B, T, I), { training: false });
    const fromDense = await l0.forwardAsync({ data: toF32(c.x), shape: [B, T, I] }, { training: false });
    expect(fromEvents.spk.shape).toEqual([B, T, H0]);
    expect(Array.from(fromEvents.spk.data)).toEqual(Array.from(c.f0.spk));
    expect(Array.from(fromDense.spk.data)).toEqual(Array.from(c.f0.spk));
    expect(fromEvents.saved).toBeNull();
    expect(fromEvents.stats.spikes).toBe(c.f0.spk.reduce((a, v) => a + v, 0));
  });

  it('dense BPTT adds dW into w.grad and returns dx', async () => {
    const [, l1] = layers('dense');
    const f = l1.forward({ data: toF32(c.f0.spk), shape: [B, T, H0] });
    const ref = lifBackwardDense(c.f0.spk, c.w1, c.f1.mem, withRow(c.dspk, c.row, { B, T, H: H1 }), { B, T, I: H0, H: H1 }, OPTS);
    const g = await l1.backwardAsync(f.saved!, { dspk: { data: toF32(c.dspk), shape: [B, T, H1] }, dspkRow: toF32(c.row) });
    assertAllClose(l1.w.grad, ref.dw, F32_GEMM, 'dW');
    assertAllClose(g.dx!.data, ref.dx, F32_GEMM, 'dx');
    expect(g.dx!.shape).toEqual([B, T, H0]);
    l1.backward(f.saved!, { dspk: { data: toF32(c.dspk), shape: [B, T, H1] }, dspkRow: toF32(c.row), needInputGrad: false });
    assertAllClose(l1.w.grad, Float64Array.from(ref.dw, (v) => 2 * v), F32_GEMM, 'dW added twice');
  });

  it('S3GD chain: the upper layer\'s dxActive is the lower layer\'s dspkActive', () => {
    const [l0, l1] = layers('s3gd');
    const f0 = l0.forward(denseToEvents(c.x, B, T, I));
    const f1 = l1.forward(f0.spk);
    const lowerEntries = entriesOf(activeMask(c.f0.mem, OPTS));
    const ref1 = lifBackwardS3gd(c.f0.spk, c.w1, c.f1.mem, withRow(c.dspk, c.row, { B, T, H: H1 }), { B, T, I: H0, H: H1 }, OPTS, lowerEntries);
    const g1 = l1.backward(f1.saved!, { dspk: { data: toF32(c.dspk), shape: [B, T, H1] }, dspkRow: toF32(c.row), lower: f0.saved });
    assertAllClose(l1.w.grad, ref1.dw, F32_GEMM, 'w2');
    assertAllClose(g1.dxActive!, ref1.dxActive!, F32_GEMM, 'dxActive');
    expect(g1.stats.lowerActive).toBe(lowerEntries.length);
    const dense0 = new Float64Array(B * T * H0);
    lowerEntries.forEach((e, n) => (dense0[e] = g1.dxActive![n]));
    const row0 = randomNormal(new Rng(3), B * H0, 0.2);
    const ref0 = lifBackwardS3gd(c.x, c.w0, c.f0.mem, withRow(dense0, row0, { B, T, H: H0 }), { B, T, I, H: H0 }, OPTS, null);
    const g0 = l0.backward(f0.saved!, { dspkActive: g1.dxActive, dspkRow: toF32(row0), needInputGrad: false });
    assertAllClose(l0.w.grad, ref0.dw, F32_GEMM, 'w1');
    expect(g0.dx).toBeNull();
    expect(g0.dxActive).toBeNull();
  });

  it('checks its options and arguments, naming them', () => {
    expect(() => new LIF({ inputSize: 0, hiddenSize: 3 })).toThrow(/inputSize/);
    expect(() => new LIF({ inputSize: 2, hiddenSize: 3, beta: 1 })).toThrow(/beta/);
    expect(() => new LIF({ inputSize: 2, hiddenSize: 3, beta: 0.9, tauMem: 10 })).toThrow(/beta or tauMem/);
    expect(new LIF({ inputSize: 2, hiddenSize: 3, tauMem: 20, dt: 2 }).beta).toBeCloseTo(Math.exp(-0.1), 15);
    expect(() => new LIF({ inputSize: 2, hiddenSize: 3, bTh: 1 })).toThrow(/bTh/);
    expect(() => new LIF({ inputSize: 2, hiddenSize: 3, backward: 'sparse' as 'dense' })).toThrow(/backward/);
    expect(() => new LIF({ inputSize: 2, hiddenSize: 3, init: 'xavier' as 'normal' })).toThrow(/init/);
    const [l0, l1] = layers('dense');
    expect(() => l0.forward({ ...denseToEvents(c.x, B, T, I), C: I + 1 })).toThrow(/C = 9/);
    expect(() => l0.forward({ data: new Float32Array(B * T * 3), shape: [B, T, 3] })).toThrow(/input/);
    const f = l1.forward({ data: toF32(c.f0.spk), shape: [B, T, H0] });
    expect(() => l1.backward(f.saved!, { dspkActive: new Float32Array(3) })).toThrow(/dspkActive needs/);
    expect(() => l1.backward(f.saved!, { dspkRow: new Float32Array(3) })).toThrow(/dspkRow must have/);
    expect(Object.keys(l0.state())).toEqual(['w1']);
  });
});
