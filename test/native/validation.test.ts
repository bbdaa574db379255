// Every binding function rejects bad input with a TypeError (wrong kind of value) or RangeError
// (right kind, wrong value) that names the function and the argument; the *Async variants reject
// their Promise the same way. Nothing here may crash the process.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import type { EgruBackwardArgs, EgruForwardArgs } from '../../src/native/addon.js';
import { gruBackwardArgs, gruForwardArgs, linearArgs, linearBackwardArgs, randomF32 } from './helpers.js';

const addon = native();
type ErrorClass = typeof TypeError | typeof RangeError | typeof Error;

function expectThrow(fn: () => unknown, type: ErrorClass, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an error').toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
}

async function expectReject(p: Promise<unknown>, type: ErrorClass, message: RegExp): Promise<void> {
  expect(p).toBeInstanceOf(Promise); // an async variant never throws synchronously
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error, 'expected a rejection').toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
}

/** Calls both variants, named `${name}` and `${name}Async`, with a bad argument object. */
async function expectBoth(
  sync: (a: never) => unknown, async: (a: never) => Promise<unknown>, args: unknown,
  type: ErrorClass, name: string, message: string,
): Promise<void> {
  expectThrow(() => sync(args as never), type, new RegExp(`^${name}: ${message}`));
  await expectReject(async(args as never), type, new RegExp(`^${name}Async: ${message}`));
}

const rng = new Rng(9);

describe('info, setThreads, setGemmKernel', () => {
  it('info() reports the build', () => {
    const i = addon.info();
    expect(typeof i.version).toBe('string');
    expect(i.gemmKernels).toContain('builtin');
    expect(i.gemmKernels).toContain(i.gemm);
    expect(i.threads).toBeGreaterThanOrEqual(1);
    expect(typeof i.simd).toBe('string');
    expect(typeof i.cuda.compiled).toBe('boolean');
    expect(Array.isArray(i.cuda.devices)).toBe(true);
  });
  it('setThreads', () => {
    expectThrow(() => addon.setThreads(0), RangeError, /^setThreads: n must be an integer in \[1, 1024\], got 0$/);
    expectThrow(() => addon.setThreads(1.5), RangeError, /^setThreads: n must be an integer/);
    expectThrow(() => addon.setThreads(NaN), RangeError, /got NaN/);
    expectThrow(() => addon.setThreads('2' as never), TypeError, /^setThreads: n must be a number, got string$/);
    expectThrow(() => (addon.setThreads as () => void)(), TypeError, /n must be a number, got undefined/);
  });
  it('setGemmKernel', () => {
    expectThrow(() => addon.setGemmKernel(3 as never), TypeError, /^setGemmKernel: kernel must be a string/);
    expectThrow(() => addon.setGemmKernel('mkl' as never), RangeError, /^setGemmKernel: kernel must be 'openblas' or 'builtin', got 'mkl'$/);
    if (!addon.info().gemmKernels.includes('openblas')) {
      expectThrow(() => addon.setGemmKernel('openblas'), RangeError, /not compiled into this build/);
    }
  });
});

describe('gemm', () => {
  const A = new Float32Array(4);
  const B = new Float32Array(4);
  it('checks every argument', () => {
    expectThrow(() => addon.gemm(0 as never, false, 2, 2, 2, 1, A, B, 0, null), TypeError, /^gemm: transA must be a boolean, got number$/);
    expectThrow(() => addon.gemm(false, false, 0, 2, 2, 1, A, B, 0, null), RangeError, /^gemm: M must be an integer in \[1, \d+\], got 0$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2.5, 1, A, B, 0, null), RangeError, /^gemm: K must be an integer/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, NaN, A, B, 0, null), RangeError, /^gemm: alpha must be finite, got NaN$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, 1, new Float64Array(4) as never, B, 0, null), TypeError, /^gemm: A must be a Float32Array, got Float64Array$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, 1, [1, 2, 3, 4] as never, B, 0, null), TypeError, /^gemm: A must be a Float32Array, got array$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, 1, new Float32Array(3), B, 0, null), RangeError, /^gemm: A has length 3, expected M\*K = 4$/);
    expectThrow(() => addon.gemm(false, false, 2, 3, 2, 1, A, B, 0, null), RangeError, /^gemm: B has length 4, expected K\*N = 6$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, 1, A, B, Infinity, null), RangeError, /^gemm: beta must be finite, got Infinity$/);
    expectThrow(() => addon.gemm(false, false, 2, 2, 2, 1, A, B, 0, new Float32Array(5)), RangeError, /^gemm: C has length 5, expected M\*N = 4$/);
    expectThrow(() => (addon.gemm as (...a: unknown[]) => unknown)(false, false, 2, 2, 2, 1, A, B, 0), TypeError, /^gemm: C must be a Float32Array or null, got undefined$/);
  });
});

describe('linear', () => {
  it('forward: object, fields, types, lengths, dims', async () => {
    const ok = linearArgs(rng, 3, 4, 5);
    const f = addon.linearForward;
    const fa = addon.linearForwardAsync;
    await expectBoth(f, fa, 7, TypeError, 'linearForward', 'args must be an object, got number');
    await expectBoth(f, fa, null, TypeError, 'linearForward', 'args must be an object, got null');
    await expectBoth(f, fa, { ...ok, x: undefined }, TypeError, 'linearForward', 'x is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, bias: undefined }, TypeError, 'linearForward', 'bias is missing');
    await expectBoth(f, fa, { ...ok, weight: new Float64Array(20) }, TypeError, 'linearForward', 'weight must be a Float32Array, got Float64Array$');
    await expectBoth(f, fa, { ...ok, bias: [0, 0, 0, 0, 0] }, TypeError, 'linearForward', 'bias must be a Float32Array or null, got array$');
    await expectBoth(f, fa, { ...ok, weight: new Float32Array(19) }, RangeError, 'linearForward', 'weight has length 19, expected O\\*I = 20$');
    await expectBoth(f, fa, { ...ok, x: new Float32Array(13) }, RangeError, 'linearForward', 'x has length 13, expected M\\*I = 12$');
    await expectBoth(f, fa, { ...ok, bias: new Float32Array(4) }, RangeError, 'linearForward', 'bias has length 4, expected O = 5$');
    await expectBoth(f, fa, { ...ok, M: -1 }, RangeError, 'linearForward', 'M must be an integer in \\[1, \\d+\\], got -1$');
    await expectBoth(f, fa, { ...ok, O: '5' }, TypeError, 'linearForward', 'O must be a number, got string$');
  });
  it('backward: dy and needDx', async () => {
    const ok = linearBackwardArgs(rng, 3, 4, 5);
    const f = addon.linearBackward;
    const fa = addon.linearBackwardAsync;
    await expectBoth(f, fa, { ...ok, dy: new Float32Array(14) }, RangeError, 'linearBackward', 'dy has length 14, expected M\\*O = 15$');
    await expectBoth(f, fa, { ...ok, dy: null }, TypeError, 'linearBackward', 'dy must be a Float32Array, got null$');
    await expectBoth(f, fa, { ...ok, needDx: 1 }, TypeError, 'linearBackward', 'needDx must be a boolean, got number$');
  });
});

describe('gru', () => {
  it('forward: lengths name the formula, missing fields name the field', async () => {
    const ok = gruForwardArgs(rng, 3, 2, 4, 5);
    const f = addon.gruForward;
    const fa = addon.gruForwardAsync;
    await expectBoth(f, fa, { ...ok, x: new Float32Array(10) }, RangeError, 'gruForward', 'x has length 10, expected T\\*N\\*C = 24$');
    await expectBoth(f, fa, { ...ok, h0: new Float32Array(9) }, RangeError, 'gruForward', 'h0 has length 9, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, weightIh: new Float32Array(59) }, RangeError, 'gruForward', 'weightIh has length 59, expected 3\\*H\\*C = 60$');
    await expectBoth(f, fa, { ...ok, weightHh: new Float32Array(60) }, RangeError, 'gruForward', 'weightHh has length 60, expected 3\\*H\\*H = 75$');
    await expectBoth(f, fa, { ...ok, biasIh: new Float32Array(5) }, RangeError, 'gruForward', 'biasIh has length 5, expected 3\\*H = 15$');
    await expectBoth(f, fa, { ...ok, biasHh: new Int32Array(15) }, TypeError, 'gruForward', 'biasHh must be a Float32Array, got Int32Array$');
    await expectBoth(f, fa, { ...ok, training: undefined }, TypeError, 'gruForward', 'training is missing');
    await expectBoth(f, fa, { ...ok, H: 0 }, RangeError, 'gruForward', 'H must be an integer in \\[1, \\d+\\], got 0$');
    await expectBoth(f, fa, { ...ok, T: 2 ** 31 }, RangeError, 'gruForward', 'T must be an integer in \\[1, 2147483647\\]');
    await expectBoth(f, fa, { ...ok, T: 65536, N: 65536, x: new Float32Array(0) }, RangeError, 'gruForward', 'T\\*N = 4294967296 exceeds');
  });
  it('backward: y, cache, dy, dhT, needDx', async () => {
    const ok = gruBackwardArgs(rng, (a) => addon.gruForward(a), 3, 2, 4, 5);
    const f = addon.gruBackward;
    const fa = addon.gruBackwardAsync;
    const inference = addon.gruForward({ ...ok, training: false });
    expect(inference.cache.length).toBe(0);
    await expectBoth(f, fa, { ...ok, cache: inference.cache }, RangeError, 'gruBackward', `cache has length 0, expected the cache size of gruForward with training: true = ${ok.cache.length}$`);
    await expectBoth(f, fa, { ...ok, y: new Float32Array(29) }, RangeError, 'gruBackward', 'y has length 29, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, dy: new Float32Array(31) }, RangeError, 'gruBackward', 'dy has length 31, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, dhT: new Float32Array(11) }, RangeError, 'gruBackward', 'dhT has length 11, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, dhT: 0 }, TypeError, 'gruBackward', 'dhT must be a Float32Array or null, got number$');
    await expectBoth(f, fa, { ...ok, needDx: 'yes' }, TypeError, 'gruBackward', 'needDx must be a boolean, got string$');
  });
  it('a detached buffer reads as length 0; a throwing getter surfaces as its own error', async () => {
    const ok = gruForwardArgs(rng, 3, 2, 4, 5);
    const x = ok.x.slice();
    structuredClone(x.buffer, { transfer: [x.buffer] });
    await expectBoth(addon.gruForward, addon.gruForwardAsync, { ...ok, x }, RangeError, 'gruForward', 'x has length 0, expected T\\*N\\*C = 24$');
    const hostile = new Proxy({}, { get() { throw new Error('getter exploded'); } });
    expectThrow(() => addon.gruForward(hostile as never), Error, /^getter exploded$/);
    await expectReject(addon.gruForwardAsync(hostile as never), Error, /^getter exploded$/);
  });
});

describe('egru', () => {
  const T = 3, N = 2, C = 4, H = 5;
  const forwardOk = (): EgruForwardArgs => ({
    x: randomF32(rng, T * N * C), y0: null, zoneoutMask: null,
    kernel: randomF32(rng, C * 3 * H, 0.5), recurrentKernel: randomF32(rng, H * 3 * H, 0.5),
    bias: randomF32(rng, 3 * H, 0.5), recurrentBias: randomF32(rng, 3 * H, 0.5), thr: new Float32Array(H).fill(0.2),
    T, N, C, H, training: true, zoneout: 0, dampening: 0.7, support: 1, sparseInput: false, chunkFloats: 0,
    keepO: true, keepTrace: true,
  });
  it('forward: lengths name the formula, options are range-checked, a training zoneout needs its mask', async () => {
    const ok = forwardOk();
    const f = addon.egruForward;
    const fa = addon.egruForwardAsync;
    await expectBoth(f, fa, { ...ok, x: new Float32Array(10) }, RangeError, 'egruForward', 'x has length 10, expected T\\*N\\*C = 24$');
    await expectBoth(f, fa, { ...ok, kernel: new Float32Array(59) }, RangeError, 'egruForward', 'kernel has length 59, expected C\\*3\\*H = 60$');
    await expectBoth(f, fa, { ...ok, recurrentKernel: new Float32Array(60) }, RangeError, 'egruForward', 'recurrentKernel has length 60, expected H\\*3\\*H = 75$');
    await expectBoth(f, fa, { ...ok, thr: new Float32Array(4) }, RangeError, 'egruForward', 'thr has length 4, expected H = 5$');
    await expectBoth(f, fa, { ...ok, y0: new Float32Array(9) }, RangeError, 'egruForward', 'y0 has length 9, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, zoneout: 1 }, RangeError, 'egruForward', 'zoneout must be');
    await expectBoth(f, fa, { ...ok, dampening: -1 }, RangeError, 'egruForward', 'dampening must be');
    await expectBoth(f, fa, { ...ok, zoneout: 0.2 }, TypeError, 'egruForward', 'zoneoutMask is required when training with zoneout > 0$');
    await expectBoth(f, fa, { ...ok, zoneout: 0.2, zoneoutMask: new Uint8Array(29) }, RangeError, 'egruForward', 'zoneoutMask has length 29, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, zoneoutMask: new Float32Array(30) }, TypeError, 'egruForward', 'zoneoutMask must be a Uint8Array or null, got Float32Array$');
    await expectBoth(f, fa, { ...ok, keepO: undefined }, TypeError, 'egruForward', 'keepO is missing');
    // Evaluation with zoneout mixes with p and needs no mask.
    expect(addon.egruForward({ ...ok, training: false, zoneout: 0.2 }).y.length).toBe(T * N * H);
  });
  it('backward: needs the training forward\'s cache and active map', async () => {
    const ok = forwardOk();
    const fwd = addon.egruForward(ok);
    const args: EgruBackwardArgs = {
      ...ok, y: fwd.y, c: fwd.c, cache: fwd.cache, active: fwd.active, dy: new Float32Array(T * N * H).fill(1),
      dc: null, do: null, dtrace: null, needDx: true, dxActive: null, needDy0: true,
    };
    expect(addon.egruBackward(args).dThr.length).toBe(H);
    const f = addon.egruBackward;
    const fa = addon.egruBackwardAsync;
    const inference = addon.egruForward({ ...ok, training: false });
    await expectBoth(f, fa, { ...args, cache: inference.cache }, RangeError, 'egruBackward', `cache has length 0, expected the cache size of egruForward with training: true = ${fwd.cache.length}$`);
    await expectBoth(f, fa, { ...args, active: null }, TypeError, 'egruBackward', 'active must be the Uint8Array from egruForward with training: true$');
    await expectBoth(f, fa, { ...args, training: false }, RangeError, 'egruBackward', 'training must be true');
    await expectBoth(f, fa, { ...args, dc: new Float32Array(31) }, RangeError, 'egruBackward', 'dc has length 31, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...args, dxActive: new Uint8Array(5) }, RangeError, 'egruBackward', 'dxActive has length 5, expected T\\*N\\*C = 24$');
  });
});

describe('softmaxCrossEntropy', () => {
  const logits = new Float32Array(12);
  it('checks types, lengths and label range', () => {
    const ce = addon.softmaxCrossEntropy;
    expectThrow(() => ce(logits, new Float32Array(3) as never, 3, 4), TypeError, /^softmaxCrossEntropy: labels must be an Int32Array, got Float32Array$/);
    expectThrow(() => ce(new Float64Array(12) as never, new Int32Array(3), 3, 4), TypeError, /^softmaxCrossEntropy: logits must be a Float32Array/);
    expectThrow(() => ce(logits, new Int32Array(2), 3, 4), RangeError, /^softmaxCrossEntropy: labels has length 2, expected N = 3$/);
    expectThrow(() => ce(logits, new Int32Array(3), 3, 5), RangeError, /^softmaxCrossEntropy: logits has length 12, expected N\*K = 15$/);
    expectThrow(() => ce(logits, Int32Array.from([0, 3, 4]), 3, 4), RangeError, /^softmaxCrossEntropy: labels\[2\] = 4 is outside \[0, K\) = \[0, 4\)$/);
    expectThrow(() => ce(logits, Int32Array.from([0, -1, 0]), 3, 4), RangeError, /^softmaxCrossEntropy: labels\[1\] = -1 is outside/);
    expectThrow(() => ce(logits, new Int32Array(3), 0, 4), RangeError, /^softmaxCrossEntropy: N must be an integer/);
  });
});

describe('optimizers', () => {
  const p = new Float32Array(4);
  const g = new Float32Array(4);
  const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true };
  const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, decoupled: true };
  it('sgdStep', () => {
    const buf = new Float32Array(4);
    expectThrow(() => addon.sgdStep(p, new Float32Array(3), buf, sgd), RangeError, /^sgdStep: grad has length 3, expected param.length = 4$/);
    expectThrow(() => addon.sgdStep(p, g, new Float32Array(5), sgd), RangeError, /^sgdStep: momentumBuf has length 5, expected param.length = 4$/);
    expectThrow(() => addon.sgdStep(p, g, null, sgd), TypeError, /^sgdStep: momentumBuf must be a Float32Array when momentum != 0, got null$/);
    expectThrow(() => addon.sgdStep(p, g, buf, { ...sgd, lr: -1 }), RangeError, /^sgdStep: lr must be >= 0, got -1$/);
    expectThrow(() => addon.sgdStep(p, g, buf, { ...sgd, nesterov: true, dampening: 0.1 }), RangeError, /^sgdStep: nesterov requires momentum > 0 and dampening = 0/);
    expectThrow(() => addon.sgdStep(p, g, buf, { ...sgd, firstStep: undefined } as never), TypeError, /^sgdStep: firstStep is missing/);
    expectThrow(() => addon.sgdStep(p, g, buf, null as never), TypeError, /^sgdStep: options must be an object, got null$/);
    expectThrow(() => addon.sgdStep(p.buffer as never, g, buf, sgd), TypeError, /^sgdStep: param must be a Float32Array, got object$/);
  });
  it('adamStep', () => {
    const m = new Float32Array(4);
    const v = new Float32Array(4);
    expectThrow(() => addon.adamStep(p, g, m, new Float32Array(2), adam), RangeError, /^adamStep: v has length 2, expected param.length = 4$/);
    expectThrow(() => addon.adamStep(p, g, m, v, { ...adam, beta1: 1 }), RangeError, /^adamStep: beta1 must be in \[0, 1\), got 1$/);
    expectThrow(() => addon.adamStep(p, g, m, v, { ...adam, beta2: -0.1 }), RangeError, /^adamStep: beta2 must be in \[0, 1\)/);
    expectThrow(() => addon.adamStep(p, g, m, v, { ...adam, step: 0 }), RangeError, /^adamStep: step must be a positive safe integer, got 0$/);
    expectThrow(() => addon.adamStep(p, g, m, v, { ...adam, eps: NaN }), RangeError, /^adamStep: eps must be finite, got NaN$/);
    expectThrow(() => addon.adamStep(p, g, m, v, { ...adam, decoupled: 'true' } as never), TypeError, /^adamStep: decoupled must be a boolean, got string$/);
  });
  it('globalNorm and clipGlobalNorm', () => {
    expectThrow(() => addon.globalNorm(new Float32Array(3) as never), TypeError, /^globalNorm: grads must be an array of Float32Array$/);
    expectThrow(() => addon.globalNorm([g, [1, 2] as never]), TypeError, /^globalNorm: grads\[1\] must be a Float32Array, got array$/);
    expectThrow(() => addon.clipGlobalNorm([g], -1), RangeError, /^clipGlobalNorm: maxNorm must be >= 0, got -1$/);
    expectThrow(() => addon.clipGlobalNorm([g], NaN), RangeError, /^clipGlobalNorm: maxNorm must be finite, got NaN$/);
    expect(addon.globalNorm([])).toBe(0);
  });
});

describe('philox', () => {
  it('philoxUniform and philoxBlock', () => {
    const out = new Float32Array(4);
    expectThrow(() => addon.philoxUniform(new Float64Array(4) as never, 1n, 0n), TypeError, /^philoxUniform: out must be a Float32Array, got Float64Array$/);
    expectThrow(() => addon.philoxUniform(out, 1 as never, 0n), TypeError, /^philoxUniform: seed must be a bigint, got number$/);
    expectThrow(() => addon.philoxUniform(out, -1n, 0n), RangeError, /^philoxUniform: seed must be in \[0, 2\^64 - 1\]$/);
    expectThrow(() => addon.philoxUniform(out, 1n, 1n << 64n), RangeError, /^philoxUniform: offset must be in \[0, 2\^64 - 1\]$/);
    expectThrow(() => addon.philoxBlock(new Uint32Array(3), new Uint32Array(2)), RangeError, /^philoxBlock: counter has length 3, expected 4$/);
    expectThrow(() => addon.philoxBlock(new Uint32Array(4), new Int32Array(2) as never), TypeError, /^philoxBlock: key must be a Uint32Array, got Int32Array$/);
  });
});
