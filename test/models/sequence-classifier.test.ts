// The SequenceClassifier's training step against float64 oracles composed by hand: the recurrent
// layer, the readout of the last step (or of the EGRU's output trace), softmax cross-entropy and,
// for the EGRU, EvNN's activity and voltage regularisers on the last layer's taps. Every parameter's
// gradient must match — so a readout gradient placed at another step, a regulariser's wrong sign
// or a lost contribution fails here, independent of the CLI.
import { describe, expect, it } from 'vitest';
import { SequenceClassifier } from '../../src/models/sequence-classifier.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { softmaxCrossEntropy } from '../oracle/cross-entropy.js';
import { egruBackward, egruForward, minDistanceToSupportEdge, minDistanceToThreshold } from '../oracle/egru.js';
import { gruBackward, gruForward } from '../oracle/gru.js';
import { linearBackward, linearForward } from '../oracle/linear.js';
import { randomNormal, toF32, toF64 } from '../oracle/random.js';
import { F32_GEMM, F32_SOFTMAX } from '../native-oracle/tolerances.js';

const T = 5, N = 4, C = 3, H = 6, K = 3;

function batch(seed: number) {
  const rng = new Rng(seed, 5);
  const x = randomNormal(rng, T * N * C);
  const labels = Int32Array.from({ length: N }, (_, i) => i % K);
  return { x, labels, tensor: { data: toF32(x), shape: [T, N, C] } };
}

/** Readout of seq's last step, cross-entropy, and the gradient of seq (zero before the last step). */
function head(seq: Float64Array, weight: Float64Array, bias: Float64Array, labels: Int32Array) {
  const last = seq.subarray((T - 1) * N * H);
  const d = { M: N, I: H, O: K };
  const ce = softmaxCrossEntropy(linearForward(last, weight, bias, d), labels, N, K);
  const g = linearBackward(last, weight, ce.dlogits, d);
  const dSeq = new Float64Array(T * N * H);
  dSeq.set(g.dx, (T - 1) * N * H);
  return { ce, g, dSeq };
}

describe('SequenceClassifier training step vs the oracles', () => {
  it('GRU: the readout of the last step and every gradient', async () => {
    const model = new SequenceClassifier({ inputSize: C, numClasses: K, seed: 3, rnn: { type: 'gru', hiddenSizes: [H], options: {} } });
    const s = model.state();
    const w = (name: string) => toF64(s[name].data);
    const p = { weightIh: w('rnn.weight_ih_l0'), weightHh: w('rnn.weight_hh_l0'), biasIh: w('rnn.bias_ih_l0'), biasHh: w('rnn.bias_hh_l0') };
    const b = batch(1);
    const fwd = gruForward(p, b.x, null, { T, N, C, H });
    const h = head(fwd.y, w('readout.weight'), w('readout.bias'), b.labels);
    const g = gruBackward(p, b.x, fwd.tape, h.dSeq, null, { T, N, C, H });
    // Gradients left in the buffers from an earlier step must not leak into this one.
    for (const param of model.parameters()) param.grad.fill(7);
    const r = await model.trainBatch({ x: b.tensor, labels: b.labels }, { epoch: 0, batch: 0 });
    expect(r.loss).toBeCloseTo(h.ce.loss, 5);
    expect(r.correct).toBe(h.ce.correct);
    expect(r.activity).toBeUndefined();
    const grad = Object.fromEntries(model.parameters().map((q) => [q.name, q.grad]));
    assertAllClose(grad['readout.weight'], h.g.dWeight, F32_SOFTMAX, 'readout.weight');
    assertAllClose(grad['readout.bias'], h.g.dBias, F32_SOFTMAX, 'readout.bias');
    assertAllClose(grad['rnn.weight_ih_l0'], g.dWeightIh, F32_GEMM, 'weight_ih');
    assertAllClose(grad['rnn.weight_hh_l0'], g.dWeightHh, F32_GEMM, 'weight_hh');
    assertAllClose(grad['rnn.bias_ih_l0'], g.dBiasIh, F32_GEMM, 'bias_ih');
    assertAllClose(grad['rnn.bias_hh_l0'], g.dBiasHh, F32_GEMM, 'bias_hh');
    expect(model.sparsity()).toEqual([]);
  });

  it('EGRU: output-trace readout plus the activity and voltage regularisers', async () => {
    const gamma = 0.7, eps = 1;
    const act = { constant: 2.5, target: 0.05 };
    const volt = { constant: 1.5, target: -0.9 };
    for (let seed = 1; seed < 60; seed++) {
      const model = new SequenceClassifier({
        inputSize: C, numClasses: K, seed,
        rnn: { type: 'egru', hiddenSizes: [H], options: { thrMean: 0.15, dampeningFactor: gamma, pseudoDerivativeSupport: eps } },
        readoutTap: 'trace',
        regularizers: [{ tap: 'o', kind: 'mean-target', ...act }, { tap: 'c', kind: 'mean-square', ...volt }],
      });
      const s = model.state();
      const w = (name: string) => toF64(s[name].data);
      const p = { kernel: w('rnn.kernel'), recurrentKernel: w('rnn.recurrent_kernel'), bias: w('rnn.bias'), recurrentBias: w('rnn.recurrent_bias'), thr: w('rnn.thr') };
      const b = batch(seed);
      const d = { T, N, C, H };
      const o = { training: true, zoneout: 0, dampening: gamma, support: eps, zoneoutMask: null };
      const fwd = egruForward(p, b.x, null, d, o);
      if (minDistanceToThreshold(fwd, p, d) < 1e-4 || minDistanceToSupportEdge(fwd, p, d, eps) < 1e-4) continue;
      const n = T * N * H;
      const meanO = fwd.o.reduce((a, v) => a + v, 0) / n;
      if (meanO === 0) continue; // the activity term is then the same for both signs of a slip
      const h = head(fwd.trace, w('readout.weight'), w('readout.bias'), b.labels);
      const dO = new Float64Array(n).fill((2 * act.constant * (meanO - act.target)) / n);
      const dC = fwd.c.map((c) => (2 * volt.constant * (c - volt.target)) / n);
      const g = egruBackward(p, b.x, null, fwd, { dy: null, dc: dC, do: dO, dtrace: h.dSeq }, d, o);
      const r = await model.trainBatch({ x: b.tensor, labels: b.labels }, { epoch: 0, batch: 0 });
      expect(r.loss).toBeCloseTo(h.ce.loss, 5); // the reported loss is the cross-entropy alone
      expect(r.activity).toBeCloseTo(meanO, 12);
      const grad = Object.fromEntries(model.parameters().map((q) => [q.name, q.grad]));
      assertAllClose(grad['readout.weight'], h.g.dWeight, F32_SOFTMAX, 'readout.weight');
      assertAllClose(grad['rnn.kernel'], g.dKernel, F32_GEMM, 'kernel');
      assertAllClose(grad['rnn.recurrent_kernel'], g.dRecurrentKernel, F32_GEMM, 'recurrent_kernel');
      assertAllClose(grad['rnn.bias'], g.dBias, F32_GEMM, 'bias');
      assertAllClose(grad['rnn.recurrent_bias'], g.dRecurrentBias, F32_GEMM, 'recurrent_bias');
      assertAllClose(grad['rnn.thr'], g.dThr, F32_GEMM, 'thr');
      const [row] = model.sparsity();
      expect(row.layer).toBe('rnn.0');
      expect(row.family).toBe('egru');
      expect(row.activity).toBeCloseTo(meanO, 12);
      return;
    }
    throw new Error('no stable case');
  });

  it('refuses a readout or regulariser tap the last layer does not have', () => {
    const rnn = { type: 'gru' as const, hiddenSizes: [H], options: {} };
    expect(() => new SequenceClassifier({ inputSize: C, numClasses: K, seed: 0, rnn, readoutTap: 'trace' })).toThrow(/a gru layer has no 'trace' tap \(it has: none\)/);
    expect(() => new SequenceClassifier({
      inputSize: C, numClasses: K, seed: 0, rnn: { type: 'egru', hiddenSizes: [H], options: {} },
      regularizers: [{ tap: 'v', kind: 'mean-square', constant: 1, target: 0 }],
    })).toThrow(/an? egru layer has no 'v' tap \(it has: c, o, trace\)/);
  });
});
