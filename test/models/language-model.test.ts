// The LanguageModel's training step by finite differences on a tiny model: the decoder tied to the
// embedding (its gradient is the sum of both uses), the state carried detached from one segment
// into the next, and every dropout on (word, embedding, between layers, output: the masks are a
// function of the segment's key, so the loss is a deterministic function of the parameters).
import { describe, expect, it } from 'vitest';
import { LanguageModel } from '../../src/models/language-model.js';
import { Rng } from '../../src/util/rng.js';

const V = 7, E = 4, T = 3, N = 2;

function tokens(seed: number): { input: Int32Array; target: Int32Array } {
  const rng = new Rng(seed, 3);
  const stream = Int32Array.from({ length: T * N + N }, () => Math.floor(rng.uniform() * V));
  return { input: stream.subarray(0, T * N), target: stream.subarray(N, T * N + N) };
}

function model(type: 'gru' | 'lstm' | 'egru', dropout: number) {
  return new LanguageModel({
    vocabSize: V, embDim: E, seed: 5,
    rnn: { type, hiddenSizes: [5, E], options: type === 'egru' ? {} : { dropconnect: dropout }, dropout },
    dropoutWords: dropout, dropoutEmb: dropout, dropoutOutput: dropout,
  });
}

describe('LanguageModel', () => {
  for (const type of ['gru', 'lstm'] as const) {
    it(`${type}: every gradient matches central differences (tied decoder, carried state, dropouts and WeightDrop on)`, async () => {
      const m = model(type, 0.3);
      const seg1 = tokens(1);
      const seg2 = tokens(2);
      const key = { epoch: 2, batch: 1 };
      await m.trainSegment(seg1.input, seg1.target, T, N, { epoch: 2, batch: 0 });
      const carried = m.carriedState();
      expect(carried).not.toBeNull();
      const r = await m.trainSegment(seg2.input, seg2.target, T, N, key);
      expect(r.tokens).toBe(T * N);
      const grads = new Map(m.parameters().map((p) => [p, p.grad.slice()]));
      // The loss of segment 2 from the state segment 1 left (held fixed: the carried state is detached).
      const loss = async () => {
        m.setCarriedState(carried);
        return (await m.trainSegment(seg2.input, seg2.target, T, N, key)).loss;
      };
      const h = 1 / 256;
      let checked = 0;
      for (const p of m.parameters()) {
        const g = grads.get(p)!;
        const scale = Math.max(...Array.from(g, Math.abs));
        for (let i = 0; i < p.data.length; i++) {
          const w0 = p.data[i];
          p.data[i] = w0 + h;
          const up = await loss();
          p.data[i] = w0 - h;
          const down = await loss();
          p.data[i] = w0;
          const fd = (up - down) / (2 * h);
          // float32 rounding of a loss of O(1) is ~2e-7, ~3e-5 after dividing by 2h; truncation is O(h²)
          expect(Math.abs(g[i] - fd), `${p.name}[${i}]: ${g[i]} vs ${fd}`).toBeLessThan(1e-3 * scale + 1e-4);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(300);
      expect(m.parameters().map((p) => p.name)).toContain('embeddings.weight');
      expect(m.parameters().map((p) => p.name)).not.toContain('decoder.decoder.weight');
    });
  }

  it('EvNN names in state(), the tied weight under both names; loadState refuses a decoder that differs from the embedding', () => {
    const m = model('egru', 0);
    const s = m.state();
    expect(Object.keys(s).sort()).toEqual([
      'decoder.decoder.bias', 'decoder.decoder.weight', 'embeddings.weight',
      'rnns.0.bias', 'rnns.0.kernel', 'rnns.0.recurrent_bias', 'rnns.0.recurrent_kernel', 'rnns.0.thr',
      'rnns.1.bias', 'rnns.1.kernel', 'rnns.1.recurrent_bias', 'rnns.1.recurrent_kernel', 'rnns.1.thr',
    ]);
    expect(Array.from(s['decoder.decoder.bias'].data)).toEqual(new Array(V).fill(0));
    const other = model('egru', 0);
    other.loadState(s);
    expect(Array.from(other.state()['rnns.1.kernel'].data)).toEqual(Array.from(s['rnns.1.kernel'].data));
    const bad = { ...s, 'decoder.decoder.weight': { data: s['decoder.decoder.weight'].data.map((v) => v + 1), shape: s['decoder.decoder.weight'].shape } };
    expect(() => other.loadState(bad)).toThrow(/decoder.decoder.weight differs from embeddings.weight/);
    expect(() => new LanguageModel({ vocabSize: V, embDim: E, seed: 0, rnn: { type: 'gru', hiddenSizes: [5, 6], options: {} } })).toThrow(
      /the last layer has 6 units, but the decoder is tied to the 4-wide embedding/,
    );
  });

  it('EGRU: trains a segment, reports activity and per-layer sparsity, carries y only', async () => {
    const m = model('egru', 0.2);
    const seg = tokens(4);
    const r = await m.trainSegment(seg.input, seg.target, T, N, { epoch: 0, batch: 0 });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.activity).toBeGreaterThanOrEqual(0);
    expect(Object.keys(m.carriedState()![0])).toEqual(['y']);
    expect(m.sparsity().map((s) => [s.layer, s.family])).toEqual([['rnns.0', 'egru'], ['rnns.1', 'egru']]);
    const ev = await m.evalSegment(seg.input, seg.target, T, N);
    expect(Number.isFinite(ev.loss)).toBe(true);
  });
});
