// The EGRU library layer (src/layers/egru.ts) against the float64 oracle: EvNN's parameter names
// through loadState, a caller's zoneout mask honoured exactly, DropConnect's documented mask
// draw, a 2-layer stack (event-driven input projection, dx only on the lower layer's active map)
// against the composed oracle, threshold clamping, batch-first layout, the threshold
// initialisation and EvNN's per-layer gradient clipping.
import { describe, expect, it } from 'vitest';
import { EGRU } from '../../src/layers/egru.js';
import type { StateRecord } from '../../src/layers/parameters.js';
import { swapFirstTwo } from '../../src/layers/tensor.js';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { expectedKeep, PURPOSE } from '../native/masks.js';
import { assertAllClose } from '../oracle/compare.js';
import {
  egruBackward, egruForward, minDistanceToSupportEdge, minDistanceToThreshold, randomEgruParams,
  type EgruDims, type EgruForwardOut, type EgruOptions, type EgruParams,
} from '../oracle/egru.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { F32_GEMM } from './tolerances.js';

const STABLE = 1e-4;
const GAMMA = 0.7;
const EPS = 1.3;

function stateFrom(p: EgruParams, prefix = ''): StateRecord {
  const C = p.kernel.length / p.bias.length;
  const H = p.thr.length;
  return {
    [`${prefix}kernel`]: { data: toF32(p.kernel), shape: [C, 3 * H] },
    [`${prefix}recurrent_kernel`]: { data: toF32(p.recurrentKernel), shape: [H, 3 * H] },
    [`${prefix}bias`]: { data: toF32(p.bias), shape: [3 * H] },
    [`${prefix}recurrent_bias`]: { data: toF32(p.recurrentBias), shape: [3 * H] },
    [`${prefix}thr`]: { data: toF32(p.thr), shape: [H] },
  };
}

function stable(ref: EgruForwardOut, p: EgruParams, d: EgruDims): boolean {
  return minDistanceToThreshold(ref, p, d) > STABLE && minDistanceToSupportEdge(ref, p, d, EPS) > STABLE;
}

const opts = (o: Partial<EgruOptions> = {}): EgruOptions => ({ training: true, zoneout: 0, dampening: GAMMA, support: EPS, zoneoutMask: null, ...o });

function expectGrads(got: Record<string, Float32Array>, ref: ReturnType<typeof egruBackward>, prefix = ''): void {
  assertAllClose(got[`${prefix}kernel`], ref.dKernel, F32_GEMM, `${prefix}kernel`);
  assertAllClose(got[`${prefix}recurrent_kernel`], ref.dRecurrentKernel, F32_GEMM, `${prefix}recurrent_kernel`);
  assertAllClose(got[`${prefix}bias`], ref.dBias, F32_GEMM, `${prefix}bias`);
  assertAllClose(got[`${prefix}recurrent_bias`], ref.dRecurrentBias, F32_GEMM, `${prefix}recurrent_bias`);
  assertAllClose(got[`${prefix}thr`], ref.dThr, F32_GEMM, `${prefix}thr`);
}

describe('EGRU layer vs oracle', () => {
  it('loads EvNN names and matches forward (y, c, o, trace) and every gradient, with h0 and a given zoneout mask', () => {
    const d = { T: 9, N: 3, C: 6, H: 10 };
    for (let seed = 1; seed < 100; seed++) {
      const rng = new Rng(seed, 77);
      const p = randomEgruParams(rng, d.C, d.H, 0.7, 0.05, 0.6);
      const x = randomNormal(rng, d.T * d.N * d.C);
      const y0 = randomNormal(rng, d.N * d.H, 0.4);
      const mask = Float64Array.from({ length: d.T * d.N * d.H }, () => (rng.uniform() < 0.8 ? 1 : 0));
      const o = opts({ zoneout: 0.2, zoneoutMask: mask });
      const ref = egruForward(p, x, y0, d, o);
      if (!stable(ref, p, d)) continue;
      const layer = new EGRU({ inputSize: d.C, hiddenSize: d.H, zoneout: 0.2, dampeningFactor: GAMMA, pseudoDerivativeSupport: EPS });
      layer.loadState(stateFrom(p));
      expect(Object.keys(layer.state()).sort()).toEqual(['bias', 'kernel', 'recurrent_bias', 'recurrent_kernel', 'thr']);
      const out = layer.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, {
        training: true, h0: { data: toF32(y0), shape: [1, d.N, d.H] }, zoneoutMask: { data: toF32(mask), shape: [d.T, d.N, d.H] },
      });
      assertAllClose(out.output.data, ref.y, F32_GEMM, 'y');
      assertAllClose(out.c.data, ref.c, F32_GEMM, 'c');
      assertAllClose(out.trace!.data, ref.trace, F32_GEMM, 'trace');
      expect(Array.from(out.o!.data)).toEqual(Array.from(ref.o));
      const up = { dy: randomNormal(rng, ref.y.length), dc: randomNormal(rng, ref.y.length), do: randomNormal(rng, ref.y.length), dtrace: randomNormal(rng, ref.y.length) };
      const refG = egruBackward(p, x, y0, ref, up, d, o);
      const seq = (a: Float64Array) => ({ data: toF32(a), shape: [d.T, d.N, d.H] });
      const g = layer.backward({ output: seq(up.dy), c: seq(up.dc), o: seq(up.do), trace: seq(up.dtrace) });
      assertAllClose(g.input!.data, refG.dx, F32_GEMM, 'dx');
      assertAllClose(g.h0.data, refG.dy0, F32_GEMM, 'dy0');
      expectGrads(g.params, refG);
      return;
    }
    throw new Error('no stable case');
  });

  it('a 2-layer stack matches the composed oracle (event-driven input projection of layer 1)', () => {
    const d0 = { T: 8, N: 3, C: 5, H: 12 };
    const d1 = { ...d0, C: d0.H };
    for (let seed = 1; seed < 100; seed++) {
      const rng = new Rng(seed, 78);
      const p0 = randomEgruParams(rng, d0.C, d0.H, 0.8, 0.05, 0.5);
      const p1 = randomEgruParams(rng, d1.C, d1.H, 0.8, 0.05, 0.5);
      const x = randomNormal(rng, d0.T * d0.N * d0.C);
      const r0 = egruForward(p0, x, null, d0, opts());
      const r1 = egruForward(p1, r0.y, null, d1, opts());
      if (!stable(r0, p0, d0) || !stable(r1, p1, d1)) continue;
      const layer = new EGRU({ inputSize: d0.C, hiddenSize: d0.H, numLayers: 2, dampeningFactor: GAMMA, pseudoDerivativeSupport: EPS });
      layer.loadState({ ...stateFrom(p0, 'rnns.0.'), ...stateFrom(p1, 'rnns.1.') });
      const out = layer.forward({ data: toF32(x), shape: [d0.T, d0.N, d0.C] });
      assertAllClose(out.output.data, r1.y, F32_GEMM, 'y');
      expect(out.stats[1].macs).toBeLessThan(out.stats[1].macsDense);
      const dy = randomNormal(rng, r1.y.length);
      const g1 = egruBackward(p1, r0.y, null, r1, { dy, dc: null, do: null, dtrace: null }, d1, opts());
      const g0 = egruBackward(p0, x, null, r0, { dy: g1.dx, dc: null, do: null, dtrace: null }, d0, opts());
      const g = layer.backward({ output: { data: toF32(dy), shape: [d0.T, d0.N, d0.H] } });
      expectGrads(g.params, g1, 'rnns.1.');
      expectGrads(g.params, g0, 'rnns.0.');
      assertAllClose(g.input!.data, g0.dx, F32_GEMM, 'dx');
      return;
    }
    throw new Error('no stable case');
  });

  it('DropConnect: one mask per forward on recurrent_kernel (the caller\'s, or drawn by the engine from Philox keyed by seed, epoch, batch, layer), scaled 1/(1−p)', () => {
    const d = { T: 6, N: 2, C: 4, H: 8 };
    const p = 0.4;
    const key = { seed: 0, epoch: 3, batch: 5 };
    for (let seed = 1; seed < 100; seed++) {
      const rng = new Rng(seed, 79);
      const params = randomEgruParams(rng, d.C, d.H, 0.8, 0.05, 0.5);
      const x = randomNormal(rng, d.T * d.N * d.C);
      const noise = { ...key, seed };
      const keep = expectedKeep({ ...noise, layer: 0 }, PURPOSE.dropconnect, p, params.recurrentKernel.length);
      const m = Float64Array.from(keep, (k) => (k ? Math.fround(1 / (1 - p)) : 0));
      const dropped = { ...params, recurrentKernel: params.recurrentKernel.map((w, i) => Math.fround(w * m[i])) };
      const ref = egruForward(dropped, x, null, d, opts());
      if (!stable(ref, dropped, d)) continue;
      const layer = new EGRU({ inputSize: d.C, hiddenSize: d.H, dropconnect: p, dampeningFactor: GAMMA, pseudoDerivativeSupport: EPS });
      layer.loadState(stateFrom(params));
      const out = layer.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, { training: true, noise });
      assertAllClose(out.output.data, ref.y, F32_GEMM, 'y');
      const dy = randomNormal(rng, ref.y.length);
      const refG = egruBackward(dropped, x, null, ref, { dy, dc: null, do: null, dtrace: null }, d, opts());
      const g = layer.backward({ output: { data: toF32(dy), shape: [d.T, d.N, d.H] } });
      assertAllClose(g.params.recurrent_kernel, refG.dRecurrentKernel.map((v, i) => v * m[i]), F32_GEMM, 'recurrent_kernel');
      assertAllClose(g.params.kernel, refG.dKernel, F32_GEMM, 'kernel');
      // A caller's mask is used exactly: the same 0/1 pattern given explicitly gives the same numbers.
      const given = new EGRU({ inputSize: d.C, hiddenSize: d.H, dropconnect: p, dampeningFactor: GAMMA, pseudoDerivativeSupport: EPS });
      given.loadState(stateFrom(params));
      const mask = Float32Array.from(keep);
      const outGiven = given.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, { training: true, dropconnectMask: { data: mask, shape: [d.H, 3 * d.H] } });
      expect(Array.from(outGiven.output.data)).toEqual(Array.from(out.output.data));
      // Another batch key draws another mask.
      const other = layer.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, { training: true, noise: { ...noise, batch: 6 } });
      expect(Array.from(other.output.data)).not.toEqual(Array.from(out.output.data));
      mask[3] = 0.5;
      expect(() => given.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, { dropconnectMask: { data: mask, shape: [d.H, 3 * d.H] } })).toThrow(
        /dropconnectMask must hold only 0 and 1, got 0.5 at index 3/,
      );
      // Evaluation uses the whole kernel.
      const ev = layer.forward({ data: toF32(x), shape: [d.T, d.N, d.C] }, { training: false });
      assertAllClose(ev.output.data, egruForward(params, x, null, d, opts({ training: false })).y, F32_GEMM, 'eval y');
      return;
    }
    throw new Error('no stable case');
  });

  it('zoneout masks drawn by the engine are the documented Philox masks, the same for any thread count', () => {
    const d = { T: 5, N: 3, C: 4, H: 6 };
    const p = 0.3;
    const rng = new Rng(21, 80);
    const params = randomEgruParams(rng, d.C, d.H, 0.8, 0.05, 0.5);
    const x = toF32(randomNormal(rng, d.T * d.N * d.C));
    const noise = { seed: 9, epoch: 2, batch: 11 };
    const run = (o: { noise?: typeof noise; zoneoutMask?: { data: Float32Array; shape: number[] } }) => {
      const layer = new EGRU({ inputSize: d.C, hiddenSize: d.H, zoneout: p, dampeningFactor: GAMMA, pseudoDerivativeSupport: EPS });
      layer.loadState(stateFrom(params));
      return Array.from(layer.forward({ data: x, shape: [d.T, d.N, d.C] }, { training: true, ...o }).c.data);
    };
    const keep = expectedKeep({ ...noise, layer: 0 }, PURPOSE.zoneout, p, d.T * d.N * d.H);
    const drawn = run({ noise });
    expect(drawn).toEqual(run({ zoneoutMask: { data: Float32Array.from(keep), shape: [d.T, d.N, d.H] } }));
    const threads = native().info().threads;
    try {
      native().setThreads(1);
      expect(run({ noise })).toEqual(drawn);
      native().setThreads(2);
      expect(run({ noise })).toEqual(drawn);
      // A long mask, split over threads: the same bytes for 1 and 2 threads, and the documented ones.
      const n = 3 * 65536 + 7;
      const key = { seed: 123456789012, epoch: 7, batch: 8, layer: 1 };
      native().setThreads(1);
      const one = native().keepMask({ n, p, purpose: PURPOSE.zoneout, noise: key }).keep;
      native().setThreads(2);
      const two = native().keepMask({ n, p, purpose: PURPOSE.zoneout, noise: key }).keep;
      expect(Buffer.from(two).equals(Buffer.from(one))).toBe(true);
      expect(Buffer.from(one).equals(Buffer.from(expectedKeep(key, PURPOSE.zoneout, p, n)))).toBe(true);
      const kept = one.reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(kept - (1 - p))).toBeLessThan(0.01);
    } finally {
      native().setThreads(threads);
    }
  });

  it('clamps thresholds to [0, 1] in place before the forward pass (as EvNN)', () => {
    const layer = new EGRU({ inputSize: 2, hiddenSize: 3 });
    const s = layer.state();
    s.thr.data.set([1.5, -0.25, 0.5]);
    layer.loadState(s);
    layer.forward({ data: new Float32Array(2 * 1 * 2), shape: [2, 1, 2] }, { training: false });
    expect(Array.from(layer.state().thr.data)).toEqual([1, 0, 0.5]);
  });

  it('batch-first input gives the transposed time-major result', () => {
    const rng = new Rng(5);
    const layer = new EGRU({ inputSize: 3, hiddenSize: 6, seed: 2 });
    const bf = new EGRU({ inputSize: 3, hiddenSize: 6, seed: 2, batchFirst: true });
    const x = { data: toF32(randomNormal(rng, 5 * 2 * 3)), shape: [5, 2, 3] };
    const a = layer.forward(x, { training: false });
    const b = bf.forward(swapFirstTwo(x), { training: false });
    expect(Array.from(swapFirstTwo(b.output).data)).toEqual(Array.from(a.output.data));
    expect(Array.from(swapFirstTwo(b.trace!).data)).toEqual(Array.from(a.trace!.data));
  });

  it('initialises as EvNN: thresholds ~ Beta(3μ/(1−μ), 3) with mean μ, Xavier-normal weights, zero biases', () => {
    const layer = new EGRU({ inputSize: 300, hiddenSize: 1000, thrMean: 0.2, seed: 9 });
    const s = layer.state();
    const thr = Array.from(s.thr.data);
    const mean = thr.reduce((a, b) => a + b, 0) / thr.length;
    // Beta(0.75, 3) has sd ≈ 0.18, so the mean of 1000 draws has sd ≈ 0.006: 0.025 is 4 sd, while
    // a wrong shape (e.g. the default μ = 0.3) is off by ≥ 0.1.
    expect(Math.abs(mean - 0.2)).toBeLessThan(0.025);
    expect(Math.min(...thr)).toBeGreaterThan(0);
    expect(Math.max(...thr)).toBeLessThan(1);
    const k = s.kernel.data;
    let sq = 0;
    for (const v of k) sq += v * v;
    expect(Math.sqrt(sq / k.length)).toBeCloseTo(Math.sqrt(2 / (300 + 3000)), 3);
    expect(s.bias.data.every((v) => v === 0)).toBe(true);
    expect(s.recurrent_bias.data.every((v) => v === 0)).toBe(true);
  });

  it('rejects a zoneout mask with values other than 0 and 1', () => {
    const layer = new EGRU({ inputSize: 2, hiddenSize: 2, zoneout: 0.5 });
    const mask = new Float32Array(3 * 1 * 2).fill(1);
    mask[4] = 0.5;
    expect(() => layer.forward({ data: new Float32Array(6), shape: [3, 1, 2] }, { zoneoutMask: { data: mask, shape: [3, 1, 2] } })).toThrow(
      /zoneoutMask must hold only 0 and 1, got 0.5 at index 4/,
    );
  });

  it("per-layer gradient clipping (EvNN's grad_clip) scales the layer's gradients to the given norm", () => {
    const rng = new Rng(11);
    const make = (gradClip: number) => new EGRU({ inputSize: 4, hiddenSize: 8, seed: 4, gradClip });
    const x = { data: toF32(randomNormal(rng, 6 * 2 * 4)), shape: [6, 2, 4] };
    const dy = { data: toF32(randomNormal(rng, 6 * 2 * 8, 10)), shape: [6, 2, 8] };
    const free = make(0);
    free.forward(x);
    const gFree = free.backward({ output: dy });
    const clipped = make(0.1);
    clipped.forward(x);
    const gClip = clipped.backward({ output: dy });
    const arrays = (g: typeof gFree) => [g.h0.data, ...Object.values(g.params)];
    const normFree = native().globalNorm(arrays(gFree));
    expect(normFree).toBeGreaterThan(0.1);
    expect(native().globalNorm(arrays(gClip))).toBeCloseTo(0.1 * (normFree / (normFree + 1e-6)), 5);
    assertAllClose(gClip.params.kernel, gFree.params.kernel.map((v) => v * (0.1 / (normFree + 1e-6))), 1e-6, 'scaled kernel');
    assertAllClose(gClip.input!.data, gFree.input!.data, 0, 'dx is not clipped');
  });
});
