// Native Conv2d, MaxPool2d and ReLU against the float64 oracles on odd shapes, for every GEMM
// kernel compiled in; gradients add (+=); 1 vs 2 threads; the async variants; argument errors;
// the TypeScript layers (names, PyTorch's init, shapes) over the same ops.
import { describe, expect, it } from 'vitest';
import { Conv2d } from '../../src/layers/conv2d.js';
import { MaxPool2d } from '../../src/layers/maxpool2d.js';
import { ReLU } from '../../src/layers/relu.js';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { conv2dBackward, conv2dForward, windowOutSize, type Conv2dDims } from '../oracle/conv2d.js';
import { maxPool2dBackward, maxPool2dForward, type MaxPool2dDims } from '../oracle/maxpool2d.js';
import { randomNormal, randomUniform, toF32, toF64 } from '../oracle/random.js';
import { firstDifference, plus, presetGradient, withThreads } from '../native/helpers.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_ELEMENTWISE, F32_GEMM } from './tolerances.js';

const conv = (p: Partial<Conv2dDims> & Pick<Conv2dDims, 'N' | 'C' | 'H' | 'W' | 'O' | 'KH' | 'KW'>): Conv2dDims => ({
  SH: 1, SW: 1, PH: 0, PW: 0, ...p,
});

const convCases: { name: string; d: Conv2dDims }[] = [
  { name: '3×3 pad 1, odd sizes', d: conv({ N: 3, C: 2, H: 13, W: 11, O: 5, KH: 3, KW: 3, PH: 1, PW: 1 }) },
  { name: '11×11 stride 4 pad 2 (EvNN layer 0)', d: conv({ N: 3, C: 1, H: 37, W: 29, O: 4, KH: 11, KW: 11, SH: 4, SW: 4, PH: 2, PW: 2 }) },
  { name: '5×2 stride 2,3 pad 2,1', d: conv({ N: 2, C: 3, H: 9, W: 7, O: 3, KH: 5, KW: 2, SH: 2, SW: 3, PH: 2, PW: 1 }) },
  { name: 'stride above the kernel', d: conv({ N: 2, C: 2, H: 10, W: 11, O: 3, KH: 2, KW: 2, SH: 3, SW: 3 }) },
  { name: '3×3 on a padded 1×1 map', d: conv({ N: 5, C: 6, H: 1, W: 1, O: 7, KH: 3, KW: 3, PH: 1, PW: 1 }) },
  { name: '5×5 pad 2 on 7×7 (EvNN layer 3 at 32)', d: conv({ N: 2, C: 4, H: 7, W: 7, O: 6, KH: 5, KW: 5, PH: 2, PW: 2 }) },
];

function convProblem(d: Conv2dDims, seed: number) {
  const rng = new Rng(seed, d.H, d.KH);
  const { OH, OW } = windowOutSize(d);
  const x = randomNormal(rng, d.N * d.C * d.H * d.W);
  const w = randomUniform(rng, d.O * d.C * d.KH * d.KW, 1 / Math.sqrt(d.C * d.KH * d.KW));
  const b = randomUniform(rng, d.O, 0.5);
  const dy = randomNormal(rng, d.N * d.O * OH * OW);
  return { rng, OH, OW, x, w, b, dy };
}

describe.each(compiledGemmKernels())('native Conv2d vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const { name, d } of convCases) {
    it(name, () => {
      const p = convProblem(d, 1);
      const { y } = native().conv2dForward({ ...d, x: toF32(p.x), weight: toF32(p.w), bias: toF32(p.b) });
      assertAllClose(y, conv2dForward(p.x, p.w, p.b, d), F32_GEMM, 'y');
      const ref = conv2dBackward(p.x, p.w, p.dy, d);
      // Preset gradient buffers: the backward must add to them.
      const dW = presetGradient(p.rng, ref.dWeight), dB = presetGradient(p.rng, ref.dBias);
      const r = native().conv2dBackward({
        ...d, OH: p.OH, OW: p.OW, x: toF32(p.x), weight: toF32(p.w), dy: toF32(p.dy), dWeight: dW.buffer, dBias: dB.buffer, needDx: true,
      });
      assertAllClose(r.dx!, ref.dx, F32_GEMM, 'dx');
      assertAllClose(dW.buffer, plus(dW.preset, ref.dWeight), F32_GEMM, 'dWeight (+= preset)');
      assertAllClose(dB.buffer, plus(dB.preset, ref.dBias), F32_GEMM, 'dBias (+= preset)');

      const noBias = native().conv2dForward({ ...d, x: toF32(p.x), weight: toF32(p.w), bias: null }).y;
      assertAllClose(noBias, conv2dForward(p.x, p.w, null, d), F32_GEMM, 'y without bias');
      const dW2 = new Float32Array(ref.dWeight.length);
      const r2 = native().conv2dBackward({
        ...d, OH: p.OH, OW: p.OW, x: toF32(p.x), weight: toF32(p.w), dy: toF32(p.dy), dWeight: dW2, dBias: null, needDx: false,
      });
      expect(r2.dx).toBeNull();
      assertAllClose(dW2, ref.dWeight, F32_GEMM, 'dWeight (needDx false, no bias)');

      // The fused ReLU: max(0, ·) forward; backward through the gate of the engine's own y.
      const yr = native().conv2dForward({ ...d, x: toF32(p.x), weight: toF32(p.w), bias: toF32(p.b), relu: true }).y;
      assertAllClose(yr, conv2dForward(p.x, p.w, p.b, d).map((v) => Math.max(v, 0)), F32_GEMM, 'y (relu)');
      const gated = p.dy.map((v, i) => (yr[i]! > 0 ? v : 0));
      expect(gated.some((v) => v === 0) && gated.some((v) => v !== 0)).toBe(true);
      const refR = conv2dBackward(p.x, p.w, gated, d);
      const dW3 = new Float32Array(ref.dWeight.length), dB3 = new Float32Array(d.O);
      const r3 = native().conv2dBackward({
        ...d, OH: p.OH, OW: p.OW, x: toF32(p.x), weight: toF32(p.w), dy: toF32(p.dy), dWeight: dW3, dBias: dB3, needDx: true, relu: true, y: yr,
      });
      assertAllClose(r3.dx!, refR.dx, F32_GEMM, 'dx (relu)');
      assertAllClose(dW3, refR.dWeight, F32_GEMM, 'dWeight (relu)');
      assertAllClose(dB3, refR.dBias, F32_GEMM, 'dBias (relu)');
    });
  }
});

describe('native Conv2d: threads, async, errors', () => {
  const { d } = convCases[1]!;
  const p = convProblem(d, 2);
  const run = () => {
    const y = native().conv2dForward({ ...d, x: toF32(p.x), weight: toF32(p.w), bias: toF32(p.b) }).y;
    const dWeight = new Float32Array(p.w.length), dBias = new Float32Array(d.O);
    const dx = native().conv2dBackward({ ...d, OH: p.OH, OW: p.OW, x: toF32(p.x), weight: toF32(p.w), dy: toF32(p.dy), dWeight, dBias, needDx: true }).dx!;
    return [y, dx, dWeight, dBias];
  };

  it('gives the same bits on 1 and 2 threads with the builtin GEMM (no split of K)', () => {
    const previous = native().info().gemm;
    native().setGemmKernel('builtin');
    try {
      const one = withThreads(1, run), two = withThreads(2, run);
      one.forEach((a, i) => expect(firstDifference(a, two[i]!)).toBeNull());
    } finally {
      native().setGemmKernel(previous);
    }
  });

  it('async variants give what the sync ones give', async () => {
    const [y, dx, dW] = run();
    const ya = (await native().conv2dForwardAsync({ ...d, x: toF32(p.x), weight: toF32(p.w), bias: toF32(p.b) })).y;
    const dWeight = new Float32Array(p.w.length);
    const dxa = (await native().conv2dBackwardAsync({
      ...d, OH: p.OH, OW: p.OW, x: toF32(p.x), weight: toF32(p.w), dy: toF32(p.dy), dWeight, dBias: null, needDx: true,
    })).dx!;
    expect(firstDifference(ya, y!)).toBeNull();
    expect(firstDifference(dxa, dx!)).toBeNull();
    expect(firstDifference(dWeight, dW!)).toBeNull();
  });

  it('rejects bad geometry with errors naming it', () => {
    const base = { ...d, x: toF32(p.x), weight: toF32(p.w), bias: null };
    expect(() => native().conv2dForward({ ...base, PH: 1.5 })).toThrow(/PH must be a whole number/);
    expect(() => native().conv2dForward({ ...base, PH: -1 })).toThrow(/PH/);
    expect(() => native().conv2dForward({ ...base, SH: 0 })).toThrow(/SH/);
    expect(() => native().conv2dForward({ ...base, H: 5, x: new Float32Array(d.N * 5 * d.W), PH: 0 })).toThrow(/height window \(11\) is larger/);
    expect(() => native().conv2dForward({ ...base, weight: new Float32Array(3) })).toThrow(/weight has length 3, expected O\*C\*KH\*KW/);
    const back = { ...d, x: toF32(p.x), weight: toF32(p.w), dWeight: new Float32Array(p.w.length), dBias: null, needDx: true };
    expect(() => native().conv2dBackward({ ...back, OH: p.OH + 1, OW: p.OW, dy: new Float32Array(d.N * d.O * (p.OH + 1) * p.OW) }))
      .toThrow(/OH×OW = 9×6 but this geometry gives 8×6/);
    expect(() => native().conv2dBackward({ ...back, OH: p.OH, OW: p.OW, dy: toF32(p.dy), relu: true }))
      .toThrow(/relu: true needs y, the forward's output/);
  });
});

const poolCases: { d: MaxPool2dDims; zeros: number }[] = [
  { d: { N: 2, C: 3, H: 15, W: 13, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, PW: 0 }, zeros: 0 },
  { d: { N: 2, C: 3, H: 15, W: 15, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, PW: 0 }, zeros: 0.6 },
  { d: { N: 2, C: 2, H: 8, W: 9, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1 }, zeros: 0.3 },
  { d: { N: 1, C: 2, H: 7, W: 10, KH: 2, KW: 3, SH: 1, SW: 3, PH: 1, PW: 1 }, zeros: 0.5 },
  { d: { N: 3, C: 1, H: 11, W: 10, KH: 3, KW: 3, SH: 3, SW: 3, PH: 0, PW: 0 }, zeros: 0 },
  { d: { N: 4, C: 5, H: 3, W: 3, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, PW: 0 }, zeros: 1 },
  { d: { N: 2, C: 2, H: 5, W: 151, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, PW: 0 }, zeros: 0.5 },
];

describe('native MaxPool2d vs oracle', () => {
  for (const { d, zeros } of poolCases) {
    it(`${d.H}×${d.W} k=${d.KH}×${d.KW} s=${d.SH},${d.SW} p=${d.PH},${d.PW}, ${zeros * 100}% zeros (ties)`, async () => {
      const rng = new Rng(3, d.H, d.KW);
      const { OH, OW } = windowOutSize(d);
      const x = randomNormal(rng, d.N * d.C * d.H * d.W).map((v) => (rng.uniform() < zeros ? 0 : v));
      const dy = randomNormal(rng, d.N * d.C * OH * OW);
      const ref = maxPool2dForward(x, d);
      for (const threads of [1, 2]) {
        withThreads(threads, () => {
          const f = native().maxPool2dForward({ ...d, x: toF32(x), training: true });
          expect(Array.from(f.y)).toEqual(Array.from(ref.y));
          const { dx } = native().maxPool2dBackward({ saved: f.saved!, dy: toF32(dy) });
          // Ties route to one winner only: a wrong choice moves a whole dy, O(1).
          assertAllClose(dx, maxPool2dBackward(ref.argmax, dy, d), F32_ELEMENTWISE, 'dx');
        });
      }
      const fa = await native().maxPool2dForwardAsync({ ...d, x: toF32(x), training: true });
      expect(Array.from(fa.y)).toEqual(Array.from(ref.y));
      const dxa = (await native().maxPool2dBackwardAsync({ saved: fa.saved!, dy: toF32(dy) })).dx;
      assertAllClose(dxa, maxPool2dBackward(ref.argmax, dy, d), F32_ELEMENTWISE, 'dx (async)');
    });
  }

  it('keeps no handle in evaluation, and rejects padding above half the window', () => {
    const d = poolCases[0]!.d;
    const f = native().maxPool2dForward({ ...d, x: new Float32Array(d.N * d.C * d.H * d.W), training: false });
    expect(f.saved).toBeNull();
    expect(() => native().maxPool2dForward({ ...d, PH: 2, x: new Float32Array(d.N * d.C * d.H * d.W), training: true }))
      .toThrow(/at most half the window/);
    const g = native().maxPool2dForward({ ...d, x: new Float32Array(d.N * d.C * d.H * d.W), training: true });
    expect(() => native().maxPool2dBackward({ saved: g.saved!, dy: new Float32Array(3) })).toThrow(/dy has length 3/);
  });
});

describe('native ReLU', () => {
  it('is max(x, 0) forward and passes dy only where y > 0', () => {
    const rng = new Rng(4);
    const x = toF32(randomNormal(rng, 100_003));
    x[7] = 0;
    const dy = toF32(randomNormal(rng, x.length));
    const { y } = native().reluForward({ n: x.length, x });
    const { dx } = native().reluBackward({ n: x.length, y, dy });
    expect(Array.from(y)).toEqual(Array.from(x, (v) => (v > 0 ? v : 0)));
    expect(Array.from(dx)).toEqual(Array.from(x, (v, i) => (v > 0 ? dy[i]! : 0)));
  });
});

describe('TypeScript layers over the native ops', () => {
  it('Conv2d: PyTorch names and init bound, forward and backward as the oracle', async () => {
    const layer = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: [5, 2], stride: [2, 3], padding: [2, 1], seed: 7, prefix: 'conv.3.' });
    expect(layer.parameters().map((q) => [q.name, q.shape])).toEqual([['conv.3.weight', [4, 3, 5, 2]], ['conv.3.bias', [4]]]);
    const bound = 1 / Math.sqrt(3 * 5 * 2);
    const wmax = Math.max(...Array.from(layer.weight.data, Math.abs)), bmax = Math.max(...Array.from(layer.bias!.data, Math.abs));
    expect(wmax).toBeLessThanOrEqual(bound);
    expect(wmax).toBeGreaterThan(0.8 * bound);  // uniform over the whole range, not a narrower one
    expect(bmax).toBeLessThanOrEqual(bound);
    const d = conv({ N: 2, C: 3, H: 9, W: 7, O: 4, KH: 5, KW: 2, SH: 2, SW: 3, PH: 2, PW: 1 });
    const p = convProblem(d, 8);
    layer.loadState({ 'conv.3.weight': { data: toF32(p.w), shape: [4, 3, 5, 2] }, 'conv.3.bias': { data: toF32(p.b), shape: [4] } });
    const y = await layer.forwardAsync({ data: toF32(p.x), shape: [2, 3, 9, 7] });
    expect(y.shape).toEqual([2, 4, p.OH, p.OW]);
    assertAllClose(y.data, conv2dForward(p.x, p.w, p.b, d), F32_GEMM, 'y');
    const g = layer.backward({ data: toF32(p.dy), shape: y.shape });
    const ref = conv2dBackward(p.x, p.w, p.dy, d);
    assertAllClose(g.input!.data, ref.dx, F32_GEMM, 'dx');
    assertAllClose(g.params['conv.3.weight']!, ref.dWeight, F32_GEMM, 'dWeight');
    assertAllClose(g.params['conv.3.bias']!, ref.dBias, F32_GEMM, 'dBias');
    expect(() => layer.forward({ data: new Float32Array(2 * 2 * 9 * 7), shape: [2, 2, 9, 7] })).toThrow(/expected dimension 1 to be 3/);
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride: 0 })).toThrow(/stride must be integers >= 1/);

    // With the fused ReLU the layer keeps its output as the gate.
    const fused = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: [5, 2], stride: [2, 3], padding: [2, 1], relu: true, prefix: 'conv.3.' });
    fused.loadState(layer.state());
    const yr = fused.forward({ data: toF32(p.x), shape: [2, 3, 9, 7] });
    assertAllClose(yr.data, conv2dForward(p.x, p.w, p.b, d).map((v) => Math.max(v, 0)), F32_GEMM, 'y (relu layer)');
    const gr = fused.backward({ data: toF32(p.dy), shape: yr.shape });
    const refR = conv2dBackward(p.x, p.w, p.dy.map((v, i) => (yr.data[i]! > 0 ? v : 0)), d);
    assertAllClose(gr.input!.data, refR.dx, F32_GEMM, 'dx (relu layer)');
    assertAllClose(gr.params['conv.3.weight']!, refR.dWeight, F32_GEMM, 'dWeight (relu layer)');
  });

  it('MaxPool2d and ReLU layers: shapes, stride defaulting to the window, gradients', () => {
    const pool = new MaxPool2d({ kernelSize: 3 });
    expect(pool.stride).toEqual([3, 3]);
    const d: MaxPool2dDims = { N: 2, C: 2, H: 10, W: 8, KH: 3, KW: 3, SH: 3, SW: 3, PH: 0, PW: 0 };
    const rng = new Rng(12);
    const x = randomNormal(rng, 2 * 2 * 10 * 8);
    const relu = new ReLU();
    const a = relu.forward({ data: toF32(x), shape: [2, 2, 10, 8] });
    const y = pool.forward(a);
    expect(y.shape).toEqual([2, 2, 3, 2]);
    const ax = toF64(a.data);
    const ref = maxPool2dForward(ax, d);
    expect(Array.from(y.data)).toEqual(Array.from(ref.y));
    const dy = randomNormal(rng, y.data.length);
    const da = pool.backward({ data: toF32(dy), shape: y.shape });
    const dx = relu.backward(da);
    const expected = maxPool2dBackward(ref.argmax, dy, d).map((v, i) => (ax[i]! > 0 ? v : 0));
    assertAllClose(dx.data, expected, F32_ELEMENTWISE, 'dx through pool and relu');
    expect(() => new MaxPool2d({ kernelSize: 3, padding: 2 })).toThrow(/at most half the window/);
    const evalPool = new MaxPool2d({ kernelSize: 2 });
    evalPool.forward(a, { training: false });
    expect(() => evalPool.backward(y)).toThrow(/call forward in training mode first/);
  });
});
