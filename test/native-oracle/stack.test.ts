// RecurrentStack against the float64 oracle composed layer by layer: per-layer widths (EvNN's
// language model has a last layer of another width), inverted dropout between layers with the
// engine's Philox masks (keyed by seed, epoch, batch and layer), initial and final states per
// layer, and gradients accumulated into every parameter's buffer.
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/layers/drive.js';
import { buildStack } from '../../src/layers/families.js';
import { zeroGrads } from '../../src/layers/parameters.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { gruBackward, gruForward, type GruParams } from '../oracle/gru.js';
import { randomNormal, toF32, toF64 } from '../oracle/random.js';
import { expectedKeep, PURPOSE } from '../native/masks.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

const T = 4, N = 3, C = 5;

describe.each(compiledGemmKernels())('RecurrentStack vs composed oracles (gemm %s)', (kernel) => {
  useGemmKernel(kernel);

  for (const dropout of [0, 0.4]) {
    it(`GRU cells of widths [7, 3]${dropout ? `, dropout ${dropout} between them` : ''}`, () => {
      const sizes = [7, 3];
      const stack = buildStack({ type: 'gru', hiddenSizes: sizes, options: {}, dropout }, C, 4, 'rnn.');
      expect(stack.outputSize).toBe(3);
      const byName = Object.fromEntries(stack.parameters().map((p) => [p.name, p]));
      expect(Object.keys(byName)).toEqual([
        'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0',
        'rnn.weight_ih_l1', 'rnn.weight_hh_l1', 'rnn.bias_ih_l1', 'rnn.bias_hh_l1',
      ]);
      expect(byName['rnn.weight_ih_l1'].shape).toEqual([9, 7]);
      const layer = (l: number): GruParams => ({
        weightIh: toF64(byName[`rnn.weight_ih_l${l}`].data), weightHh: toF64(byName[`rnn.weight_hh_l${l}`].data),
        biasIh: toF64(byName[`rnn.bias_ih_l${l}`].data), biasHh: toF64(byName[`rnn.bias_hh_l${l}`].data),
      });
      const rng = new Rng(8);
      const x = randomNormal(rng, T * N * C);
      const h0 = [randomNormal(rng, N * 7), randomNormal(rng, N * 3)];
      const dy = randomNormal(rng, T * N * 3);
      const dhN1 = randomNormal(rng, N * 3);
      const noise = { seed: 12, epoch: 1, batch: 2 };
      // Oracle: layer 0, dropout on its output (scale 1/(1 − p)), layer 1.
      const f0 = gruForward(layer(0), x, h0[0], { T, N, C, H: 7 });
      const keep = dropout > 0 ? expectedKeep({ ...noise, layer: 0 }, PURPOSE.dropout, dropout, f0.y.length) : null;
      const scale = Math.fround(1 / (1 - dropout));
      const dropped = keep ? f0.y.map((v, i) => (keep[i] ? Math.fround(Math.fround(v) * scale) : 0)) : f0.y;
      const f1 = gruForward(layer(1), dropped, h0[1], { T, N, C: 7, H: 3 });
      const g1 = gruBackward(layer(1), dropped, f1.tape, dy, dhN1, { T, N, C: 7, H: 3 });
      const dIn = keep ? g1.dx.map((v, i) => (keep[i] ? v * scale : 0)) : g1.dx;
      const g0 = gruBackward(layer(0), x, f0.tape, dIn, null, { T, N, C, H: 7 });

      const out = runSync(stack.forward(toF32(x), T, N, { training: true, noise, state0: [{ h: toF32(h0[0]) }, { h: toF32(h0[1]) }] }));
      assertAllClose(out.output, f1.y, F32_GEMM, 'y');
      assertAllClose(out.states[0].h, f0.y.subarray((T - 1) * N * 7), F32_GEMM, 'h_T of layer 0 (before dropout)');
      zeroGrads(stack.parameters());
      const back = runSync(stack.backward(out.saved!, { output: toF32(dy), states: [undefined, { h: toF32(dhN1) }] }, true));
      assertAllClose(back.input!, g0.dx, F32_GEMM, 'dx');
      assertAllClose(back.states[0].h, g0.dh0, F32_GEMM, 'dh0 of layer 0');
      assertAllClose(back.states[1].h, g1.dh0, F32_GEMM, 'dh0 of layer 1');
      assertAllClose(byName['rnn.weight_ih_l1'].grad, g1.dWeightIh, F32_GEMM, 'weight_ih_l1');
      assertAllClose(byName['rnn.weight_hh_l0'].grad, g0.dWeightHh, F32_GEMM, 'weight_hh_l0');
      assertAllClose(byName['rnn.bias_ih_l0'].grad, g0.dBiasIh, F32_GEMM, 'bias_ih_l0');
      // A training step frees each layer's engine state as soon as its backward has run.
      const again = runSync(stack.forward(toF32(x), T, N, { training: true, noise }));
      expect(again.saved!.layers.every((s) => s.handle.bytes > 0)).toBe(true);
      runSync(stack.backward(again.saved!, { output: toF32(dy) }, false, true));
      expect(again.saved!.layers.map((s) => s.handle.bytes)).toEqual([0, 0]);
      if (dropout > 0) expect(again.saved!.drops[0]!.bytes).toBe(0);
      expect(() => runSync(stack.backward(again.saved!, { output: toF32(dy) }, false))).toThrow(/saved was released/);
      // Evaluation applies no dropout.
      const ev = runSync(stack.forward(toF32(x), T, N, { training: false, state0: [{ h: toF32(h0[0]) }, { h: toF32(h0[1]) }] }));
      assertAllClose(ev.output, gruForward(layer(1), f0.y, h0[1], { T, N, C: 7, H: 3 }).y, F32_GEMM, 'eval y');
      expect(ev.saved).toBeNull();
    });
  }

  it('refuses layers whose sizes do not chain, and a dropout outside [0, 1)', () => {
    expect(() => buildStack({ type: 'lstm', hiddenSizes: [4, 4], options: {}, dropout: 1 }, C, 0, '')).toThrow(/dropout must be in \[0, 1\), got 1/);
    const lstm = buildStack({ type: 'lstm', hiddenSizes: [4], options: {} }, C, 0, '');
    expect(() => runSync(lstm.forward(new Float32Array(T * N * C), T, N, { training: false, state0: [{ y: new Float32Array(N * 4) }] }))).toThrow(
      /layer 0 \(lstm\) has no state 'y' \(its states: h, c\)/,
    );
    const a = buildStack({ type: 'gru', hiddenSizes: [4], options: {} }, C, 0, '');
    const b = buildStack({ type: 'gru', hiddenSizes: [6], options: {} }, 5, 0, '');
    expect(() => new (a.constructor as typeof import('../../src/layers/stack.js').RecurrentStack)([a.cells[0], b.cells[0]])).toThrow(
      /layer 1 takes 5 inputs but layer 0 gives 4/,
    );
  });
});
