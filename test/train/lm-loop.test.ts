// The language-model loop: AWD-style segment lengths, state carried through an epoch, and a tiny
// model that learns a predictable token stream far below its unigram perplexity.
import { describe, expect, it } from 'vitest';
import { batchify } from '../../src/data/token-stream.js';
import { LanguageModel } from '../../src/models/language-model.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { evaluateLm, nextSegmentLength, trainLmEpoch } from '../../src/train/lm-loop.js';
import { Rng } from '../../src/util/rng.js';

describe('language-model loop', () => {
  it('segment lengths: bptt, or about bptt or bptt/2 (±5), never below 5', () => {
    const rng = new Rng(1);
    expect(nextSegmentLength(rng, 70, false)).toBe(70);
    const lens = Array.from({ length: 2000 }, () => nextSegmentLength(rng, 70, true));
    expect(Math.min(...lens)).toBeGreaterThanOrEqual(5);
    const short = lens.filter((l) => l < 52).length / lens.length; // around 35, rarely near 70 − 18
    expect(short).toBeGreaterThan(0.02);
    expect(short).toBeLessThan(0.09);
    const tiny = Array.from({ length: 200 }, () => nextSegmentLength(rng, 6, true));
    expect(Math.min(...tiny)).toBe(5);
  });

  it('a tiny GRU language model learns a periodic stream: perplexity far below the unigram one', async () => {
    const V = 6;
    const rng = new Rng(3);
    // 0 1 2 3 4 5 0 1 2 … with 5% of tokens replaced at random: unigram perplexity ≈ 6.
    const tokens = Int32Array.from({ length: 3000 }, (_, i) => (rng.uniform() < 0.05 ? Math.floor(rng.uniform() * V) : i % V));
    const stream = batchify(tokens, 8);
    const model = new LanguageModel({ vocabSize: V, embDim: 8, seed: 2, rnn: { type: 'gru', hiddenSizes: [16, 8], options: {} }, dropoutOutput: 0 });
    const opt = new Optimizer(model.parameters(), { type: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, dampening: 0, nesterov: false });
    const before = await evaluateLm(model, stream, 20);
    for (let epoch = 0; epoch < 4; epoch++) {
      const tr = await trainLmEpoch(model, opt, stream, { epoch, seed: 1, bptt: 20, variableBptt: true, lr: 0.01, gradClip: 1 });
      expect(tr.samples).toBe((stream.steps - 1) * 8); // every token but the last row is a target once
    }
    const after = await evaluateLm(model, stream, 20);
    expect(Math.exp(before.loss)).toBeGreaterThan(4);
    expect(Math.exp(after.loss)).toBeLessThan(1.8);
    expect(after.accuracy).toBeGreaterThan(0.85);
    expect(after.samples).toBe((stream.steps - 1) * 8);
  });
});
