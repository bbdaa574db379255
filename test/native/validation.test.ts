// Every binding function rejects bad input with a TypeError (wrong kind of value) or RangeError
// (right kind, wrong value) that names the function and the argument; the *Async variants reject
// their Promise the same way. Nothing here may crash the process.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { expectedKeep, PURPOSE } from './masks.js';
import { Rng } from '../../src/util/rng.js';
import {
  egruBackwardArgs, egruForwardArgs, egruGrads, firstDifference, gruBackwardArgs, gruForwardArgs, gruGrads, linearArgs,
  linearBackwardArgs, lstmBackwardArgs, lstmForwardArgs, savedClass,
} from './helpers.js';

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
    // what CMake decided: on (with where cuBLAS came from), a compile check only, or off and why
    expect(i.cuda.build).toMatch(i.cuda.compiled ? /^on \(nvcc .*cuBLAS from / : /^(compile check only|off) \(/);
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
  it('backward: dy, needDx and the gradient buffers it adds into', async () => {
    const ok = linearBackwardArgs(rng, 3, 4, 5);
    const f = addon.linearBackward;
    const fa = addon.linearBackwardAsync;
    await expectBoth(f, fa, { ...ok, dy: new Float32Array(14) }, RangeError, 'linearBackward', 'dy has length 14, expected M\\*O = 15$');
    await expectBoth(f, fa, { ...ok, dy: null }, TypeError, 'linearBackward', 'dy must be a Float32Array, got null$');
    await expectBoth(f, fa, { ...ok, needDx: 1 }, TypeError, 'linearBackward', 'needDx must be a boolean, got number$');
    await expectBoth(f, fa, { ...ok, dWeight: undefined }, TypeError, 'linearBackward', 'dWeight is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, dWeight: null }, TypeError, 'linearBackward', 'dWeight must be a Float32Array, got null$');
    await expectBoth(f, fa, { ...ok, dWeight: new Float32Array(21) }, RangeError, 'linearBackward', 'dWeight has length 21, expected O\\*I = 20$');
    await expectBoth(f, fa, { ...ok, dBias: new Float32Array(4) }, RangeError, 'linearBackward', 'dBias has length 4, expected O = 5$');
    await expectBoth(f, fa, { ...ok, dBias: new Float64Array(5) }, TypeError, 'linearBackward', 'dBias must be a Float32Array or null, got Float64Array$');
    await expectBoth(f, fa, { ...ok, dBias: undefined }, TypeError, 'linearBackward', 'dBias is missing');
    // A refused call adds nothing; a null dBias is accepted (a layer without bias).
    expect(ok.dWeight.every((v) => v === 0)).toBe(true);
    expect(Object.keys(addon.linearBackward({ ...ok, dBias: null }))).toEqual(['dx']);
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
    await expectBoth(f, fa, { ...ok, chunkFloats: undefined }, TypeError, 'gruForward', 'chunkFloats is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, chunkFloats: -1 }, RangeError, 'gruForward', 'chunkFloats must be >= 0, got -1$');
    await expectBoth(f, fa, { ...ok, chunkFloats: Infinity }, RangeError, 'gruForward', 'chunkFloats must be finite, got Infinity$');
    await expectBoth(f, fa, { ...ok, chunkFloats: '64' }, TypeError, 'gruForward', 'chunkFloats must be a number, got string$');
    await expectBoth(f, fa, { ...ok, H: 0 }, RangeError, 'gruForward', 'H must be an integer in \\[1, \\d+\\], got 0$');
    await expectBoth(f, fa, { ...ok, T: 2 ** 31 }, RangeError, 'gruForward', 'T must be an integer in \\[1, 2147483647\\]');
    await expectBoth(f, fa, { ...ok, T: 65536, N: 65536, x: new Float32Array(0) }, RangeError, 'gruForward', 'T\\*N = 4294967296 exceeds');
  });
  it('backward: the saved handle replaces y and the cache; dy, dhT, gradient buffers, needDx', async () => {
    const ok = gruBackwardArgs(rng, (a) => addon.gruForward(a), 3, 2, 4, 5);
    const f = addon.gruBackward;
    const fa = addon.gruBackwardAsync;
    const handle = 'saved must be the handle from gruForward with training: true';
    const inference = addon.gruForward({ ...ok.forward, training: false });
    expect(inference.saved).toBeNull();
    await expectBoth(f, fa, { ...ok, saved: inference.saved }, TypeError, 'gruBackward', `${handle}$`);
    await expectBoth(f, fa, { ...ok, saved: undefined }, TypeError, 'gruBackward', 'saved is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, saved: ok.y }, TypeError, 'gruBackward', `${handle}$`);
    await expectBoth(f, fa, { ...ok, T: 4 }, RangeError, 'gruBackward', 'saved was made with T = 3, got T = 4$');
    await expectBoth(f, fa, { ...ok, N: 3 }, RangeError, 'gruBackward', 'saved was made with N = 2, got N = 3$');
    await expectBoth(f, fa, { ...ok, C: 3 }, RangeError, 'gruBackward', 'saved was made with C = 4, got C = 3$');
    await expectBoth(f, fa, { ...ok, H: 6 }, RangeError, 'gruBackward', 'saved was made with H = 5, got H = 6$');
    await expectBoth(f, fa, { ...ok, dy: new Float32Array(31) }, RangeError, 'gruBackward', 'dy has length 31, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, dhT: new Float32Array(11) }, RangeError, 'gruBackward', 'dhT has length 11, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, dhT: 0 }, TypeError, 'gruBackward', 'dhT must be a Float32Array or null, got number$');
    await expectBoth(f, fa, { ...ok, needDx: 'yes' }, TypeError, 'gruBackward', 'needDx must be a boolean, got string$');
    await expectBoth(f, fa, { ...ok, chunkFloats: -2 }, RangeError, 'gruBackward', 'chunkFloats must be >= 0, got -2$');
    await expectBoth(f, fa, { ...ok, weightHh: new Float32Array(74) }, RangeError, 'gruBackward', 'weightHh has length 74, expected 3\\*H\\*H = 75$');
    await expectBoth(f, fa, { ...ok, dWeightIh: new Float32Array(59) }, RangeError, 'gruBackward', 'dWeightIh has length 59, expected 3\\*H\\*C = 60$');
    await expectBoth(f, fa, { ...ok, dWeightHh: new Float32Array(76) }, RangeError, 'gruBackward', 'dWeightHh has length 76, expected 3\\*H\\*H = 75$');
    await expectBoth(f, fa, { ...ok, dBiasIh: new Float32Array(5) }, RangeError, 'gruBackward', 'dBiasIh has length 5, expected 3\\*H = 15$');
    await expectBoth(f, fa, { ...ok, dBiasHh: null }, TypeError, 'gruBackward', 'dBiasHh must be a Float32Array, got null$');
    await expectBoth(f, fa, { ...ok, dWeightIh: undefined }, TypeError, 'gruBackward', 'dWeightIh is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, dWeightHh: new Float64Array(75) }, TypeError, 'gruBackward', 'dWeightHh must be a Float32Array, got Float64Array$');
    // Refused calls added nothing to the caller's buffers.
    for (const k of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) expect(ok[k].every((v) => v === 0), k).toBe(true);
    expect(addon.gruBackward(ok).dh0.length).toBe(10);
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

describe('lstm', () => {
  it('forward: lengths name the formula (4H gate blocks), options are checked', async () => {
    const ok = lstmForwardArgs(rng, 3, 2, 4, 5);
    const f = addon.lstmForward;
    const fa = addon.lstmForwardAsync;
    await expectBoth(f, fa, 'x', TypeError, 'lstmForward', 'args must be an object, got string$');
    await expectBoth(f, fa, { ...ok, x: new Float32Array(25) }, RangeError, 'lstmForward', 'x has length 25, expected T\\*N\\*C = 24$');
    await expectBoth(f, fa, { ...ok, h0: new Float32Array(9) }, RangeError, 'lstmForward', 'h0 has length 9, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, c0: new Float32Array(11) }, RangeError, 'lstmForward', 'c0 has length 11, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, c0: [0] }, TypeError, 'lstmForward', 'c0 must be a Float32Array or null, got array$');
    await expectBoth(f, fa, { ...ok, c0: undefined }, TypeError, 'lstmForward', 'c0 is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, weightIh: new Float32Array(60) }, RangeError, 'lstmForward', 'weightIh has length 60, expected 4\\*H\\*C = 80$');
    await expectBoth(f, fa, { ...ok, weightHh: new Float32Array(75) }, RangeError, 'lstmForward', 'weightHh has length 75, expected 4\\*H\\*H = 100$');
    await expectBoth(f, fa, { ...ok, biasIh: new Float32Array(15) }, RangeError, 'lstmForward', 'biasIh has length 15, expected 4\\*H = 20$');
    await expectBoth(f, fa, { ...ok, biasHh: new Uint8Array(20) }, TypeError, 'lstmForward', 'biasHh must be a Float32Array, got Uint8Array$');
    await expectBoth(f, fa, { ...ok, training: 1 }, TypeError, 'lstmForward', 'training must be a boolean, got number$');
    await expectBoth(f, fa, { ...ok, chunkFloats: NaN }, RangeError, 'lstmForward', 'chunkFloats must be finite, got NaN$');
    await expectBoth(f, fa, { ...ok, C: 0 }, RangeError, 'lstmForward', 'C must be an integer in \\[1, \\d+\\], got 0$');
    await expectBoth(f, fa, { ...ok, N: 1.5 }, RangeError, 'lstmForward', 'N must be an integer');
    await expectBoth(f, fa, { ...ok, T: 65536, N: 65536, x: new Float32Array(0) }, RangeError, 'lstmForward', 'T\\*N = 4294967296 exceeds');
    await expectBoth(f, fa, { ...ok, H: 2 ** 30 }, RangeError, 'lstmForward', '4\\*H = 4294967296 exceeds');
    expect(addon.lstmForward({ ...ok, h0: null, c0: null }).cN.length).toBe(10);
  });
  it('backward: the saved handle, dy, dhN, dcN, gradient buffers, needDx', async () => {
    const ok = lstmBackwardArgs(rng, (a) => addon.lstmForward(a), 3, 2, 4, 5);
    const f = addon.lstmBackward;
    const fa = addon.lstmBackwardAsync;
    const handle = 'saved must be the handle from lstmForward with training: true';
    expect(addon.lstmForward({ ...ok.forward, training: false }).saved).toBeNull();
    await expectBoth(f, fa, { ...ok, saved: null }, TypeError, 'lstmBackward', `${handle}$`);
    await expectBoth(f, fa, { ...ok, saved: 3 }, TypeError, 'lstmBackward', `${handle}$`);
    await expectBoth(f, fa, { ...ok, T: 2 }, RangeError, 'lstmBackward', 'saved was made with T = 3, got T = 2$');
    await expectBoth(f, fa, { ...ok, H: 4 }, RangeError, 'lstmBackward', 'saved was made with H = 5, got H = 4$');
    await expectBoth(f, fa, { ...ok, dy: new Float32Array(29) }, RangeError, 'lstmBackward', 'dy has length 29, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, dhN: new Float32Array(9) }, RangeError, 'lstmBackward', 'dhN has length 9, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, dcN: new Float32Array(30) }, RangeError, 'lstmBackward', 'dcN has length 30, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, dcN: undefined }, TypeError, 'lstmBackward', 'dcN is missing');
    await expectBoth(f, fa, { ...ok, needDx: null }, TypeError, 'lstmBackward', 'needDx must be a boolean, got null$');
    await expectBoth(f, fa, { ...ok, weightIh: new Float32Array(81) }, RangeError, 'lstmBackward', 'weightIh has length 81, expected 4\\*H\\*C = 80$');
    await expectBoth(f, fa, { ...ok, dWeightIh: new Float32Array(60) }, RangeError, 'lstmBackward', 'dWeightIh has length 60, expected 4\\*H\\*C = 80$');
    await expectBoth(f, fa, { ...ok, dWeightHh: new Float32Array(75) }, RangeError, 'lstmBackward', 'dWeightHh has length 75, expected 4\\*H\\*H = 100$');
    await expectBoth(f, fa, { ...ok, dBiasIh: new Float32Array(21) }, RangeError, 'lstmBackward', 'dBiasIh has length 21, expected 4\\*H = 20$');
    await expectBoth(f, fa, { ...ok, dBiasHh: new Float32Array(15) }, RangeError, 'lstmBackward', 'dBiasHh has length 15, expected 4\\*H = 20$');
    await expectBoth(f, fa, { ...ok, dBiasHh: null }, TypeError, 'lstmBackward', 'dBiasHh must be a Float32Array, got null$');
    for (const k of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) expect(ok[k].every((v) => v === 0), k).toBe(true);
    const r = addon.lstmBackward({ ...ok, dy: null, dhN: null, dcN: null, needDx: false });
    expect(r.dx).toBeNull();
    expect(r.dc0.length).toBe(10);
  });
});

describe('egru', () => {
  const T = 3, N = 2, C = 4, H = 5;
  const noise = { seed: 1, epoch: 0, batch: 0, layer: 0 };
  it('forward: lengths name the formula, options are range-checked, a training zoneout/DropConnect needs a mask or noise', async () => {
    const ok = egruForwardArgs(rng, T, N, C, H);
    const f = addon.egruForward;
    const fa = addon.egruForwardAsync;
    await expectBoth(f, fa, { ...ok, x: new Float32Array(10) }, RangeError, 'egruForward', 'x has length 10, expected T\\*N\\*C = 24$');
    await expectBoth(f, fa, { ...ok, kernel: new Float32Array(59) }, RangeError, 'egruForward', 'kernel has length 59, expected C\\*3\\*H = 60$');
    await expectBoth(f, fa, { ...ok, recurrentKernel: new Float32Array(60) }, RangeError, 'egruForward', 'recurrentKernel has length 60, expected H\\*3\\*H = 75$');
    await expectBoth(f, fa, { ...ok, thr: new Float32Array(4) }, RangeError, 'egruForward', 'thr has length 4, expected H = 5$');
    await expectBoth(f, fa, { ...ok, y0: new Float32Array(9) }, RangeError, 'egruForward', 'y0 has length 9, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...ok, zoneout: 1 }, RangeError, 'egruForward', 'zoneout must be in \\[0, 1\\), got 1$');
    await expectBoth(f, fa, { ...ok, dropconnect: -0.1 }, RangeError, 'egruForward', 'dropconnect must be in \\[0, 1\\)');
    await expectBoth(f, fa, { ...ok, dropconnect: undefined }, TypeError, 'egruForward', 'dropconnect is missing');
    await expectBoth(f, fa, { ...ok, dampening: -1 }, RangeError, 'egruForward', 'dampening must be >= 0, got -1$');
    await expectBoth(f, fa, { ...ok, support: NaN }, RangeError, 'egruForward', 'support must be finite, got NaN$');
    await expectBoth(f, fa, { ...ok, zoneout: 0.2 }, TypeError, 'egruForward', 'zoneoutMask or noise is required when training with zoneout > 0$');
    await expectBoth(f, fa, { ...ok, dropconnect: 0.2 }, TypeError, 'egruForward', 'dropconnectMask or noise is required when training with dropconnect > 0$');
    await expectBoth(f, fa, { ...ok, zoneout: 0.2, zoneoutMask: new Uint8Array(29) }, RangeError, 'egruForward', 'zoneoutMask has length 29, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...ok, zoneoutMask: new Float32Array(30) }, TypeError, 'egruForward', 'zoneoutMask must be a Uint8Array or null, got Float32Array$');
    await expectBoth(f, fa, { ...ok, dropconnectMask: new Uint8Array(74) }, RangeError, 'egruForward', 'dropconnectMask has length 74, expected H\\*3\\*H = 75$');
    await expectBoth(f, fa, { ...ok, dropconnectMask: new Int32Array(75) }, TypeError, 'egruForward', 'dropconnectMask must be a Uint8Array or null, got Int32Array$');
    const notBinary = new Uint8Array(T * N * H).fill(1);
    notBinary[3] = 2;
    await expectBoth(f, fa, { ...ok, zoneout: 0.2, zoneoutMask: notBinary }, RangeError, 'egruForward', 'zoneoutMask must hold only 0 and 1, got 2 at index 3$');
    const dcNotBinary = new Uint8Array(H * 3 * H).fill(1);
    dcNotBinary[74] = 255;
    await expectBoth(f, fa, { ...ok, dropconnect: 0.5, dropconnectMask: dcNotBinary }, RangeError, 'egruForward', 'dropconnectMask must hold only 0 and 1, got 255 at index 74$');
    await expectBoth(f, fa, { ...ok, keepO: undefined }, TypeError, 'egruForward', 'keepO is missing');
    await expectBoth(f, fa, { ...ok, chunkFloats: -64 }, RangeError, 'egruForward', 'chunkFloats must be >= 0, got -64$');
    // Evaluation with zoneout mixes with p and DropConnect is off: neither needs a mask or noise.
    expect(addon.egruForward({ ...ok, training: false, zoneout: 0.2, dropconnect: 0.3 }).y.length).toBe(T * N * H);
    // noise instead of masks: drawn in the engine.
    expect(addon.egruForward({ ...ok, zoneout: 0.2, dropconnect: 0.3, noise }).saved!.madeBy).toBe('egruForward');
  });
  it('forward: noise is null or {seed, epoch, batch, layer} of safe integers', async () => {
    const ok = { ...egruForwardArgs(rng, T, N, C, H), zoneout: 0.2 };
    const f = addon.egruForward;
    const fa = addon.egruForwardAsync;
    await expectBoth(f, fa, { ...ok, noise: undefined }, TypeError, 'egruForward', 'noise is missing \\(undefined\\)$');
    await expectBoth(f, fa, { ...ok, noise: 7 }, TypeError, 'egruForward', 'noise must be an object, got number$');
    await expectBoth(f, fa, { ...ok, noise: [1, 0, 0, 0] }, TypeError, 'egruForward', 'noise must be an object, got array$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, seed: -1 } }, RangeError, 'egruForward', 'noise.seed must be an integer in \\[0, 9007199254740991\\]$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, seed: 2 ** 53 } }, RangeError, 'egruForward', 'noise.seed must be an integer in \\[0, 9007199254740991\\]$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, seed: 1n } }, TypeError, 'egruForward', 'noise.seed must be a number, got bigint$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, epoch: 1.5 } }, RangeError, 'egruForward', 'noise.epoch must be an integer in \\[0, 4294967295\\]$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, batch: 2 ** 32 } }, RangeError, 'egruForward', 'noise.batch must be an integer in \\[0, 4294967295\\]$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, layer: NaN } }, RangeError, 'egruForward', 'noise.layer must be finite, got NaN$');
    await expectBoth(f, fa, { ...ok, noise: { ...noise, layer: '0' } }, TypeError, 'egruForward', 'noise.layer must be a number, got string$');
    await expectBoth(f, fa, { ...ok, noise: { seed: 1, epoch: 0, batch: 0 } }, TypeError, 'egruForward', 'noise.layer is missing \\(undefined\\)$');
    expect(addon.egruForward({ ...ok, noise: { seed: 2 ** 53 - 1, epoch: 2 ** 32 - 1, batch: 0, layer: 2 ** 32 - 1 } }).y.length).toBe(T * N * H);
  });
  it('backward: the saved handle replaces y, c, the cache and the active map; below or dxActive limit dx', async () => {
    const ok = egruForwardArgs(rng, T, N, C, H);
    const fwd = addon.egruForward(ok);
    const args = egruBackwardArgs(ok, fwd.saved!);
    expect(addon.egruBackward(args).dx!.length).toBe(T * N * C);
    expect(args.dThr.some((v) => v !== 0)).toBe(true);
    const f = addon.egruBackward;
    const fa = addon.egruBackwardAsync;
    const handle = 'saved must be the handle from egruForward with training: true';
    const inference = addon.egruForward({ ...ok, training: false });
    expect(inference.saved).toBeNull();
    await expectBoth(f, fa, { ...args, saved: inference.saved }, TypeError, 'egruBackward', `${handle}$`);
    await expectBoth(f, fa, { ...args, saved: fwd.y }, TypeError, 'egruBackward', `${handle}$`);
    await expectBoth(f, fa, { ...args, T: 2 }, RangeError, 'egruBackward', 'saved was made with T = 3, got T = 2$');
    await expectBoth(f, fa, { ...args, C: 5 }, RangeError, 'egruBackward', 'saved was made with C = 4, got C = 5$');
    await expectBoth(f, fa, { ...args, dc: new Float32Array(31) }, RangeError, 'egruBackward', 'dc has length 31, expected T\\*N\\*H = 30$');
    await expectBoth(f, fa, { ...args, dyN: new Float32Array(30) }, RangeError, 'egruBackward', 'dyN has length 30, expected N\\*H = 10$');
    await expectBoth(f, fa, { ...args, dtrace: new Float64Array(30) }, TypeError, 'egruBackward', 'dtrace must be a Float32Array or null, got Float64Array$');
    await expectBoth(f, fa, { ...args, dxActive: new Uint8Array(5) }, RangeError, 'egruBackward', 'dxActive has length 5, expected T\\*N\\*C = 24$');
    await expectBoth(f, fa, { ...args, gradClip: -1 }, RangeError, 'egruBackward', 'gradClip must be >= 0, got -1$');
    await expectBoth(f, fa, { ...args, needDy0: 0 }, TypeError, 'egruBackward', 'needDy0 must be a boolean, got number$');
    await expectBoth(f, fa, { ...args, dKernel: new Float32Array(59) }, RangeError, 'egruBackward', 'dKernel has length 59, expected C\\*3\\*H = 60$');
    await expectBoth(f, fa, { ...args, dRecurrentKernel: new Float32Array(60) }, RangeError, 'egruBackward', 'dRecurrentKernel has length 60, expected H\\*3\\*H = 75$');
    await expectBoth(f, fa, { ...args, dBias: new Float32Array(5) }, RangeError, 'egruBackward', 'dBias has length 5, expected 3\\*H = 15$');
    await expectBoth(f, fa, { ...args, dRecurrentBias: new Float32Array(16) }, RangeError, 'egruBackward', 'dRecurrentBias has length 16, expected 3\\*H = 15$');
    await expectBoth(f, fa, { ...args, dThr: new Float32Array(4) }, RangeError, 'egruBackward', 'dThr has length 4, expected H = 5$');
    await expectBoth(f, fa, { ...args, dThr: null }, TypeError, 'egruBackward', 'dThr must be a Float32Array, got null$');
    await expectBoth(f, fa, { ...args, dKernel: undefined }, TypeError, 'egruBackward', 'dKernel is missing \\(undefined\\)$');

    // below: a lower layer's saved handle (its active map limits dx), never together with dxActive.
    const lower = egruForwardArgs(rng, T, N, 3, C);
    const below = addon.egruForward(lower).saved!;
    await expectBoth(f, fa, { ...args, below, dxActive: new Uint8Array(T * N * C) }, TypeError, 'egruBackward', 'give below or dxActive, not both$');
    await expectBoth(f, fa, { ...args, below: {} }, TypeError, 'egruBackward', 'below must be the handle from a forward with training: true$');
    await expectBoth(f, fa, { ...args, below: fwd.c }, TypeError, 'egruBackward', 'below must be the handle from a forward with training: true$');
    const wrongWidth = addon.egruForward(egruForwardArgs(rng, T, N, 3, C + 1)).saved!;
    await expectBoth(f, fa, { ...args, below: wrongWidth }, RangeError, 'egruBackward', 'below was made with T = 3, N = 2, H = 5; this layer needs T = 3, N = 2, H = C = 4$');
    // Same number of map entries (2·3·4 = 3·2·4), other steps and samples: refused too.
    const transposed = addon.egruForward(egruForwardArgs(rng, N, T, 3, C)).saved!;
    await expectBoth(f, fa, { ...args, below: transposed }, RangeError, 'egruBackward', 'below was made with T = 2, N = 3, H = 4; this layer needs T = 3, N = 2, H = C = 4$');
    const released = addon.egruForward(lower).saved!;
    released.release();
    await expectBoth(f, fa, { ...args, below: released }, RangeError, 'egruBackward', 'below was released');
    expect(addon.egruBackward({ ...args, ...egruGrads(C, H), below }).dx!.length).toBe(T * N * C);
    // A dense layer below (no active map): dx everywhere, as with below = null.
    const gruBelow = addon.gruForward(gruForwardArgs(rng, T, N, 3, C)).saved!;
    const dense = addon.egruBackward({ ...args, ...egruGrads(C, H) });
    const viaGru = addon.egruBackward({ ...args, ...egruGrads(C, H), below: gruBelow });
    expect(firstDifference(viaGru.dx!, dense.dx!)).toBeNull();
  });
});

describe('saved handles', () => {
  const gru = () => {
    const f = gruForwardArgs(rng, 3, 2, 4, 5);
    return { f, r: addon.gruForward(f) };
  };
  it('are instances of the addon\'s Saved class that report their maker and engine bytes', () => {
    const { r } = gru();
    expect(r.saved).toBeInstanceOf(savedClass());
    expect(r.saved!.madeBy).toBe('gruForward');
    expect(r.saved!.bytes).toBe(3 * 2 * 4 * 5 * 4);
    const l = addon.lstmForward(lstmForwardArgs(rng, 3, 2, 4, 5)).saved!;
    expect(l.madeBy).toBe('lstmForward');
    expect(l.bytes).toBe(3 * 2 * 5 * 5 * 4);
    const e = addon.egruForward({ ...egruForwardArgs(rng, 3, 2, 4, 5), zoneout: 0.1, dropconnect: 0.1, noise: { seed: 3, epoch: 0, batch: 0, layer: 0 } }).saved!;
    expect(e.madeBy).toBe('egruForward');
    // cache T·N·4H floats, active and zoneout masks T·N·H bytes each, DropConnect mask H·3H bytes and kernel H·3H floats
    expect(e.bytes).toBe(3 * 2 * 4 * 5 * 4 + 2 * 3 * 2 * 5 + 5 * 15 + 5 * 15 * 4);
  });
  it('a handle from another forward is a TypeError naming both', async () => {
    const g = gruBackwardArgs(rng, (a) => addon.gruForward(a), 3, 2, 4, 5);
    const l = lstmBackwardArgs(rng, (a) => addon.lstmForward(a), 3, 2, 4, 5);
    const eArgs = egruForwardArgs(rng, 3, 2, 4, 5);
    const e = egruBackwardArgs(eArgs, addon.egruForward(eArgs).saved!);
    const d = addon.dropoutForward({ x: new Float32Array(10), T: 1, N: 2, H: 5, p: 0.5, share: 0, training: true, noise: { seed: 1, epoch: 0, batch: 0, layer: 0 } }).saved!;
    await expectBoth(addon.gruBackward, addon.gruBackwardAsync, { ...g, saved: l.saved }, TypeError, 'gruBackward',
      'saved must be the handle from gruForward with training: true, got one from lstmForward$');
    await expectBoth(addon.gruBackward, addon.gruBackwardAsync, { ...g, saved: e.saved }, TypeError, 'gruBackward',
      'saved must be the handle from gruForward with training: true, got one from egruForward$');
    await expectBoth(addon.lstmBackward, addon.lstmBackwardAsync, { ...l, saved: g.saved }, TypeError, 'lstmBackward',
      'saved must be the handle from lstmForward with training: true, got one from gruForward$');
    await expectBoth(addon.egruBackward, addon.egruBackwardAsync, { ...e, saved: d }, TypeError, 'egruBackward',
      'saved must be the handle from egruForward with training: true, got one from dropoutForward$');
    await expectBoth(addon.dropoutBackward, addon.dropoutBackwardAsync, { saved: g.saved, dy: new Float32Array(10), T: 1, N: 2, H: 5 }, TypeError,
      'dropoutBackward', 'saved must be the handle from dropoutForward with training: true, got one from gruForward$');
  });
  it('a released handle is a RangeError; release is idempotent and empties the handle', async () => {
    const g = gruBackwardArgs(rng, (a) => addon.gruForward(a), 3, 2, 4, 5);
    expect(addon.gruBackward({ ...g, ...gruGrads(4, 5) }).dh0.length).toBe(10); // usable before release
    g.saved.release();
    g.saved.release();
    expect(g.saved.bytes).toBe(0);
    expect(g.saved.madeBy).toBe('');
    await expectBoth(addon.gruBackward, addon.gruBackwardAsync, g, RangeError, 'gruBackward', 'saved was released');
    const l = lstmBackwardArgs(rng, (a) => addon.lstmForward(a), 3, 2, 4, 5);
    l.saved.release();
    await expectBoth(addon.lstmBackward, addon.lstmBackwardAsync, l, RangeError, 'lstmBackward', 'saved was released');
  });
  it('objects that only look like handles are refused without a crash', () => {
    const { r } = gru();
    const g = gruBackwardArgs(rng, (a) => addon.gruForward(a), 3, 2, 4, 5);
    const Saved = savedClass() as unknown as new () => object;
    const fake = { bytes: r.saved!.bytes, madeBy: 'gruForward', release() {} };
    expectThrow(() => addon.gruBackward({ ...g, saved: fake as never }), TypeError, /^gruBackward: saved must be the handle from gruForward/);
    // Only the forward operations make handles.
    expect(() => new Saved()).toThrow(/Saved handles are made by the forward operations/);
    // The class's prototype without a native object behind it: a TypeError naming the argument.
    expectThrow(() => addon.gruBackward({ ...g, saved: Object.create(Saved.prototype) as never }), TypeError,
      /^gruBackward: saved must be the handle from gruForward with training: true \(got an object with no engine state\)$/);
  });
});

describe('dropout, keepMask, regularizers', () => {
  const noise = { seed: 5, epoch: 1, batch: 2, layer: 0 };
  it('dropoutForward / dropoutBackward', async () => {
    const x = new Float32Array(10).fill(1);
    const dims = { T: 1, N: 2, H: 5 };
    const f = addon.dropoutForward;
    const fa = addon.dropoutForwardAsync;
    await expectBoth(f, fa, { x, ...dims, p: 0.5, share: 0, training: true, noise: null }, TypeError, 'dropoutForward', 'noise is required when training with p > 0$');
    await expectBoth(f, fa, { x, ...dims, p: 1, share: 0, training: true, noise }, RangeError, 'dropoutForward', 'p must be in \\[0, 1\\), got 1$');
    await expectBoth(f, fa, { x, ...dims, p: 0.5, share: 3, training: true, noise }, RangeError, 'dropoutForward', 'share must be 0 \\(none\\), 1 \\(across the batch\\) or 2 \\(across time\\)$');
    await expectBoth(f, fa, { x, ...dims, H: 6, p: 0.5, share: 0, training: true, noise }, RangeError, 'dropoutForward', 'x has length 10, expected T\\*N\\*H = 12$');
    await expectBoth(f, fa, { x, ...dims, p: 0.5, share: 0, training: true, noise: { ...noise, epoch: -1 } }, RangeError, 'dropoutForward', 'noise.epoch must be an integer');
    expect(addon.dropoutForward({ x, ...dims, p: 0.5, share: 0, training: false, noise: null }).saved).toBeNull();
    const saved = addon.dropoutForward({ x, ...dims, p: 0.5, share: 0, training: true, noise }).saved!;
    await expectBoth(addon.dropoutBackward, addon.dropoutBackwardAsync, { saved, dy: new Float32Array(10), T: 2, N: 1, H: 5 }, RangeError,
      'dropoutBackward', 'saved was made with N = 2, got N = 1$');
    await expectBoth(addon.dropoutBackward, addon.dropoutBackwardAsync, { saved, dy: new Float32Array(9), ...dims }, RangeError,
      'dropoutBackward', 'dy has length 9, expected T\\*N\\*H = 10$');
  });
  it('dropout masks shared across the batch (EvNN) or across time (locked) are the documented Philox masks laid out', () => {
    const [T, N, H] = [4, 3, 5];
    const x = new Float32Array(T * N * H).fill(1);
    const p = 0.5;
    const kept = (share: number) => addon.dropoutForward({ x, T, N, H, p, share, training: true, noise }).y.map((v) => (v > 0 ? 1 : 0));
    const element = kept(0);
    const batch = kept(1);
    const time = kept(2);
    const small = (m: number) => expectedKeep(noise, PURPOSE.dropout, p, m);
    const e = small(T * N * H), b = small(T * H), l = small(N * H);
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        for (let h = 0; h < H; h++) {
          const i = (t * N + n) * H + h;
          expect(element[i]).toBe(e[i]);
          expect(batch[i]).toBe(b[t * H + h]);
          expect(time[i]).toBe(l[n * H + h]);
        }
      }
    }
    expect(addon.dropoutForward({ x, T, N, H, p, share: 1, training: true, noise }).y.find((v) => v > 0)).toBe(2);
  });
  it('keepMask', () => {
    expectThrow(() => addon.keepMask({ n: 4, p: 0.5, purpose: 1, noise: null as never }), TypeError, /^keepMask: noise must be \{seed, epoch, batch, layer\}$/);
    expectThrow(() => addon.keepMask({ n: 4, p: 0.5, purpose: 5, noise }), RangeError, /^keepMask: purpose must be 1 \(zoneout\), 2 \(dropconnect\), 3 \(dropout\) or 4 \(word dropout\)$/);
    expectThrow(() => addon.keepMask({ n: 4, p: 0.5, purpose: 0, noise }), RangeError, /^keepMask: purpose must be an integer in \[1, \d+\], got 0$/);
    expectThrow(() => addon.keepMask({ n: 4, p: -0.5, purpose: 1, noise }), RangeError, /^keepMask: p must be in \[0, 1\), got -0\.5/);
    expectThrow(() => addon.keepMask({ n: 4, p: 0.5, purpose: 1, noise: { ...noise, seed: 0.5 } }), RangeError, /^keepMask: noise\.seed must be an integer/);
    expect(addon.keepMask({ n: 4, p: 0.5, purpose: 3, noise }).keep.length).toBe(4);
    expect(addon.keepMask({ n: 4, p: 0.5, purpose: 4, noise }).keep.length).toBe(4);
  });
  it('regularizeMeanTarget / regularizeMeanSquare', () => {
    const x = new Float32Array(6);
    for (const fn of ['regularizeMeanTarget', 'regularizeMeanSquare'] as const) {
      expectThrow(() => addon[fn]({ x, grad: new Float32Array(5), n: 6, constant: 1, target: 0 }), RangeError, new RegExp(`^${fn}: grad has length 5, expected n = 6$`));
      expectThrow(() => addon[fn]({ x, grad: new Float32Array(6), n: 6, constant: -1, target: 0 }), RangeError, new RegExp(`^${fn}: constant must be >= 0, got -1$`));
      expectThrow(() => addon[fn]({ x, grad: new Float32Array(6), n: 6, constant: 1, target: NaN }), RangeError, new RegExp(`^${fn}: target must be finite, got NaN$`));
    }
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
