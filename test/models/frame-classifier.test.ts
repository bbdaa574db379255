// The FrameClassifier (DeltaRNN's keyword spotter) against float64 oracles composed by hand: a
// recurrent layer (GRU, or DeltaGRU at Θ = 0 and at Θ > 0), the classifier applied to every frame,
// cross-entropy averaged over all T·N frames of the padded batch (padding frames included, as the
// reference) and every parameter's gradient. Also the clip readout (the last frame whose argmax is
// not silence), qc (the classifier output in Q3.5 with a straight-through gradient that is zero
// where a logit saturated), the after-epoch weight quantisation (qw, qcw), the split of the
// training and evaluation sparsity meters, and the parameter names a reference checkpoint uses.
import { describe, expect, it } from 'vitest';
import { clipPredictions } from '../../src/models/clip-readout.js';
import { OutputQuantizer } from '../../src/models/fixed-point.js';
import { FrameClassifier, type FrameClassifierOptions } from '../../src/models/frame-classifier.js';
import type { Batch } from '../../src/data/batch-source.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { softmaxCrossEntropy } from '../oracle/cross-entropy.js';
import { deltaGruBackward, deltaGruForward } from '../oracle/delta-gru.js';
import { passThrough, quantize } from '../oracle/fixed-point.js';
import { gruBackward, gruForward, type GruParams } from '../oracle/gru.js';
import { linearBackward, linearForward } from '../oracle/linear.js';
import { randomNormal, toF32, toF64 } from '../oracle/random.js';
import { centredTheta, deltaInputs, deltaMagnitudes, thresholdMargin } from '../native-oracle/kernels.js';
import { F32_GEMM, F32_SOFTMAX } from '../native-oracle/tolerances.js';

const T = 6, N = 3, C = 3, H = 5, K = 4;
/** Frames of each clip; the rest of the batch's T frames is padding (x = 0, target silence). */
const LENGTHS = [6, 4, 2];
const SILENCE = 0;
const d = { T, N, C, H };
const dl = { M: T * N, I: H, O: K };

const gruSpec = { type: 'gru' as const, hiddenSizes: [H], options: {} };
const deltaSpec = (thetaX: number, thetaH: number) => ({ type: 'deltagru' as const, hiddenSizes: [H], options: { thetaX, thetaH } });

function model(rnn: FrameClassifierOptions['rnn'], extra: Partial<FrameClassifierOptions> = {}, seed = 3): FrameClassifier {
  return new FrameClassifier({ inputSize: C, numClasses: K, seed, rnn, ...extra });
}

/** x with padding frames zeroed and per-frame targets: random classes inside each clip (silence among them), silence after it. */
function frames(rng: Rng, x: Float64Array): { x: Float64Array; targets: Int32Array } {
  const targets = new Int32Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      if (t < LENGTHS[n]) targets[t * N + n] = rng.int(K);
      else x.fill(0, (t * N + n) * C, (t * N + n + 1) * C);
    }
  }
  // Every class, silence included, occurs inside a clip: the loss sees all of them.
  targets[0 * N + 0] = 0;
  targets[1 * N + 0] = 1;
  targets[2 * N + 0] = 2;
  targets[3 * N + 0] = 3;
  return { x, targets };
}

/**
 * For the searches of a case with some property: random clips from seeds 1, 2, … below `seeds`
 * (rng stream `stream`, so each search has its own cases) and the GRU oracle's run on each.
 */
function* gruTrials(p: GruParams, stream: number, seeds: number) {
  for (let seed = 1; seed < seeds; seed++) {
    const rng = new Rng(seed, stream);
    const { x, targets } = frames(rng, randomNormal(rng, T * N * C));
    yield { x, targets, fwd: gruForward(p, x, null, d) };
  }
}

function paramsOf(m: FrameClassifier) {
  const s = m.state();
  const w = (name: string) => toF64(s[name].data);
  const p: GruParams = { weightIh: w('rnn.weight_ih_l0'), weightHh: w('rnn.weight_hh_l0'), biasIh: w('rnn.bias_ih_l0'), biasHh: w('rnn.bias_hh_l0') };
  return { p, clWeight: w('cl.weight'), clBias: w('cl.bias') };
}

/** An independent clip readout in float64: the last frame (scanning every frame) whose first argmax is not silence. */
function oracleClips(logits: Float64Array, silence = SILENCE, rule: 'last' | 'first' | 'final-frame' = 'last'): number[] {
  const out: number[] = [];
  for (let n = 0; n < N; n++) {
    const argmaxes: number[] = [];
    for (let t = 0; t < T; t++) {
      const row = Array.from(logits.subarray((t * N + n) * K, (t * N + n + 1) * K));
      argmaxes.push(row.indexOf(Math.max(...row)));
    }
    const speech = argmaxes.filter((a) => a !== silence);
    if (rule === 'final-frame') out.push(argmaxes[T - 1]);
    else out.push(speech.length === 0 ? silence : rule === 'last' ? speech[speech.length - 1] : speech[0]);
  }
  return out;
}

/** The frame-wise head: classifier on every frame, mean cross-entropy over all T·N frames, gradients. */
function head(seq: Float64Array, clWeight: Float64Array, clBias: Float64Array, targets: Int32Array) {
  const logits = linearForward(seq, clWeight, clBias, dl);
  const ce = softmaxCrossEntropy(logits, targets, T * N, K);
  const g = linearBackward(seq, clWeight, ce.dlogits, dl);
  return { logits, ce, g };
}

/** Clip labels that make exactly two of the three clips correct under `predicted`. */
function labelsFor(predicted: number[]): Int32Array {
  return Int32Array.from(predicted, (p, n) => (n === 1 ? (p + 1) % K : p));
}

function grads(m: FrameClassifier): Record<string, Float32Array> {
  return Object.fromEntries(m.parameters().map((q) => [q.name, q.grad]));
}

function expectGrads(m: FrameClassifier, cl: { dWeight: Float64Array; dBias: Float64Array }, rnn: { dWeightIh: Float64Array; dWeightHh: Float64Array; dBiasIh: Float64Array; dBiasHh: Float64Array }) {
  const g = grads(m);
  // cl's gradients sum T·N = 18 products of (softmax − onehot)/TN with the GRU outputs (< 1).
  assertAllClose(g['cl.weight'], cl.dWeight, F32_SOFTMAX, 'cl.weight');
  assertAllClose(g['cl.bias'], cl.dBias, F32_SOFTMAX, 'cl.bias');
  assertAllClose(g['rnn.weight_ih_l0'], rnn.dWeightIh, F32_GEMM, 'weight_ih');
  assertAllClose(g['rnn.weight_hh_l0'], rnn.dWeightHh, F32_GEMM, 'weight_hh');
  assertAllClose(g['rnn.bias_ih_l0'], rnn.dBiasIh, F32_GEMM, 'bias_ih');
  assertAllClose(g['rnn.bias_hh_l0'], rnn.dBiasHh, F32_GEMM, 'bias_hh');
}

/**
 * A GRU case whose clip decisions are unambiguous (every frame's top two logits at least 1e-3
 * apart, so float32 and float64 argmaxes agree) and whose count would differ under the
 * first-non-silence rule and under the final-frame rule, so a count by another rule fails.
 */
function gruCase(m: FrameClassifier) {
  // A classifier with more say than its initial ±1/√H, so the frames' argmaxes vary within a clip.
  for (let i = 0; i < m.cl.weight.data.length; i++) m.cl.weight.data[i] *= 6;
  const { p, clWeight, clBias } = paramsOf(m);
  for (const { x, targets, fwd } of gruTrials(p, 11, 200)) {
    const h = head(fwd.y, clWeight, clBias, targets);
    if (minTopGap(h.logits) < 1e-3) continue;
    const last = oracleClips(h.logits);
    const labels = labelsFor(last);
    const count = (pred: number[]) => pred.filter((v, n) => v === labels[n]).length;
    if (count(oracleClips(h.logits, SILENCE, 'first')) === 2 || count(oracleClips(h.logits, SILENCE, 'final-frame')) === 2) continue;
    return { x, targets, labels, fwd, h, p, batch: { x: { data: toF32(x), shape: [T, N, C] }, labels, targets } satisfies Batch };
  }
  throw new Error('no discriminating case');
}

function minTopGap(logits: Float64Array): number {
  let gap = Infinity;
  for (let r = 0; r < T * N; r++) {
    const row = Array.from(logits.subarray(r * K, (r + 1) * K)).sort((a, b) => b - a);
    gap = Math.min(gap, row[0] - row[1]);
  }
  return gap;
}

describe('FrameClassifier training step vs the oracles', () => {
  it('GRU: frame-wise loss over all T·N frames (padding included), every gradient, clip accuracy', async () => {
    const m = model(gruSpec);
    const c = gruCase(m);
    const g = gruBackward(c.p, c.x, c.fwd.tape, c.h.g.dx, null, d);
    // Gradients left in the buffers from an earlier step must not leak into this one.
    for (const q of m.parameters()) q.grad.fill(7);
    const r = await m.trainBatch(c.batch, { epoch: 0, batch: 0 });
    expect(r.loss).toBeCloseTo(c.h.ce.loss, 5);
    expect(r.correct).toBe(2);
    expectGrads(m, c.h.g, g);
    // The evaluation forward is the same function of the same weights.
    const e = await m.evalBatch(c.batch);
    expect(e.loss).toBeCloseTo(c.h.ce.loss, 5);
    expect(e.correct).toBe(2);
    expect(m.sparsity()).toEqual([]);
    expect(m.evalSparsity()).toEqual([]);
  });

  it('the loss is the mean over every frame: not over the clips\' own frames only', async () => {
    const m = model(gruSpec);
    const c = gruCase(m);
    const r = await m.evalBatch(c.batch);
    // The mean over the unpadded frames alone is another number.
    let own = 0, count = 0;
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        if (t >= LENGTHS[n]) continue;
        const row = c.h.logits.subarray((t * N + n) * K, (t * N + n + 1) * K);
        own += softmaxCrossEntropy(row, [c.targets[t * N + n]], 1, K).loss;
        count++;
      }
    }
    expect(Math.abs(own / count - c.h.ce.loss)).toBeGreaterThan(1e-3);
    expect(r.loss).toBeCloseTo(c.h.ce.loss, 5);
  });

  it('DeltaGRU at Θx = Θh = 0 is the GRU: a GRU state loads strictly and gives the GRU\'s loss and gradients', async () => {
    const gru = model(gruSpec);
    const delta = model(deltaSpec(0, 0));
    const c = gruCase(gru);
    delta.loadState(gru.state());
    const g = gruBackward(c.p, c.x, c.fwd.tape, c.h.g.dx, null, d);
    const r = await delta.trainBatch(c.batch, { epoch: 0, batch: 0 });
    expect(r.loss).toBeCloseTo(c.h.ce.loss, 5);
    expect(r.correct).toBe(2);
    expectGrads(delta, c.h.g, g);
  });

  it('DeltaGRU at Θ > 0: against the DeltaGRU oracle (threshold decisions a margin away)', async () => {
    // As test/native-oracle/delta-gru.test.ts: a native Δ within F32_GEMM of the oracle's stays on its side of Θ.
    const MARGIN = 2 * F32_GEMM;
    const thetaX = 0.3;
    const base = model(gruSpec, {}, 5);
    const { p, clWeight, clBias } = paramsOf(base);
    for (let seed = 1; seed < 100; seed++) {
      const rng = new Rng(seed, 13);
      const { x, targets } = frames(rng, deltaInputs(rng, T, N * C, thetaX, 0.01));
      if (thresholdMargin(deltaMagnitudes(x, deltaGruForward(p, x, d, { thetaX, thetaH: 0 }).tape.xHat, T, N * C), thetaX) < MARGIN) continue;
      // Θh centred in the widest gap among the run's |Δh| near 0.1.
      let best = { theta: 0, margin: -1 };
      for (let i = 0; i < 20; i++) {
        const f = deltaGruForward(p, x, d, { thetaX, thetaH: 0.03 + 0.01 * i });
        const cand = centredTheta(deltaMagnitudes(f.tape.hPrev, f.tape.hHat, T, N * H), 0.03 + 0.01 * i);
        if (cand.margin > best.margin) best = cand;
      }
      if (best.margin < MARGIN) continue;
      const thetaH = best.theta;
      const fwd = deltaGruForward(p, x, d, { thetaX, thetaH });
      expect(thresholdMargin(deltaMagnitudes(x, fwd.tape.xHat, T, N * C), thetaX)).toBeGreaterThanOrEqual(MARGIN);
      expect(thresholdMargin(deltaMagnitudes(fwd.tape.hPrev, fwd.tape.hHat, T, N * H), thetaH)).toBeGreaterThanOrEqual(MARGIN);
      // Both thresholds must zero some deltas (Δh more than the first step's, where h₋₁ = ĥ = 0).
      if (fwd.stats.dxZeros === 0 || fwd.stats.dhZeros <= N * H) continue;
      const h = head(fwd.y, clWeight, clBias, targets);
      if (minTopGap(h.logits) < 1e-3) continue;
      const g = deltaGruBackward(p, fwd.tape, h.g.dx, d);
      const m = model(deltaSpec(thetaX, thetaH));
      m.loadState(base.state());
      const labels = labelsFor(oracleClips(h.logits));
      const r = await m.trainBatch({ x: { data: toF32(x), shape: [T, N, C] }, labels, targets });
      expect(r.loss).toBeCloseTo(h.ce.loss, 5);
      expect(r.correct).toBe(2);
      expectGrads(m, h.g, g);
      const [row] = m.sparsity();
      expect(row.layer).toBe('rnn.0');
      expect(row.family).toBe('deltagru');
      expect(row.deltaXZero).toBeCloseTo(fwd.stats.zeroDx, 12);
      expect(row.deltaHZero).toBeCloseTo(fwd.stats.zeroDh, 12);
      expect(row.macsForward).toBeCloseTo(fwd.stats.macs / N, 9);
      return;
    }
    throw new Error('no case with every threshold decision a margin away');
  });

  it('refuses a batch without per-frame targets (or with targets of another shape), naming the shape', async () => {
    const m = model(gruSpec);
    const x = { data: new Float32Array(T * N * C), shape: [T, N, C] };
    const labels = new Int32Array(N);
    const msg = /FrameClassifier: a batch needs per-frame targets \[T=6, N=3\] \(a frame-labelled dataset such as gscv2\)/;
    await expect(m.trainBatch({ x, labels })).rejects.toThrow(msg);
    await expect(m.evalBatch({ x, labels })).rejects.toThrow(msg);
    await expect(m.trainBatch({ x, labels, targets: new Int32Array(N) })).rejects.toThrow(msg);
  });
});

describe('clip readout', () => {
  /** logits [T, N, K] from each frame's argmax per clip (that class gets 1, the rest 0). */
  function oneHot(argmax: number[][], k = 3): Float32Array {
    const t = argmax[0].length;
    const n = argmax.length;
    const out = new Float32Array(t * n * k);
    argmax.forEach((seq, i) => seq.forEach((a, s) => { out[(s * n + i) * k + a] = 1; }));
    return out;
  }

  it('the last frame whose argmax is not silence decides; silence frames after it (padding) do not', () => {
    // clip 0: speech 1 then 2, then silence (padding); clip 1: 2 then 1; clip 2: silence throughout; clip 3: one frame of 1 first
    const argmax = [[1, 1, 2, 0, 0], [2, 2, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]];
    expect(Array.from(clipPredictions(oneHot(argmax), 5, 4, 3, 0))).toEqual([2, 1, 0, 1]);
    // More padding after the clips leaves every decision as it was.
    const padded = argmax.map((s) => [...s, 0, 0, 0]);
    expect(Array.from(clipPredictions(oneHot(padded), 8, 4, 3, 0))).toEqual([2, 1, 0, 1]);
  });

  it('all silence gives silence, also for another silence class', () => {
    expect(Array.from(clipPredictions(oneHot([[0, 0, 0]]), 3, 1, 3, 0))).toEqual([0]);
    expect(Array.from(clipPredictions(oneHot([[2, 2, 2], [2, 1, 2]]), 3, 2, 3, 2))).toEqual([2, 1]);
  });

  it('ties go to the lower class: a tie with silence (class 0) is silence', () => {
    // one clip, K = 3, T = 3 (time-major, N = 1)
    const logits = Float32Array.from([
      0.2, 0.9, 0.1, // t0: class 1
      0.5, 0.5, 0.1, // t1: tie 0/1 → 0, silence
      0.1, 0.7, 0.7, // t2: tie 1/2 → 1
    ]);
    expect(Array.from(clipPredictions(logits, 3, 1, 3, 0))).toEqual([1]);
    const tieWithSilenceLast = Float32Array.from([0.1, 0.1, 0.8, 0.6, 0.6, 0.6]);
    expect(Array.from(clipPredictions(tieWithSilenceLast, 2, 1, 3, 0))).toEqual([2]);
    // silence = 1: a 1/2 tie is class 1, i.e. silence, so the frame before decides
    expect(Array.from(clipPredictions(Float32Array.from([0.1, 0.2, 0.9, 0.9, 0.2, 0.0, 0.1, 0.7, 0.7]), 3, 1, 3, 1))).toEqual([0]);
  });

  it('the model counts clips by that rule, with its silence class', async () => {
    // Weight 0: every frame's logits are the bias, so every frame has the same argmax.
    for (const [bias, silence, label, correct] of [
      [[0.1, 0.9, 0.2, 0.3], 0, 1, 3], // every frame says 1
      [[0.9, 0.1, 0.2, 0.3], 0, 0, 3], // all silence: silence, which is the label
      [[0.9, 0.1, 0.2, 0.3], 0, 1, 0],
      [[0.1, 0.9, 0.2, 0.3], 1, 1, 3], // class 1 is silence here: silence
      [[0.1, 0.9, 0.2, 0.3], 1, 2, 0],
    ] as const) {
      const m = model(gruSpec, { silenceClass: silence });
      m.cl.weight.data.fill(0);
      m.cl.bias!.data.set(bias);
      const b: Batch = { x: { data: new Float32Array(T * N * C).fill(0.5), shape: [T, N, C] }, labels: new Int32Array(N).fill(label), targets: new Int32Array(T * N) };
      expect((await m.evalBatch(b)).correct).toBe(correct);
      expect((await m.trainBatch(b)).correct).toBe(correct);
    }
  });
});

describe('qc: the classifier output in fixed point', () => {
  const Q35 = { qi: 3, qf: 5 };

  it('OutputQuantizer: the 2⁻⁵ grid, saturation at [−4, 3.96875], gradient zero where saturated', () => {
    const q = new OutputQuantizer(Q35);
    const x = Float32Array.from([0.3, -0.2, 1 / 64, 3 / 64, 3.96875, 3.99, 5, -4, -4.1, -9, 0]);
    const y = q.forward(x);
    expect(Array.from(y)).toEqual([0.3125, -0.1875, 0, 0.0625, 3.96875, 3.96875, 3.96875, -4, -4, -4, 0]);
    expect(x[0]).toBeCloseTo(0.3, 6); // the input stays, for the backward
    const dq = Float32Array.from(x, (_, i) => i + 1);
    q.backward(x, dq);
    // 3.99·32 = 127.68 rounds to 128 > 127 and −4.1·32 = −131.2 to −131 < −128: saturated
    expect(Array.from(dq)).toEqual([1, 2, 3, 4, 5, 0, 0, 8, 0, 0, 11]);
  });

  it('every logit saturated: loss of the clamped logits by hand, and no gradient anywhere', async () => {
    const m = model(gruSpec, { outputFormat: Q35 });
    m.cl.weight.data.fill(0);
    m.cl.bias!.data.set([10, -10, 5, -6]);
    const rng = new Rng(2, 3);
    const { x, targets } = frames(rng, randomNormal(rng, T * N * C));
    const r = await m.trainBatch({ x: { data: toF32(x), shape: [T, N, C] }, labels: new Int32Array(N), targets });
    const z = [3.96875, -4, 3.96875, -4];
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    const want = Array.from(targets, (t) => lse - z[t]).reduce((a, v) => a + v, 0) / (T * N);
    expect(r.loss).toBeCloseTo(want, 6);
    for (const p of m.parameters()) expect(Array.from(p.grad).every((v) => v === 0), p.name).toBe(true);
  });

  it('cl.bias gradient by hand: (softmax(Q(b)) − share of each target) per class, zero for a saturated one', async () => {
    const m = model(gruSpec, { outputFormat: Q35 });
    m.cl.weight.data.fill(0);
    m.cl.bias!.data.set([0.3, -0.2, 1.0, 5]);
    const rng = new Rng(4, 3);
    const { x, targets } = frames(rng, randomNormal(rng, T * N * C));
    const r = await m.trainBatch({ x: { data: toF32(x), shape: [T, N, C] }, labels: new Int32Array(N), targets });
    const z = [0.3125, -0.1875, 1, 3.96875]; // Q3.5 of the bias (5 saturates)
    const e = z.map(Math.exp);
    const sum = e.reduce((a, v) => a + v, 0);
    const share = [0, 1, 2, 3].map((k) => targets.filter((t) => t === k).length / (T * N));
    const want = [0, 1, 2, 3].map((k) => (k === 3 ? 0 : e[k] / sum - share[k]));
    const lse = Math.log(sum);
    expect(r.loss).toBeCloseTo(Array.from(targets, (t) => lse - z[t]).reduce((a, v) => a + v, 0) / (T * N), 6);
    assertAllClose(m.cl.bias!.grad, want, F32_SOFTMAX, 'cl.bias');
    expect(m.cl.bias!.grad[3]).toBe(0);
    // W = 0: nothing flows back into the recurrent layer.
    for (const p of m.rnn.parameters()) expect(Array.from(p.grad).every((v) => v === 0), p.name).toBe(true);
  });

  it('mixed: loss of the quantised logits and every gradient, straight through where a logit did not saturate', async () => {
    const base = model(gruSpec, { outputFormat: Q35 }, 7);
    // A classifier large enough that logits saturate on both sides.
    for (let i = 0; i < base.cl.weight.data.length; i++) base.cl.weight.data[i] *= 12;
    const { p, clWeight, clBias } = paramsOf(base);
    for (const { x, targets, fwd } of gruTrials(p, 17, 400)) {
      const raw = linearForward(fwd.y, clWeight, clBias, dl);
      // float32 and float64 must round every logit the same way: each ≥ 2.5e-4 from a rounding
      // (or saturation) edge, (k + ½)·2⁻⁵, far above the logits' float32 error (~1e-6 here).
      if (raw.some((v) => Math.abs(v * 32 - Math.floor(v * 32) - 0.5) * 2 ** -5 < 2.5e-4)) continue;
      const pass = raw.map((v) => passThrough(v, Q35));
      const saturated = pass.filter((v) => v === 0).length;
      if (!raw.some((v) => v > 4) || !raw.some((v) => v < -4.1) || saturated === raw.length) continue;
      const qz = raw.map((v) => quantize(v, Q35));
      const ce = softmaxCrossEntropy(qz, targets, T * N, K);
      const dRaw = ce.dlogits.map((v, i) => v * pass[i]);
      const cl = linearBackward(fwd.y, clWeight, dRaw, dl);
      const g = gruBackward(p, x, fwd.tape, cl.dx, null, d);
      const r = await base.trainBatch({ x: { data: toF32(x), shape: [T, N, C] }, labels: Int32Array.from(oracleClips(qz)), targets });
      expect(r.loss).toBeCloseTo(ce.loss, 5);
      expect(r.correct).toBe(N); // counted on the quantised logits (ties among saturated ones go low)
      expectGrads(base, cl, g);
      // The rows of cl.weight of a class see no gradient from frames where that logit saturated:
      // with every frame of a class saturated the row is exactly zero.
      for (let k = 0; k < K; k++) {
        const rows = Array.from({ length: T * N }, (_, r2) => pass[r2 * K + k]);
        if (rows.every((v) => v === 0)) expect(Array.from(base.cl.weight.grad.subarray(k * H, (k + 1) * H)).every((v) => v === 0)).toBe(true);
      }
      return;
    }
    throw new Error('no case a margin away from every rounding edge');
  });
});

describe('after-epoch weight quantisation (qw, qcw)', () => {
  const Q17 = { qi: 1, qf: 7 };

  function spread(m: FrameClassifier, seed: number): void {
    const rng = new Rng(seed, 19);
    // Values past the range on both sides, and in between off the grid.
    for (const p of m.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = Math.fround(rng.normal() * 1.5);
  }

  function onGrid(data: Float32Array): boolean {
    return Array.from(data).every((v) => Number.isInteger(v * 128) && v >= -1 && v <= 127 / 128);
  }

  it('weightFormat 1.7: every rnn parameter on the 2⁻⁷ grid within [−1, 127/128]; cl untouched', () => {
    const m = model(deltaSpec(0, 0), { weightFormat: Q17 });
    spread(m, 1);
    const before = m.state();
    const copy = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.data.slice()]));
    expect(m.rnn.parameters().some((p) => !onGrid(p.data))).toBe(true);
    m.afterEpoch();
    for (const p of m.rnn.parameters()) {
      expect(onGrid(p.data), p.name).toBe(true);
      expect(Array.from(p.data)).toEqual(Array.from(copy[p.name], (v) => quantize(v, Q17)));
    }
    expect(m.rnn.parameters().some((p) => p.data.some((v) => v === -1)) && m.rnn.parameters().some((p) => p.data.some((v) => v === 127 / 128))).toBe(true);
    for (const p of m.cl.parameters()) expect(Array.from(p.data), p.name).toEqual(Array.from(copy[p.name]));
  });

  it('classifierWeightFormat 1.7 alone: only cl.* change', () => {
    const m = model(gruSpec, { classifierWeightFormat: Q17 });
    spread(m, 2);
    const copy = Object.fromEntries(m.parameters().map((p) => [p.name, p.data.slice()]));
    m.afterEpoch();
    for (const p of m.cl.parameters()) {
      expect(onGrid(p.data), p.name).toBe(true);
      expect(Array.from(p.data)).toEqual(Array.from(copy[p.name], (v) => quantize(v, Q17)));
    }
    for (const p of m.rnn.parameters()) expect(Array.from(p.data), p.name).toEqual(Array.from(copy[p.name]));
  });

  it('neither format: afterEpoch changes nothing', () => {
    const m = model(gruSpec);
    spread(m, 3);
    const copy = m.parameters().map((p) => p.data.slice());
    m.afterEpoch();
    m.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(copy[i])));
  });
});

describe('sparsity meters', () => {
  it('evalSparsity holds the evaluation batches of a delta stack (reset by each take); sparsity() the training ones', async () => {
    const m = model(deltaSpec(0, 0));
    const TA = 6, TB = 4;
    // A: constant zero input, so every Δx is zero; B: random input, no Δx zero.
    const A: Batch = { x: { data: new Float32Array(TA * N * C), shape: [TA, N, C] }, labels: new Int32Array(N), targets: new Int32Array(TA * N) };
    const rng = new Rng(9);
    const B: Batch = { x: { data: toF32(randomNormal(rng, TB * N * C)), shape: [TB, N, C] }, labels: new Int32Array(N), targets: new Int32Array(TB * N) };
    await m.evalBatch(A);
    await m.trainBatch(B);
    await m.evalBatch(A);
    const [ev] = m.evalSparsity();
    expect(ev.layer).toBe('rnn.0');
    expect(ev.family).toBe('deltagru');
    expect(ev.deltaXZero).toBe(1);
    expect(ev.deltaHZero).toBeCloseTo(1 / TA, 12); // the first step's Δh = h₋₁ − ĥ = 0
    expect(ev.macsForwardDense).toBe(TA * (C + H) * 3 * H); // per sample, A's length (two batches of A)
    expect(ev.macsBackward).toBe(0);
    expect(m.evalSparsity()).toEqual([]);
    const [tr] = m.sparsity();
    expect(tr.deltaXZero).toBe(0);
    expect(tr.deltaHZero).toBeCloseTo(1 / TB, 12);
    expect(tr.macsForwardDense).toBe(TB * (C + H) * 3 * H);
    expect(tr.macsBackward).toBeGreaterThan(0);
    expect(m.sparsity()).toEqual([]);
    // An evaluation after the takes starts a new count.
    await m.evalBatch(B);
    const [again] = m.evalSparsity();
    expect(again.deltaXZero).toBe(0);
    expect(m.sparsity()).toEqual([]);
  });
});

describe('parameter names and loading', () => {
  it('rnn.<PyTorch names> and cl.weight, cl.bias, with their shapes', () => {
    const m = new FrameClassifier({ inputSize: C, numClasses: K, seed: 1, rnn: { type: 'gru', hiddenSizes: [H, H], options: {} } });
    const shapes = Object.fromEntries(m.parameters().map((p) => [p.name, p.shape]));
    expect(shapes).toEqual({
      'rnn.weight_ih_l0': [3 * H, C], 'rnn.weight_hh_l0': [3 * H, H], 'rnn.bias_ih_l0': [3 * H], 'rnn.bias_hh_l0': [3 * H],
      'rnn.weight_ih_l1': [3 * H, H], 'rnn.weight_hh_l1': [3 * H, H], 'rnn.bias_ih_l1': [3 * H], 'rnn.bias_hh_l1': [3 * H],
      'cl.weight': [K, H], 'cl.bias': [K],
    });
    expect(Object.keys(m.state()).sort()).toEqual(Object.keys(shapes).sort());
  });

  it('a GRU FrameClassifier\'s state loads strictly into a deltagru one; anything else is refused', () => {
    const gru = model(gruSpec, {}, 1);
    const delta = model(deltaSpec(0.1, 0.1), {}, 2);
    const s = gru.state();
    expect(delta.state()['rnn.weight_ih_l0'].data).not.toEqual(s['rnn.weight_ih_l0'].data);
    delta.loadState(s);
    for (const [k, v] of Object.entries(delta.state())) expect(Array.from(v.data), k).toEqual(Array.from(s[k].data));
    expect(() => delta.loadState({ ...s, 'readout.weight': s['cl.weight'] })).toThrow(/FrameClassifier\.loadState: unknown parameter\(s\) readout\.weight/);
    const { ['cl.bias']: _, ...noBias } = s;
    expect(() => delta.loadState(noBias)).toThrow(/FrameClassifier\.loadState: missing parameter cl\.bias/);
    const lstm = model({ type: 'lstm', hiddenSizes: [H], options: {} });
    expect(() => delta.loadState(lstm.state())).toThrow(/FrameClassifier\.loadState: rnn\.weight_ih_l0 has shape \[20, 3\], expected \[15, 3\]/);
  });
});
