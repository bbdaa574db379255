// The embedding gather and scatter-add against a plain float64 reading of the definition, with
// EvNN's word dropout (row masks drawn by the engine are the documented Philox masks), repeated
// ids, accumulation into a preset gradient, and the same bytes for 1 and 2 threads.
import { describe, expect, it } from 'vitest';
import { Embedding } from '../../src/layers/embedding.js';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { expectedKeep, PURPOSE } from '../native/masks.js';
import { assertAllClose } from '../oracle/compare.js';
import { F32_ELEMENTWISE } from './tolerances.js';

const V = 11, D = 5;

function ids(n: number, seed: number): Int32Array {
  const rng = new Rng(seed, 9);
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * V));
}

describe('embedding', () => {
  it('gathers rows and adds scattered gradients (repeated ids), with and without word dropout', () => {
    const tok = ids(23, 1);
    for (const p of [0, 0.4]) {
      const layer = new Embedding({ numEmbeddings: V, embeddingDim: D, seed: 3 });
      const w = Float64Array.from(layer.weight.data);
      const noise = { seed: 4, epoch: 1, batch: 2, layer: 9 };
      const keep = p > 0 ? expectedKeep(noise, PURPOSE.word, p, V) : null;
      const s = (id: number) => (keep ? (keep[id] ? Math.fround(1 / (1 - p)) : 0) : 1);
      const y = layer.forward(tok, [tok.length], { training: true, wordDropout: p, noise });
      expect(y.shape).toEqual([tok.length, D]);
      const ref = new Float64Array(tok.length * D);
      tok.forEach((id, i) => { for (let j = 0; j < D; j++) ref[i * D + j] = w[id * D + j] * s(id); });
      assertAllClose(y.data, ref, F32_ELEMENTWISE, 'y');
      const rng = new Rng(7);
      const dy = Float32Array.from({ length: tok.length * D }, () => rng.normal());
      const preset = Float32Array.from({ length: V * D }, () => rng.normal());
      layer.weight.grad.set(preset);
      layer.backward({ data: dy, shape: [tok.length, D] }, { accumulate: true });
      const dW = Float64Array.from(preset);
      tok.forEach((id, i) => { for (let j = 0; j < D; j++) dW[id * D + j] += dy[i * D + j] * s(id); });
      assertAllClose(layer.weight.grad, dW, F32_ELEMENTWISE, 'dW');
      if (keep) expect(keep.includes(0) && keep.includes(1)).toBe(true);
    }
  });

  it('gives the same bytes for 1 and 2 threads on a long sequence; evaluation applies no word dropout', () => {
    const tok = ids(40000, 2);
    const threads = native().info().threads;
    const run = (n: number) => {
      native().setThreads(n);
      const layer = new Embedding({ numEmbeddings: V, embeddingDim: 64, seed: 3 });
      const y = layer.forward(tok, [tok.length], { training: true, wordDropout: 0.3, noise: { seed: 1, epoch: 0, batch: 0, layer: 0 } });
      layer.backward({ data: y.data, shape: [tok.length, 64] });
      return [Buffer.from(y.data.buffer), Buffer.from(layer.weight.grad.slice().buffer)];
    };
    try {
      const [y1, g1] = run(1);
      const [y2, g2] = run(2);
      expect(y1.equals(y2)).toBe(true);
      expect(g1.equals(g2)).toBe(true);
    } finally {
      native().setThreads(threads);
    }
    const layer = new Embedding({ numEmbeddings: V, embeddingDim: D, seed: 3 });
    const ev = layer.forward(ids(6, 3), [2, 3], { training: false, wordDropout: 0.9 });
    expect(ev.shape).toEqual([2, 3, D]);
    expect(ev.data.some((v) => v === 0)).toBe(false);
  });

  it('refuses ids outside the vocabulary, naming the position, and a mask other than 0/1', () => {
    const layer = new Embedding({ numEmbeddings: V, embeddingDim: D });
    expect(() => layer.forward(Int32Array.from([1, V, 2]), [3])).toThrow(/^embeddingForward: ids\[1\] = 11 is outside \[0, V\) = \[0, 11\)$/);
    expect(() => layer.forward(Int32Array.from([-1]), [1])).toThrow(/ids\[0\] = -1 is outside/);
    const mask = new Uint8Array(V).fill(1);
    mask[4] = 2;
    expect(() => layer.forward(Int32Array.from([1]), [1], { wordDropout: 0.5, rowMask: mask })).toThrow(/rowMask must hold only 0 and 1, got 2 at index 4/);
    expect(() => layer.forward(Int32Array.from([1]), [1], { wordDropout: 0.5 })).toThrow(/rowMask or noise is required when training with p > 0/);
    expect(() => layer.backward({ data: new Float32Array(D), shape: [1, D] })).toThrow(/call forward in training mode first/);
  });
});
