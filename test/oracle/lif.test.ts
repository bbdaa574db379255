// Self-tests of the LIF / S3GD oracle (lif.ts): hand-worked forward values (delay, reset by
// subtraction, H(0) = 0), the S3GD identity (S3GD from its definition == dense BPTT with the
// surrogate masked to the active set), and central differences of the dense path through the
// smooth stand-in of lif.ts (spk = spk_ref + S(mem − ϑ) − S(mem_ref − ϑ), S(u) = u/(100|u| + 1),
// the reset fixed at spk_ref: S' is exactly the surrogate, so dense BPTT is that forward's exact
// gradient, and at the reference point its values are the binary network's), of the readout (all
// four reductions), of the regulariser (both branches), and of a whole two-layer network.
//
// Finite-difference step: the stand-in's third derivative reaches 6·10⁴ (at u = 0), so the
// default h = 1e-5 would leave a truncation error of h²·6e4/6 ≈ 1e-6, as large as FD_TOL. h = 1e-6
// brings it to 1e-8 while the rounding error stays ~eps·|f|/h ≈ 2e-10·|f|.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from './compare.js';
import { dot, FD_TOL, numericalGradient } from './grad-check.js';
import {
  activeMask, entriesOf, lifBackwardDense, lifBackwardS3gd, lifForward, minDecisionDistance, minMaxGap, readoutBackward,
  readoutForward, regularizerKinkDistance, spikeCountRegularizer, spikingNetwork, surrogate,
  type LifDims, type LifOptions, type ReadoutReduce, type SpikeRegularizer, type SpikingNetOptions,
} from './lif.js';
import { findCase, randomSpikes } from './lif-cases.js';
import { randomNormal } from './random.js';

const H_FD = 1e-6;
const OPTS: LifOptions = { beta: 0.8, threshold: 1, bTh: 0.8 };
/** decisions kept this far from ϑ, b_th, 2ϑ − b_th: FD steps (1e-6) never flip one */
const MARGIN = 1e-3;

interface LayerCase {
  d: LifDims;
  x: Float64Array;
  w: Float64Array;
  c: Float64Array;
  mem: Float64Array;
  spk: Float64Array;
}

function layerCase(d: LifDims, o: LifOptions, seed0: number): LayerCase {
  return findCase(seed0, (seed) => {
    const rng = new Rng(seed, 0x11f);
    const x = randomSpikes(rng, d.B * d.T * d.I, 0.4);
    const w = randomNormal(rng, d.I * d.H, 0.7);
    const c = randomNormal(rng, d.B * d.T * d.H);
    const f = lifForward(x, w, d, o);
    return { d, x, w, c, ...f };
  }, (k) => minDecisionDistance(k.mem, o) > MARGIN && k.spk.some((v) => v === 1) && activeMask(k.mem, o).some((v) => v === 1));
}

describe('oracle LIF forward', () => {
  it('delays by one step, resets by subtraction and does not fire at exactly ϑ', () => {
    // β = 0.5, w = 0.7, x = 1,1,1,1: mem_1 = 0.7; mem_2 = 0.35 + 0.7 = 1.05 → spike; mem_3 = 0.525 + 0.7 − 1 = 0.225
    const d = { B: 1, T: 4, I: 1, H: 1 };
    const f = lifForward(Float64Array.of(1, 1, 1, 1), Float64Array.of(0.7), d, { beta: 0.5, threshold: 1, bTh: 0.8 });
    expect(Array.from(f.mem).map((v) => +v.toFixed(12))).toEqual([0, 0.7, 1.05, 0.225]);
    expect(Array.from(f.spk)).toEqual([0, 0, 1, 0]);
    // mem exactly ϑ: H(0) = 0
    const g = lifForward(Float64Array.of(1, 0, 0), Float64Array.of(1), { B: 1, T: 3, I: 1, H: 1 }, { beta: 0.5, threshold: 1, bTh: 0.8 });
    expect(Array.from(g.mem)).toEqual([0, 1, 0.5]);
    expect(Array.from(g.spk)).toEqual([0, 0, 0]);
  });

  it('keeps batch rows apart', () => {
    const d = { B: 3, T: 5, I: 4, H: 3 };
    const k = layerCase(d, OPTS, 10);
    for (let b = 0; b < d.B; b++) {
      const one = lifForward(k.x.subarray(b * d.T * d.I, (b + 1) * d.T * d.I), k.w, { ...d, B: 1 }, OPTS);
      expect(Array.from(one.mem)).toEqual(Array.from(k.mem.subarray(b * d.T * d.H, (b + 1) * d.T * d.H)));
    }
  });
});

describe('oracle S3GD', () => {
  it.each([
    { B: 2, T: 6, I: 5, H: 4, seed: 100 },
    { B: 3, T: 9, I: 3, H: 6, seed: 200 },
    { B: 1, T: 12, I: 7, H: 2, seed: 300 },
  ])('equals dense BPTT with the surrogate masked to the active set (B=$B T=$T I=$I H=$H)', ({ seed, ...d }) => {
    const k = layerCase(d, OPTS, seed);
    const rng = new Rng(seed, 7);
    const lower = entriesOf(Uint8Array.from({ length: d.B * d.T * d.I }, () => (rng.uniform() < 0.3 ? 1 : 0)));
    const s = lifBackwardS3gd(k.x, k.w, k.mem, k.c, d, OPTS, lower);
    const masked = lifBackwardDense(k.x, k.w, k.mem, k.c, d, OPTS, activeMask(k.mem, OPTS));
    assertAllClose(s.dw, masked.dw, 1e-12, 'dW');
    assertAllClose(s.dxActive!, Float64Array.from(lower, (e) => masked.dx[e]), 1e-12, 'dx at the lower active entries');
    // the mask matters: plain dense BPTT differs (so the identity is not a tautology)
    const dense = lifBackwardDense(k.x, k.w, k.mem, k.c, d, OPTS);
    expect(() => assertAllClose(s.dw, dense.dw, 1e-3, 'dense')).toThrow();
  });

  it('has no gradient without active entries', () => {
    const d = { B: 1, T: 5, I: 2, H: 2 };
    const x = Float64Array.of(1, 0, 0, 1, 1, 1, 0, 0, 1, 0);
    const w = Float64Array.of(0.1, -0.2, 0.05, 0.3); // membranes stay below 0.8
    const f = lifForward(x, w, d, OPTS);
    const s = lifBackwardS3gd(x, w, f.mem, new Float64Array(10).fill(1), d, OPTS, Int32Array.of(0, 3, 7));
    expect(s.active.length).toBe(0);
    expect(Array.from(s.dw)).toEqual([0, 0, 0, 0]);
    expect(Array.from(s.dxActive!)).toEqual([0, 0, 0]);
  });
});

describe('oracle LIF dense BPTT against finite differences of the smooth stand-in', () => {
  it.each([
    { B: 2, T: 6, I: 4, H: 3, seed: 400 },
    { B: 3, T: 8, I: 3, H: 5, seed: 500 },
  ])('dW and dx (B=$B T=$T I=$I H=$H)', ({ seed, ...d }) => {
    const k = layerCase(d, OPTS, seed);
    const ref = { mem: k.mem, spk: k.spk };
    const smooth = lifForward(k.x, k.w, d, OPTS, ref);
    // at the reference point the stand-in is the binary forward
    expect(Array.from(smooth.mem)).toEqual(Array.from(k.mem));
    expect(Array.from(smooth.spk)).toEqual(Array.from(k.spk));
    const loss = () => dot(lifForward(k.x, k.w, d, OPTS, ref).spk, k.c);
    const g = lifBackwardDense(k.x, k.w, k.mem, k.c, d, OPTS);
    assertAllClose(g.dw, numericalGradient(loss, k.w, H_FD), FD_TOL, 'dW');
    assertAllClose(g.dx, numericalGradient(loss, k.x, H_FD), FD_TOL, 'dx');
  });

  it('uses the SuperSpike surrogate 1/(100|v − ϑ| + 1)²', () => {
    expect(surrogate(1, 1)).toBe(1);
    expect(surrogate(1.2, 1)).toBeCloseTo(1 / 441, 15);
    expect(surrogate(0.99, 1.0)).toBeCloseTo(0.25, 12);
  });
});

describe('oracle leaky readout', () => {
  const d = { B: 3, T: 7, H: 4, O: 3 };
  it.each(['max', 'sum', 'mean', 'last'] as ReadoutReduce[])('%s: dW and dspk against finite differences', (reduce) => {
    const { spk, w, g } = findCase(600, (seed) => {
      const rng = new Rng(seed, 0x2ad);
      return { spk: randomSpikes(rng, d.B * d.T * d.H, 0.5), w: randomNormal(rng, d.H * d.O), g: randomNormal(rng, d.B * d.O) };
    }, (c) => reduce !== 'max' || minMaxGap(readoutForward(c.spk, c.w, d, 0.7, 'max'), d) > 1e-3);
    const f = readoutForward(spk, w, d, 0.7, reduce);
    const r = readoutBackward(spk, w, f, g, d, 0.7, reduce);
    const loss = () => dot(readoutForward(spk, w, d, 0.7, reduce).logits, g);
    assertAllClose(r.dw, numericalGradient(loss, w), FD_TOL, 'dW');
    assertAllClose(r.dspk, numericalGradient(loss, spk), FD_TOL, 'dspk');
  });

  it('starts at 0, lags one step and reduces over the T values', () => {
    // H = O = 1, w = 2, β_r = 0.5, spk = 1,0,1,0: out = 0, 0.5·0 + 0.5·2 = 1, 0.5, 0.25 + 1 = 1.25
    const dd = { B: 1, T: 4, H: 1, O: 1 };
    const spk = Float64Array.of(1, 0, 1, 0);
    const w = Float64Array.of(2);
    expect(Array.from(readoutForward(spk, w, dd, 0.5, 'max').out)).toEqual([0, 1, 0.5, 1.25]);
    expect(readoutForward(spk, w, dd, 0.5, 'max').logits[0]).toBe(1.25);
    expect(readoutForward(spk, w, dd, 0.5, 'sum').logits[0]).toBe(2.75);
    expect(readoutForward(spk, w, dd, 0.5, 'mean').logits[0]).toBe(2.75 / 4);
    expect(readoutForward(spk, w, dd, 0.5, 'last').logits[0]).toBe(1.25);
    // with no spikes the maximum is the first of the equal zeros: no gradient anywhere
    const none = readoutForward(new Float64Array(4), w, dd, 0.5, 'max');
    expect(none.argmax[0]).toBe(0);
    expect(Array.from(readoutBackward(new Float64Array(4), w, none, Float64Array.of(1), dd, 0.5, 'max').dspk)).toEqual([0, 0, 0, 0]);
  });
});

describe('oracle spike-count regulariser', () => {
  it('computes the reference formula on a hand-worked example', () => {
    // B = 1, T = 2, H = 2, spk = [[1, 0], [1, 0]]: Σ/H = 1 → upper 0.5·(1 − 0.5)² = 0.125;
    // neuron 1 has no spike: lower (2/2)·(0.1 − 0)² = 0.01
    const r = spikeCountRegularizer(Float64Array.of(1, 0, 1, 0), { B: 1, T: 2, H: 2 }, { lambdaUp: 0.5, fUp: 0.5, pUp: 2, lambdaLow: 2, fLow: 0.1 });
    expect(r.loss).toBeCloseTo(0.135, 14);
    // d/dspk: upper 0.5·2·0.5/2 = 0.25 for both; lower −2·(2/2)·0.1 = −0.2 for neuron 1
    expect(Array.from(r.dspkRow).map((v) => +v.toFixed(12))).toEqual([0.25, 0.05]);
  });

  it.each([
    { reg: { lambdaUp: 0.06, fUp: 0.3, pUp: 1, lambdaLow: 100, fLow: 1e-3 }, seed: 700 },
    { reg: { lambdaUp: 0.4, fUp: 0.2, pUp: 2.5, lambdaLow: 3, fLow: 0.9 }, seed: 800 },
  ])('matches finite differences over real-valued spikes (p_up = $reg.pUp)', ({ reg, seed }) => {
    const d = { B: 3, T: 4, H: 5 };
    const spk = findCase(seed, (s) => {
      const rng = new Rng(s, 0x3e9);
      return Float64Array.from({ length: d.B * d.T * d.H }, () => (rng.uniform() < 0.6 ? 0 : rng.uniform() * 0.5));
    }, (x) => regularizerKinkDistance(x, d, reg as SpikeRegularizer) > 1e-4
      && spikeCountRegularizer(x, d, { ...reg, lambdaLow: 0 }).loss > 0 && spikeCountRegularizer(x, d, { ...reg, lambdaUp: 0 }).loss > 0);
    const r = spikeCountRegularizer(spk, d, reg);
    const fd = numericalGradient(() => spikeCountRegularizer(spk, d, reg).loss, spk);
    const broadcast = new Float64Array(spk.length);
    for (let b = 0; b < d.B; b++) for (let t = 0; t < d.T; t++) for (let j = 0; j < d.H; j++) broadcast[(b * d.T + t) * d.H + j] = r.dspkRow[b * d.H + j];
    assertAllClose(broadcast, fd, FD_TOL, 'dspk');
    // both terms take part
    expect(spikeCountRegularizer(spk, d, { ...reg, lambdaLow: 0 }).loss).toBeGreaterThan(0);
    expect(spikeCountRegularizer(spk, d, { ...reg, lambdaUp: 0 }).loss).toBeGreaterThan(0);
  });
});

describe('oracle spiking network', () => {
  const B = 3;
  const T = 8;
  const sizes = [5, 6, 4, 3];
  const labels = Int32Array.of(0, 2, 1);

  /** extra: a further condition on the case */
  function netCase(o: SpikingNetOptions, seed0: number, extra: (out: ReturnType<typeof spikingNetwork>) => boolean = () => true) {
    return findCase(seed0, (seed) => {
      const rng = new Rng(seed, 0x4e7);
      const x = randomSpikes(rng, B * T * sizes[0], 0.5);
      const ws = [randomNormal(rng, 5 * 6, 0.8), randomNormal(rng, 6 * 4, 0.9), randomNormal(rng, 4 * 3)];
      return { x, ws, out: spikingNetwork(x, ws, sizes, B, T, labels, o, 'dense') };
    }, (c) => c.out.layers.every((f) => minDecisionDistance(f.mem, o) > MARGIN && f.spk.some((v) => v === 1) && activeMask(f.mem, o).some((v) => v === 1))
      && (o.reduce !== 'max' || minMaxGap(c.out.readout, { B, T, H: 4, O: 3 }) > MARGIN) && extra(c.out));
  }

  it.each(['max', 'sum'] as ReadoutReduce[])('S3GD equals masked dense BPTT end to end (%s readout, regulariser on)', (reduce) => {
    const o: SpikingNetOptions = { ...OPTS, betaReadout: 0.7, reduce, regularizer: { lambdaUp: 0.06, fUp: 0.45, pUp: 1, lambdaLow: 100, fLow: 1e-3 } };
    const c = netCase(o, 900);
    const s = spikingNetwork(c.x, c.ws, sizes, B, T, labels, o, 's3gd');
    const m = spikingNetwork(c.x, c.ws, sizes, B, T, labels, o, 'masked');
    expect(s.loss).toBe(m.loss);
    s.grads.forEach((g, l) => assertAllClose(g, m.grads[l], 1e-12, `w${l + 1}`));
    expect(() => assertAllClose(s.grads[0], c.out.grads[0], 1e-3, 'dense w1')).toThrow();
  });

  it.each([
    { reduce: 'max' as ReadoutReduce, pUp: 1 },
    { reduce: 'sum' as ReadoutReduce, pUp: 2 },
    { reduce: 'mean' as ReadoutReduce, pUp: 1 },
    { reduce: 'last' as ReadoutReduce, pUp: 1.5 },
  ])('dense BPTT matches finite differences of the stand-in network ($reduce readout, p_up = $pUp)', ({ reduce, pUp }) => {
    const reg = { lambdaUp: 0.06, fUp: 0.3, pUp, lambdaLow: 100, fLow: 1e-3 };
    const o: SpikingNetOptions = { ...OPTS, betaReadout: 0.7, reduce, regularizer: reg };
    // the regulariser's kinks far from the FD steps (f_low − 0 = 1e-3 is the nearest there can be)
    const c = netCase(o, 1000, (out) => out.layers.every((f, l) => regularizerKinkDistance(f.spk, { B, T, H: sizes[l + 1] }, reg) > 1e-4));
    const refs = c.out.layers;
    const smooth = spikingNetwork(c.x, c.ws, sizes, B, T, labels, o, 'dense', refs);
    expect(smooth.loss).toBe(c.out.loss); // the stand-in is the real network at the reference point
    c.ws.forEach((w, l) => {
      const fd = numericalGradient(() => spikingNetwork(c.x, c.ws, sizes, B, T, labels, o, 'dense', refs).loss, w, H_FD);
      assertAllClose(c.out.grads[l], fd, FD_TOL, `w${l + 1}`);
    });
    // both regulariser terms take part in at least one layer
    expect(c.out.regLoss.every((r) => r > 0)).toBe(true);
  });
});
