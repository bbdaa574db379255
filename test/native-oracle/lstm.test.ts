// Native LSTM (lstmForward / lstmBackward, PyTorch nn.LSTM, gates i, f, g, o) against the float64
// oracle (test/oracle/lstm.ts): random shapes (T = 1, N = 1, odd sizes, sizes across 64/128
// blocking boundaries), with and without h0/c0 and dhN/dcN, single- and multi-chunk (a small
// chunkFloats budget), a 2-layer stack composed from the native calls, and PyTorch's own numbers
// (test/fixtures/lstm-torch-reference.json), for every GEMM kernel compiled in. Backward reads x,
// h0, c0, y and the cache from the forward's saved handle and adds the parameter gradients into
// the caller's buffers (checked on preset buffers). The pointwise thread split is checked on
// N·H well above the grain with 2 threads, where a thread's range starts mid-row, against the
// oracle and bitwise against 1 thread.
import { describe, expect, it } from 'vitest';
import { native, type LstmBackwardArgs, type LstmForwardArgs, type Saved } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import {
  lstmBackward, lstmForward, randomLstmParams, stackedLstmBackward, stackedLstmForward,
  type LstmGradients, type LstmParams,
} from '../oracle/lstm.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { loadTorchLstmReference } from '../oracle/torch-reference.js';
import { firstDifference, lstmGrads, plus, presetGradient, withThreads } from '../native/helpers.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

interface Dims {
  T: number;
  N: number;
  C: number;
  H: number;
}

const shapes: Dims[] = [
  { T: 1, N: 1, C: 1, H: 1 },
  { T: 1, N: 3, C: 7, H: 5 },
  { T: 5, N: 1, C: 7, H: 5 },
  { T: 6, N: 4, C: 3, H: 8 },
  { T: 9, N: 2, C: 16, H: 13 },
  { T: 12, N: 8, C: 33, H: 64 },
  { T: 3, N: 5, C: 70, H: 130 },
];
// chunk: 'step' = a budget of exactly one step's [N, 4H] buffer (every step its own chunk);
// 'pair' = two steps per chunk, so an odd T ends with a one-step chunk.
type Chunking = 'default' | 'step' | 'pair';
interface Variant {
  state0: boolean;
  stateN: boolean;
  dy?: boolean;
  chunk: Chunking;
}
const variants: Variant[] = [
  { state0: false, stateN: false, chunk: 'default' },
  { state0: true, stateN: false, chunk: 'default' },
  { state0: false, stateN: true, chunk: 'default' },
  { state0: true, stateN: true, chunk: 'default' },
  { state0: true, stateN: true, dy: false, chunk: 'default' },
  { state0: true, stateN: true, chunk: 'step' },
  { state0: false, stateN: true, chunk: 'pair' },
];

function chunkFloats(chunk: Chunking, d: Dims): number {
  const step = d.N * 4 * d.H;
  return chunk === 'step' ? step : chunk === 'pair' ? 2 * step + 1 : 0;
}

interface Case {
  p: LstmParams;
  x: Float64Array;
  h0: Float64Array | null;
  c0: Float64Array | null;
  dy: Float64Array | null;
  dhN: Float64Array | null;
  dcN: Float64Array | null;
  d: Dims;
}

function makeCase(seed: number, d: Dims, v: Omit<Variant, 'chunk'>): Case {
  const { T, N, C, H } = d;
  const rng = new Rng(seed);
  const k = 1 / Math.sqrt(H); // PyTorch's init bound; doubled for weights so gates saturate somewhat
  return {
    p: randomLstmParams(rng, C, H, 2 * k, k),
    x: randomNormal(rng, T * N * C),
    h0: v.state0 ? randomNormal(rng, N * H, 0.5) : null,
    c0: v.state0 ? randomNormal(rng, N * H) : null,
    dy: v.dy === false ? null : randomNormal(rng, T * N * H),
    dhN: v.stateN ? randomNormal(rng, N * H) : null,
    dcN: v.stateN ? randomNormal(rng, N * H) : null,
    d,
  };
}

const f32 = (a: Float64Array | null): Float32Array | null => (a ? toF32(a) : null);

function weights(p: LstmParams) {
  return { weightIh: toF32(p.weightIh), weightHh: toF32(p.weightHh), biasIh: toF32(p.biasIh), biasHh: toF32(p.biasHh) };
}

function forwardArgs(c: Case, training: boolean, chunk = 0): LstmForwardArgs {
  return { ...weights(c.p), x: toF32(c.x), h0: f32(c.h0), c0: f32(c.c0), ...c.d, training, chunkFloats: chunk };
}

function backwardArgs(c: Case, f: LstmForwardArgs, saved: Saved, needDx = true): LstmBackwardArgs {
  return {
    weightIh: f.weightIh, weightHh: f.weightHh, biasIh: f.biasIh, biasHh: f.biasHh, ...c.d, chunkFloats: f.chunkFloats,
    saved, dy: f32(c.dy), dhN: f32(c.dhN), dcN: f32(c.dcN), ...lstmGrads(c.d.C, c.d.H), needDx,
  };
}

function oracle(c: Case) {
  const { T, N, C, H } = c.d;
  const fwd = lstmForward(c.p, c.x, T, N, C, H, c.h0, c.c0);
  return { fwd, grad: lstmBackward(c.p, c.x, fwd, T, N, C, H, c.dy, c.dhN, c.dcN) };
}

function expectParamGrads(b: LstmBackwardArgs, ref: LstmGradients, what = ''): void {
  assertAllClose(b.dWeightIh, ref.dWeightIh, F32_GEMM, `dWeightIh${what}`);
  assertAllClose(b.dWeightHh, ref.dWeightHh, F32_GEMM, `dWeightHh${what}`);
  assertAllClose(b.dBiasIh, ref.dBiasIh, F32_GEMM, `dBiasIh${what}`);
  assertAllClose(b.dBiasHh, ref.dBiasHh, F32_GEMM, `dBiasHh${what}`);
}

/** Forward and backward through the native calls, checked against the oracle; returns every output. */
function checkCase(c: Case, chunk: number, expected = oracle(c)): Record<string, Float32Array> {
  const { fwd: ref, grad } = expected;
  const args = forwardArgs(c, true, chunk);
  const fwd = native().lstmForward(args);
  assertAllClose(fwd.y, ref.y, F32_GEMM, 'y');
  assertAllClose(fwd.cN, ref.cN, F32_GEMM, 'cN');
  expect(fwd.saved?.madeBy).toBe('lstmForward');
  const b = backwardArgs(c, args, fwd.saved!);
  const g = native().lstmBackward(b);
  expect(g.dx).not.toBeNull();
  assertAllClose(g.dx!, grad.dx, F32_GEMM, 'dx');
  assertAllClose(g.dh0, grad.dh0, F32_GEMM, 'dh0');
  assertAllClose(g.dc0, grad.dc0, F32_GEMM, 'dc0');
  expectParamGrads(b, grad);
  return {
    y: fwd.y, cN: fwd.cN, dx: g.dx!, dh0: g.dh0, dc0: g.dc0,
    dWeightIh: b.dWeightIh, dWeightHh: b.dWeightHh, dBiasIh: b.dBiasIh, dBiasHh: b.dBiasHh,
  };
}

// N·H = 9003 elements per step: above the forward grain (2048) and the backward grain (4096), so
// 2 threads split every pointwise pass, at flat index 4502 = row 1, column 1501 (mid-row).
// chunkFloats 64 makes every step its own time chunk.
const SPLIT: Dims = { T: 3, N: 3, C: 5, H: 3001 };
let splitCase: { c: Case; ref: ReturnType<typeof oracle> } | undefined;
const bigCase = () => {
  if (!splitCase) {
    const c = makeCase(4001, SPLIT, { state0: true, stateN: true });
    splitCase = { c, ref: oracle(c) };
  }
  return splitCase;
};

describe.each(compiledGemmKernels())('native LSTM vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [si, d] of shapes.entries()) {
    for (const [vi, v] of variants.entries()) {
      const name = `h0/c0=${v.state0} dhN/dcN=${v.stateN}${v.dy === false ? ' dy=null' : ''} chunks=${v.chunk}`;
      it(`T=${d.T} N=${d.N} C=${d.C} H=${d.H} ${name}`, () => {
        checkCase(makeCase(3000 + 10 * si + vi, d, v), chunkFloats(v.chunk, d));
      });
    }
  }

  it('inference forward (training = false) gives the same y and cN as the oracle and no saved handle', () => {
    const c = makeCase(3101, { T: 7, N: 3, C: 9, H: 11 }, { state0: true, stateN: false });
    const ref = oracle(c).fwd;
    for (const chunk of [0, 64]) {
      const fwd = native().lstmForward(forwardArgs(c, false, chunk));
      expect(fwd.saved).toBeNull();
      assertAllClose(fwd.y, ref.y, F32_GEMM, `y (chunkFloats ${chunk})`);
      assertAllClose(fwd.cN, ref.cN, F32_GEMM, `cN (chunkFloats ${chunk})`);
    }
  });

  it('needDx = false returns no dx and the same gradients', () => {
    const c = makeCase(3102, { T: 4, N: 2, C: 6, H: 7 }, { state0: true, stateN: true });
    const { grad } = oracle(c);
    const args = forwardArgs(c, true);
    const b = backwardArgs(c, args, native().lstmForward(args).saved!, false);
    const g = native().lstmBackward(b);
    expect(g.dx).toBeNull();
    assertAllClose(g.dh0, grad.dh0, F32_GEMM, 'dh0');
    assertAllClose(g.dc0, grad.dc0, F32_GEMM, 'dc0');
    expectParamGrads(b, grad);
  });

  it('gradients accumulate over calls and time chunks: preset R comes back as R + gradient, then R + 2·gradient', () => {
    const c = makeCase(3104, { T: 7, N: 3, C: 9, H: 11 }, { state0: true, stateN: true });
    const { grad } = oracle(c);
    const rng = new Rng(3104, 1);
    const args = forwardArgs(c, true, 2 * c.d.N * 4 * c.d.H); // chunks of 2, 2, 2, 1 steps
    const b = backwardArgs(c, args, native().lstmForward(args).saved!);
    const keys = ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const;
    const presets = keys.map((k) => {
      const p = presetGradient(rng, grad[k]);
      b[k] = p.buffer;
      return p.preset;
    });
    const first = native().lstmBackward(b);
    keys.forEach((k, i) => assertAllClose(b[k], plus(presets[i], grad[k]), F32_GEMM, `R + ${k}`));
    const second = native().lstmBackward(b);
    keys.forEach((k, i) => assertAllClose(b[k], plus(presets[i], grad[k], 2), F32_GEMM, `R + 2 ${k}`));
    for (const k of ['dx', 'dh0', 'dc0'] as const) expect(firstDifference(second[k]!, first[k]!), `${k} is written, not added`).toBeNull();
  });

  it('a 2-layer stack composed from the native calls matches the stacked oracle', () => {
    const d = { T: 6, N: 3, C: 7, H: 10 };
    const L = 2;
    const NH = d.N * d.H;
    const rng = new Rng(3105);
    const k = 1 / Math.sqrt(d.H);
    const layers = [randomLstmParams(rng, d.C, d.H, 2 * k, k), randomLstmParams(rng, d.H, d.H, 2 * k, k)];
    const x = randomNormal(rng, d.T * d.N * d.C);
    const h0 = randomNormal(rng, L * NH, 0.5);
    const c0 = randomNormal(rng, L * NH);
    const dy = randomNormal(rng, d.T * NH);
    const dhN = randomNormal(rng, L * NH);
    const dcN = randomNormal(rng, L * NH);
    const ref = stackedLstmForward(layers, x, d.T, d.N, d.C, d.H, h0, c0);
    const refGrad = stackedLstmBackward(layers, ref, d.T, d.N, d.C, d.H, dy, dhN, dcN);
    const part = (a: Float64Array, l: number) => toF32(a.subarray(l * NH, (l + 1) * NH));

    const fwds: { args: LstmForwardArgs; saved: Saved }[] = [];
    let input = toF32(x);
    for (let l = 0; l < L; l++) {
      const args: LstmForwardArgs = {
        ...weights(layers[l]), x: input, h0: part(h0, l), c0: part(c0, l), T: d.T, N: d.N, C: l === 0 ? d.C : d.H, H: d.H,
        training: true, chunkFloats: 0,
      };
      const f = native().lstmForward(args);
      assertAllClose(f.y.subarray((d.T - 1) * NH), ref.hN.subarray(l * NH, (l + 1) * NH), F32_GEMM, `hN[${l}]`);
      assertAllClose(f.cN, ref.cN.subarray(l * NH, (l + 1) * NH), F32_GEMM, `cN[${l}]`);
      fwds.push({ args, saved: f.saved! });
      input = f.y;
    }
    assertAllClose(input, ref.y, F32_GEMM, 'y');

    let dOut = toF32(dy);
    for (let l = L - 1; l >= 0; l--) {
      const { args, saved } = fwds[l];
      const grads = lstmGrads(args.C, d.H);
      const g = native().lstmBackward({
        weightIh: args.weightIh, weightHh: args.weightHh, biasIh: args.biasIh, biasHh: args.biasHh,
        T: d.T, N: d.N, C: args.C, H: d.H, chunkFloats: 0, saved, dy: dOut, dhN: part(dhN, l), dcN: part(dcN, l),
        ...grads, needDx: true,
      });
      assertAllClose(grads.dWeightIh, refGrad.layers[l].dWeightIh, F32_GEMM, `dWeightIh[${l}]`);
      assertAllClose(grads.dWeightHh, refGrad.layers[l].dWeightHh, F32_GEMM, `dWeightHh[${l}]`);
      assertAllClose(grads.dBiasIh, refGrad.layers[l].dBiasIh, F32_GEMM, `dBiasIh[${l}]`);
      assertAllClose(grads.dBiasHh, refGrad.layers[l].dBiasHh, F32_GEMM, `dBiasHh[${l}]`);
      assertAllClose(g.dh0, refGrad.dh0.subarray(l * NH, (l + 1) * NH), F32_GEMM, `dh0[${l}]`);
      assertAllClose(g.dc0, refGrad.dc0.subarray(l * NH, (l + 1) * NH), F32_GEMM, `dc0[${l}]`);
      dOut = g.dx!;
    }
    assertAllClose(dOut, refGrad.dx, F32_GEMM, 'dx');
  });

  it('the native 2-layer stack, loaded by nn.LSTM state_dict names, matches PyTorch (lstm-torch-reference.json)', () => {
    const ref = loadTorchLstmReference();
    const { T, N, C, H, layers: L } = ref.dims;
    const NH = N * H;
    const sd = (name: string) => toF32(ref.stateDict[name].data);
    const part = (a: Float64Array, l: number) => toF32(a.subarray(l * NH, (l + 1) * NH));
    const fwds: { args: LstmForwardArgs; saved: Saved }[] = [];
    const hn = new Float64Array(L * NH);
    const cn = new Float64Array(L * NH);
    let input = toF32(ref.x.data);
    for (let l = 0; l < L; l++) {
      const args: LstmForwardArgs = {
        weightIh: sd(`weight_ih_l${l}`), weightHh: sd(`weight_hh_l${l}`), biasIh: sd(`bias_ih_l${l}`), biasHh: sd(`bias_hh_l${l}`),
        x: input, h0: part(ref.h0.data, l), c0: part(ref.c0.data, l), T, N, C: l === 0 ? C : H, H, training: true, chunkFloats: 0,
      };
      const f = native().lstmForward(args);
      fwds.push({ args, saved: f.saved! });
      hn.set(f.y.subarray((T - 1) * NH), l * NH);
      cn.set(f.cN, l * NH);
      input = f.y;
    }
    assertAllClose(input, ref.y.data, F32_GEMM, 'y');
    assertAllClose(hn, ref.hn.data, F32_GEMM, 'hn');
    assertAllClose(cn, ref.cn.data, F32_GEMM, 'cn');

    let dOut = toF32(ref.dy.data);
    for (let l = L - 1; l >= 0; l--) {
      const { args, saved } = fwds[l];
      const grads = lstmGrads(args.C, H);
      const g = native().lstmBackward({
        weightIh: args.weightIh, weightHh: args.weightHh, biasIh: args.biasIh, biasHh: args.biasHh,
        T, N, C: args.C, H, chunkFloats: 0, saved, dy: dOut, dhN: part(ref.dhn.data, l), dcN: part(ref.dcn.data, l),
        ...grads, needDx: true,
      });
      assertAllClose(grads.dWeightIh, ref.grad[`weight_ih_l${l}`].data, F32_GEMM, `weight_ih_l${l}`);
      assertAllClose(grads.dWeightHh, ref.grad[`weight_hh_l${l}`].data, F32_GEMM, `weight_hh_l${l}`);
      assertAllClose(grads.dBiasIh, ref.grad[`bias_ih_l${l}`].data, F32_GEMM, `bias_ih_l${l}`);
      assertAllClose(grads.dBiasHh, ref.grad[`bias_hh_l${l}`].data, F32_GEMM, `bias_hh_l${l}`);
      assertAllClose(g.dh0, ref.grad.h0.data.subarray(l * NH, (l + 1) * NH), F32_GEMM, `h0[${l}]`);
      assertAllClose(g.dc0, ref.grad.c0.data.subarray(l * NH, (l + 1) * NH), F32_GEMM, `c0[${l}]`);
      dOut = g.dx!;
    }
    assertAllClose(dOut, ref.grad.x.data, F32_GEMM, 'x');
  });

  it('async variants give the same numbers as the sync calls', async () => {
    const c = makeCase(3103, { T: 6, N: 4, C: 5, H: 9 }, { state0: true, stateN: true });
    const args = forwardArgs(c, true, 64);
    const s = native().lstmForward(args);
    const a = await native().lstmForwardAsync(args);
    expect(firstDifference(a.y, s.y)).toBeNull();
    expect(firstDifference(a.cN, s.cN)).toBeNull();
    const bs = backwardArgs(c, args, s.saved!);
    const ba = backwardArgs(c, args, a.saved!);
    const gs = native().lstmBackward(bs);
    const ga = await native().lstmBackwardAsync(ba);
    for (const k of ['dx', 'dh0', 'dc0'] as const) expect(firstDifference(ga[k]!, gs[k]!), k).toBeNull();
    for (const k of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) expect(firstDifference(ba[k], bs[k]), k).toBeNull();
  });

  it(`multi-thread split (2 threads, N·H = ${SPLIT.N * SPLIT.H}, segments starting mid-row) and multi-chunk: matches the oracle${kernel === 'builtin' ? ' and 1 thread bitwise' : ''}`, () => {
    const { c, ref } = bigCase();
    const two = withThreads(2, () => checkCase(c, 64, ref));
    if (kernel !== 'builtin') return; // OpenBLAS does not promise thread-count-independent sums
    const one = withThreads(1, () => checkCase(c, 64, ref));
    for (const k of Object.keys(two)) expect(firstDifference(one[k], two[k]), k).toBeNull();
  });
});
