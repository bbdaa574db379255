// SpikingClassifier end to end against the float64 oracle network (test/oracle/lif.ts
// spikingNetwork): loss and the gradients of w1, w2, w3 with S3GD (the chain of dxActive →
// dspkActive between layers) and with dense BPTT, the regulariser on every hidden layer, max and
// sum readouts, the input as events and as a dense tensor; then the training/evaluation interface
// (batches of events, sparsity rows, activity), state round trip and loadState errors, and a few
// Adam steps on a separable toy problem. Decisions are kept MARGIN = 1e-3 from ϑ, b_th, 2ϑ − b_th
// and every max-readout maximum MARGIN above the rest of its time course (see
// test/native-oracle/lif.test.ts), so engine and oracle take the same spikes and active sets.
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/batch-source.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { SpikingClassifier, type SpikingClassifierOptions } from '../../src/models/spiking-classifier.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import {
  activeMask, minDecisionDistance, minMaxGap, regularizerKinkDistance, spikingNetwork, type NetBackward, type ReadoutReduce,
  type SpikeRegularizer, type SpikingNetOptions,
} from '../oracle/lif.js';
import { denseToEvents, findCase, randomSpikes } from '../oracle/lif-cases.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { F32_GEMM } from '../native-oracle/tolerances.js';

const MARGIN = 1e-3;
const B = 4;
const T = 10;
const SIZES = [6, 7, 5, 3];
const BETA = Math.fround(0.85);
const BETA_R = Math.fround(0.75);
const REG: SpikeRegularizer = { lambdaUp: 0.06, fUp: 0.45, pUp: 1, lambdaLow: 100, fLow: 1e-3 };

function options(reduce: ReadoutReduce, backward: 'dense' | 's3gd', regularizer: SpikeRegularizer | null): SpikingClassifierOptions {
  return {
    inputSize: SIZES[0], hiddenSizes: SIZES.slice(1, -1), numClasses: SIZES[SIZES.length - 1], beta: BETA, betaReadout: BETA_R,
    threshold: 1, bTh: Math.fround(0.8), backward, readout: reduce, regularizer, seed: 5,
  };
}

function netOptions(reduce: ReadoutReduce, regularizer: SpikeRegularizer | null): SpikingNetOptions {
  return { beta: BETA, threshold: 1, bTh: Math.fround(0.8), betaReadout: BETA_R, reduce, regularizer };
}

/** Input spikes, weights and labels whose every decision is stable in the oracle network. */
function networkCase(reduce: ReadoutReduce, seed0: number) {
  const o = netOptions(reduce, REG);
  return findCase(seed0, (seed) => {
    const rng = new Rng(seed, 0x5c7);
    const x = randomSpikes(rng, B * T * SIZES[0], 0.4);
    const ws = [randomNormal(rng, 6 * 7, 0.8), randomNormal(rng, 7 * 5, 0.9), randomNormal(rng, 5 * 3)];
    const labels = Int32Array.from({ length: B }, () => rng.int(3));
    return { x, ws, labels, out: spikingNetwork(x, ws, SIZES, B, T, labels, o, 'dense') };
  }, (c) => c.out.layers.every((f, l) => minDecisionDistance(f.mem, o) > MARGIN && f.spk.includes(1) && activeMask(f.mem, o).includes(1)
    && regularizerKinkDistance(f.spk, { B, T, H: SIZES[l + 1] }, REG) > 1e-4)
    && (reduce !== 'max' || minMaxGap(c.out.readout, { B, T, H: 5, O: 3 }) > MARGIN));
}

function load(m: SpikingClassifier, ws: readonly Float64Array[]): void {
  m.loadState(Object.fromEntries(ws.map((w, l) => [`w${l + 1}`, { data: toF32(w), shape: [SIZES[l], SIZES[l + 1]] }])));
}

describe('SpikingClassifier vs the oracle network', () => {
  it.each([
    { reduce: 'max' as ReadoutReduce, backward: 's3gd' as const, seed: 10 },
    { reduce: 'sum' as ReadoutReduce, backward: 's3gd' as const, seed: 20 },
    { reduce: 'max' as ReadoutReduce, backward: 'dense' as const, seed: 30 },
    { reduce: 'sum' as ReadoutReduce, backward: 'dense' as const, seed: 40 },
  ])('$backward, $reduce readout, regulariser on: loss and dW of w1, w2, w3', ({ reduce, backward, seed }) => {
    const c = networkCase(reduce, seed);
    const ref = spikingNetwork(c.x, c.ws, SIZES, B, T, c.labels, netOptions(reduce, REG), backward as NetBackward);
    const m = new SpikingClassifier(options(reduce, backward, REG));
    load(m, c.ws);
    for (const input of [denseToEvents(c.x, B, T, SIZES[0]), { data: toF32(c.x), shape: [B, T, SIZES[0]] }]) {
      const r = m.lossAndGrads(input, c.labels);
      expect(Math.abs(r.loss - ref.loss)).toBeLessThanOrEqual(F32_GEMM * Math.abs(ref.loss));
      const refReg = ref.regLoss.reduce((a, v) => a + v, 0);
      expect(Math.abs(r.nll - (ref.loss - refReg))).toBeLessThanOrEqual(F32_GEMM * ref.loss);
      r.regularizerLoss.forEach((v, l) => expect(Math.abs(v - ref.regLoss[l])).toBeLessThanOrEqual(F32_GEMM * ref.regLoss[l]));
      assertAllClose(r.logits, ref.logits, F32_GEMM, 'logits');
      ref.grads.forEach((g, l) => assertAllClose(r.grads[`w${l + 1}`], g, F32_GEMM, `w${l + 1}`));
      // the grad buffers hold the same
      m.parameters().forEach((p, l) => assertAllClose(p.grad, ref.grads[l], F32_GEMM, `${p.name}.grad`));
      expect(r.stats.forward.map((s) => s.spikes)).toEqual(ref.layers.map((f) => f.spk.reduce((a, v) => a + v, 0)));
      expect(r.stats.forward.map((s) => s.active)).toEqual(ref.layers.map((f) => activeMask(f.mem, netOptions(reduce, REG)).reduce((a, v) => a + v, 0)));
    }
  });

  it('S3GD differs from dense BPTT on the same case (the backward kind is honoured)', () => {
    const c = networkCase('max', 10);
    const s = new SpikingClassifier(options('max', 's3gd', REG));
    const d = new SpikingClassifier(options('max', 'dense', REG));
    load(s, c.ws);
    load(d, c.ws);
    const events = denseToEvents(c.x, B, T, SIZES[0]);
    const gs = s.lossAndGrads(events, c.labels);
    const gd = d.lossAndGrads(events, c.labels);
    expect(gs.loss).toBe(gd.loss);
    expect(() => assertAllClose(gs.grads.w1, gd.grads.w1, 1e-2, 'w1')).toThrow();
    // the S3GD backward does less work than the dense one
    const macs = (r: typeof gs) => r.stats.backward!.reduce((a, b) => a + b.macs, 0);
    expect(macs(gs)).toBeLessThan(macs(gd));
  });

  it('trains and evaluates on batches of events: loss, correct, activity and sparsity rows', async () => {
    const c = networkCase('max', 10);
    const m = new SpikingClassifier(options('max', 's3gd', REG));
    load(m, c.ws);
    const batch: Batch = { events: denseToEvents(c.x, B, T, SIZES[0]), labels: c.labels };
    const ref = spikingNetwork(c.x, c.ws, SIZES, B, T, c.labels, netOptions('max', REG), 's3gd');
    const r = await m.trainBatch(batch, { epoch: 0, batch: 0 });
    // the reported loss is the NLL (the reference's loss_hist); the gradients include the regulariser
    const nll = ref.loss - ref.regLoss.reduce((a, v) => a + v, 0);
    expect(ref.regLoss.every((v) => v > 0)).toBe(true);
    expect(Math.abs(r.loss - nll)).toBeLessThanOrEqual(F32_GEMM * nll);
    m.parameters().forEach((p, l) => assertAllClose(p.grad, ref.grads[l], F32_GEMM, p.name));
    const rates = ref.layers.map((f, l) => f.spk.reduce((a, v) => a + v, 0) / (B * T * SIZES[l + 1]));
    const fractions = ref.layers.map((f, l) => activeMask(f.mem, netOptions('max', REG)).reduce((a, v) => a + v, 0) / (B * T * SIZES[l + 1]));
    expect(r.activity).toBeCloseTo((rates[0] + rates[1]) / 2, 12);
    let correct = 0;
    for (let b = 0; b < B; b++) {
      const row = Array.from(ref.logits.subarray(b * 3, b * 3 + 3));
      if (row.indexOf(Math.max(...row)) === c.labels[b]) correct++;
    }
    expect(r.correct).toBe(correct);
    const e = await m.evalBatch(batch);
    expect(e.loss).toBe(r.loss);
    const rows = m.sparsity();
    expect(rows.map((x) => [x.layer, x.family])).toEqual([['lif.0', 'lif'], ['lif.1', 'lif']]);
    rows.forEach((row, l) => {
      expect(row.activity).toBeCloseTo(rates[l], 12);
      expect(row.activeFraction).toBeCloseTo(fractions[l], 12);
      expect(row.macsBackward).toBeGreaterThan(0);
      expect(row.macsBackward!).toBeLessThan(row.macsBackwardDense!);
      expect(row.macsForwardDense).toBe((T - 1) * SIZES[l] * SIZES[l + 1]);
    });
    expect(m.sparsity()).toEqual([]); // taken
    const evalRows = m.evalSparsity();
    expect(evalRows.map((x) => x.activity)).toEqual(rows.map((x) => x.activity));
    expect(evalRows.every((x) => x.macsBackward === undefined)).toBe(true);
  });

  it('refuses a batch without events, naming what it needs', async () => {
    const m = new SpikingClassifier(options('max', 's3gd', null));
    const dense: Batch = { x: { data: new Float32Array(T * B * 6), shape: [T, B, 6] }, labels: new Int32Array(B) };
    await expect(m.trainBatch(dense, { epoch: 0, batch: 0 })).rejects.toThrow(TypeError);
    await expect(m.evalBatch(dense)).rejects.toThrow(/batch\.events/);
  });
});

describe('SpikingClassifier state', () => {
  it('uses the reference names and shapes and round-trips its state', () => {
    const a = new SpikingClassifier({ inputSize: 6, numClasses: 3, hiddenSizes: [7, 5], seed: 1 });
    const st = a.state();
    expect(Object.keys(st)).toEqual(['w1', 'w2', 'w3']);
    expect([st.w1.shape, st.w2.shape, st.w3.shape]).toEqual([[6, 7], [7, 5], [5, 3]]);
    const b = new SpikingClassifier({ inputSize: 6, numClasses: 3, hiddenSizes: [7, 5], seed: 2 });
    expect(Array.from(b.state().w1.data)).not.toEqual(Array.from(st.w1.data));
    b.loadState(st);
    for (const k of ['w1', 'w2', 'w3']) expect(Array.from(b.state()[k].data)).toEqual(Array.from(st[k].data));
    const x = denseToEvents(randomSpikes(new Rng(4), 2 * 8 * 6, 0.5), 2, 8, 6);
    expect(Array.from(b.forward(x).logits)).toEqual(Array.from(a.forward(x).logits));
    // through a safetensors file, as a PyTorch checkpoint of the reference's w1, w2, w3 would come
    const bytes = Buffer.concat(encodeSafetensors(st));
    const file = decodeSafetensors('spiking.safetensors', new Uint8Array(bytes));
    expect([...file.tensors.keys()].sort()).toEqual(['w1', 'w2', 'w3']);
    const c = new SpikingClassifier({ inputSize: 6, numClasses: 3, hiddenSizes: [7, 5], seed: 9 });
    c.loadState(Object.fromEntries([...file.tensors].map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape }])));
    expect(Array.from(c.forward(x).logits)).toEqual(Array.from(a.forward(x).logits));
  });

  it('initialises as the reference: normal N(0, 20(1−β)/√fan_in) or uniform U(±1/√fan_in)', () => {
    const std = (m: SpikingClassifier, name: string) => {
      const w = m.state()[name].data;
      const mean = w.reduce((s, v) => s + v, 0) / w.length;
      return Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    };
    const beta = Math.exp(-0.1);
    const n = new SpikingClassifier({ inputSize: 400, numClasses: 10, hiddenSizes: [300, 200], beta, init: 'normal', seed: 3 });
    expect(std(n, 'w1')).toBeCloseTo((20 * (1 - beta)) / Math.sqrt(400), 2);
    expect(std(n, 'w2')).toBeCloseTo((20 * (1 - beta)) / Math.sqrt(300), 2);
    expect(std(n, 'w3')).toBeCloseTo((20 * (1 - beta)) / Math.sqrt(200), 2);
    const u = new SpikingClassifier({ inputSize: 400, numClasses: 10, hiddenSizes: [300, 200], init: 'uniform', seed: 3 });
    const w1 = u.state().w1.data;
    expect(Math.max(...w1.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(400));
    expect(std(u, 'w1')).toBeCloseTo(1 / Math.sqrt(400) / Math.sqrt(3), 3);
  });

  it('refuses a state with a missing, unknown or misshapen weight', () => {
    const m = new SpikingClassifier({ inputSize: 6, numClasses: 3, hiddenSizes: [7, 5] });
    const st = m.state();
    const { w3, ...missing } = st;
    expect(w3).toBeDefined();
    expect(() => m.loadState(missing)).toThrow(/missing parameter w3/);
    expect(() => m.loadState({ ...st, w4: st.w3 })).toThrow(/unknown parameter\(s\) w4/);
    expect(() => m.loadState({ ...st, w2: { data: new Float32Array(35), shape: [5, 7] } })).toThrow(/w2 has shape \[5, 7\], expected \[7, 5\]/);
  });

  it('checks its options', () => {
    expect(() => new SpikingClassifier({ inputSize: 0, numClasses: 3 })).toThrow(/inputSize/);
    expect(() => new SpikingClassifier({ inputSize: 4, numClasses: 3, hiddenSizes: [] })).toThrow(/hiddenSizes/);
    expect(() => new SpikingClassifier({ inputSize: 4, numClasses: 3, betaReadout: 1 })).toThrow(/betaReadout/);
    expect(() => new SpikingClassifier({ inputSize: 4, numClasses: 3, readout: 'median' as ReadoutReduce })).toThrow(/readout/);
    expect(() => new SpikingClassifier({ inputSize: 4, numClasses: 3, regularizer: { ...REG, lambdaUp: -1 } })).toThrow(/regularizer\.lambdaUp/);
  });
});

describe('SpikingClassifier training', () => {
  it.each(['s3gd', 'dense'] as const)('a few Adam steps lower the loss on a separable toy problem (%s)', async (backward) => {
    // two classes: class 0 fires channels 0..4, class 1 channels 5..9, each at random steps
    const I = 10;
    const TT = 20;
    const BB = 16;
    const rng = new Rng(8);
    const labels = Int32Array.from({ length: BB }, (_, b) => b % 2);
    const x = new Float64Array(BB * TT * I);
    for (let b = 0; b < BB; b++) for (let t = 0; t < TT - 1; t++) for (let i = 0; i < 5; i++) if (rng.uniform() < 0.3) x[(b * TT + t) * I + labels[b] * 5 + i] = 1;
    const batch: Batch = { events: denseToEvents(x, BB, TT, I), labels };
    const m = new SpikingClassifier({
      inputSize: I, numClasses: 2, hiddenSizes: [16, 12], beta: Math.exp(-1 / 5), backward, readout: 'max', init: 'uniform', bTh: 0.5, seed: 2,
      // the reference's regulariser, with an upper target this toy's busy layers do not dominate
      regularizer: { lambdaUp: 0.06, fUp: 5, pUp: 1, lambdaLow: 100, fLow: 1e-3 },
    });
    // start from weights that make the layers fire
    for (const p of m.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] *= 2;
    const lr = 0.05;
    const opt = new Optimizer(m.parameters(), { type: 'adam', lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, dampening: 0, nesterov: false });
    const first = await m.trainBatch(batch, { epoch: 0, batch: 0 });
    opt.step(lr);
    let last = first;
    for (let s = 1; s < 30; s++) {
      last = await m.trainBatch(batch, { epoch: 0, batch: s });
      opt.step(lr);
    }
    const e = await m.evalBatch(batch);
    expect(first.loss).toBeGreaterThan(0.6); // chance is ln 2
    expect(e.loss).toBeLessThan(0.3 * first.loss);
    expect(last.loss).toBeLessThan(0.5 * first.loss);
    expect(e.correct).toBeGreaterThanOrEqual(15);
  });
});
