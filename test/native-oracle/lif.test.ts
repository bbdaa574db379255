// The native LIF ops (lifForward / lifBackward, lifReadoutForward / lifReadoutBackward,
// spikeCountRegularizer) against the float64 oracle (test/oracle/lif.ts) on random shapes with
// several batch rows per thread, at 1 and 2 engine threads: the input given as events and as a
// dense array, spikes and the forward's counts, dense BPTT dW and dx, S3GD dW (dL/dspk dense or
// compact) and dx at a real lower layer's active entries, the regulariser's row, gradients added
// into preset buffers, the readout's four reductions, and the regulariser.
//
// Stable decisions: a case is used only if every oracle membrane value lies more than MARGIN =
// 1e-3 from ϑ, b_th and 2ϑ − b_th (and, for a max readout, every maximum exceeds the other values
// of its time course by more than MARGIN). float32 error in the membranes is ~1e-6 here (sums of
// ≤ 12 products through a contracting recurrence), so no spike or band decision can differ
// between engine and oracle. Seeds are tried in a fixed order (findCase), so cases are deterministic.
import { describe, expect, it } from 'vitest';
import { native, type LifBackwardResult, type LifForwardArgs, type LifForwardResult } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import {
  activeMask, entriesOf, lifBackwardDense, lifBackwardS3gd, lifForward, minDecisionDistance, minMaxGap, readoutBackward,
  readoutForward, spikeCountRegularizer, withRow, type LifDims, type LifForwardOut, type LifOptions, type ReadoutReduce,
} from '../oracle/lif.js';
import { denseToEvents, findCase, randomSpikes } from '../oracle/lif-cases.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { firstDifference, plus, presetGradient, withThreads } from '../native/helpers.js';
import { F32_GEMM } from './tolerances.js';

const MARGIN = 1e-3;
const OPTS: LifOptions = { beta: Math.fround(0.85), threshold: 1, bTh: Math.fround(0.8) };
const THREADS = [1, 2];

interface TwoLayerCase {
  /** the lower layer (input x0 → s1) and this layer (s1 → s2) */
  d0: LifDims;
  d1: LifDims;
  x0: Float64Array;
  w0: Float64Array;
  w1: Float64Array;
  f0: LifForwardOut;
  f1: LifForwardOut;
  dspk: Float64Array;
  row: Float64Array;
}

/** A lower layer feeding this one, both with stable decisions, some spikes and some active entries. */
function twoLayerCase(B: number, T: number, I: number, H0: number, H1: number, seed0: number): TwoLayerCase {
  const d0 = { B, T, I, H: H0 };
  const d1 = { B, T, I: H0, H: H1 };
  return findCase(seed0, (seed) => {
    const rng = new Rng(seed, 0x1f0);
    const x0 = randomSpikes(rng, B * T * I, 0.35);
    const w0 = randomNormal(rng, I * H0, 0.8);
    const w1 = randomNormal(rng, H0 * H1, 0.9);
    const f0 = lifForward(x0, w0, d0, OPTS);
    const f1 = lifForward(f0.spk, w1, d1, OPTS);
    return { d0, d1, x0, w0, w1, f0, f1, dspk: randomNormal(rng, B * T * H1), row: randomNormal(rng, B * H1, 0.5) };
  }, (c) => [c.f0, c.f1].every((f) => minDecisionDistance(f.mem, OPTS) > MARGIN && f.spk.includes(1) && activeMask(f.mem, OPTS).includes(1)));
}

function forwardArgs(d: LifDims, x: Float64Array, w: Float64Array, asEvents: boolean, backward: 'dense' | 's3gd', training = true): LifForwardArgs {
  const input = asEvents ? { events: denseToEvents(x, d.B, d.T, d.I) } : { x: toF32(x) };
  return { ...d, ...input, w: toF32(w), beta: OPTS.beta, threshold: OPTS.threshold, bTh: OPTS.bTh, training, backward };
}

function count(a: ArrayLike<number>, from = 0, to = a.length): number {
  let n = 0;
  for (let i = from; i < to; i++) if (a[i] !== 0) n++;
  return n;
}

const SHAPES = [
  { B: 4, T: 9, I: 7, H0: 5, H1: 6, seed: 1 },
  { B: 6, T: 7, I: 12, H0: 9, H1: 4, seed: 2 },
  { B: 5, T: 13, I: 4, H0: 8, H1: 11, seed: 3 },
];

describe.each(THREADS)('native LIF vs oracle (%i threads)', (threads) => {
  describe.each(SHAPES)('B=$B T=$T I=$I H=$H0→$H1', ({ B, T, I, H0, H1, seed }) => {
    const c = twoLayerCase(B, T, I, H0, H1, seed * 100);
    const run = <R>(fn: () => R): R => withThreads(threads, fn);

    it.each([false, true])('forward: spikes and counts exactly (events: %s)', (asEvents) => {
      for (const backward of ['dense', 's3gd'] as const) {
        const r = run(() => native().lifForward(forwardArgs(c.d0, c.x0, c.w0, asEvents, backward)));
        expect(firstDifference(r.spk, toF32(c.f0.spk))).toBeNull();
        expect(r.stats.spikes).toBe(count(c.f0.spk));
        expect(r.stats.active).toBe(count(activeMask(c.f0.mem, OPTS)));
        expect(r.stats.neuronSteps).toBe(B * T * H0);
        expect(r.stats.inputEvents).toBe(Array.from({ length: B }, (_, b) => count(c.x0, b * T * I, (b * T + T - 1) * I)).reduce((a, n) => a + n, 0));
        expect(r.stats.macs).toBe(r.stats.inputEvents * H0);
        expect(r.stats.macsDense).toBe(B * (T - 1) * I * H0);
        expect(r.saved).not.toBeNull();
      }
      const evalRun = run(() => native().lifForward(forwardArgs(c.d0, c.x0, c.w0, asEvents, 's3gd', false)));
      expect(evalRun.saved).toBeNull();
      expect(firstDifference(evalRun.spk, toF32(c.f0.spk))).toBeNull();
    });

    it.each([false, true])('dense BPTT: dW (added into a preset) and dx, with dspk and dspkRow (events: %s)', (asEvents) => {
      const f = run(() => native().lifForward(forwardArgs(c.d1, c.f0.spk, c.w1, asEvents, 'dense')));
      const ref = lifBackwardDense(c.f0.spk, c.w1, c.f1.mem, withRow(c.dspk, c.row, c.d1), c.d1, OPTS);
      const { preset, buffer } = presetGradient(new Rng(seed, 9), ref.dw);
      const g = run(() => native().lifBackward({ saved: f.saved!, w: toF32(c.w1), dw: buffer, dspk: toF32(c.dspk), dspkRow: toF32(c.row), needDx: true }));
      assertAllClose(buffer, plus(preset, ref.dw), F32_GEMM, 'dW');
      assertAllClose(g.dx!, ref.dx, F32_GEMM, 'dx');
      expect(g.dxActive).toBeNull();
      // only the regulariser's row
      const onlyRow = lifBackwardDense(c.f0.spk, c.w1, c.f1.mem, withRow(new Float64Array(B * T * H1), c.row, c.d1), c.d1, OPTS);
      const dw2 = new Float32Array(H0 * H1);
      const g2 = run(() => native().lifBackward({ saved: f.saved!, w: toF32(c.w1), dw: dw2, dspkRow: toF32(c.row), needDx: true }));
      assertAllClose(dw2, onlyRow.dw, F32_GEMM, 'dW (dspkRow only)');
      assertAllClose(g2.dx!, onlyRow.dx, F32_GEMM, 'dx (dspkRow only)');
    });

    it.each([false, true])('S3GD: dW and dx at the lower layer\'s active entries (events: %s)', (asEvents) => {
      const lower = run(() => native().lifForward(forwardArgs(c.d0, c.x0, c.w0, asEvents, 's3gd')));
      const f = run(() => native().lifForward(forwardArgs(c.d1, c.f0.spk, c.w1, asEvents, 's3gd')));
      const lowerEntries = entriesOf(activeMask(c.f0.mem, OPTS));
      const ref = lifBackwardS3gd(c.f0.spk, c.w1, c.f1.mem, withRow(c.dspk, c.row, c.d1), c.d1, OPTS, lowerEntries);
      const { preset, buffer } = presetGradient(new Rng(seed, 10), ref.dw);
      const g: LifBackwardResult = run(() => native().lifBackward({
        saved: f.saved!, w: toF32(c.w1), dw: buffer, dspk: toF32(c.dspk), dspkRow: toF32(c.row), lower: lower.saved!, needDx: true,
      }));
      assertAllClose(buffer, plus(preset, ref.dw), F32_GEMM, 'dW');
      assertAllClose(g.dxActive!, ref.dxActive!, F32_GEMM, 'dxActive');
      expect(g.dx).toBeNull();
      expect(g.stats.active).toBe(ref.active.length);
      expect(g.stats.lowerActive).toBe(lowerEntries.length);
      // the identity at engine level: S3GD == dense BPTT with the surrogate masked (oracle), at the lower entries
      const masked = lifBackwardDense(c.f0.spk, c.w1, c.f1.mem, withRow(c.dspk, c.row, c.d1), c.d1, OPTS, activeMask(c.f1.mem, OPTS));
      assertAllClose(g.dxActive!, Float64Array.from(lowerEntries, (e) => masked.dx[e]), F32_GEMM, 'dxActive vs masked dense');
      // compact dL/dspk: one value per active entry gives the same
      const compact = Float32Array.from(ref.active, (k) => c.dspk[k]);
      const dw2 = new Float32Array(H0 * H1);
      const g2 = run(() => native().lifBackward({ saved: f.saved!, w: toF32(c.w1), dw: dw2, dspkActive: compact, dspkRow: toF32(c.row), lower: lower.saved!, needDx: true }));
      assertAllClose(dw2, ref.dw, F32_GEMM, 'dW (dspkActive)');
      assertAllClose(g2.dxActive!, ref.dxActive!, F32_GEMM, 'dxActive (dspkActive)');
      // the lower layer's own S3GD step, fed with dxActive (no lower of its own: dW only)
      const ref0 = lifBackwardS3gd(c.x0, c.w0, c.f0.mem, (() => {
        const dense = new Float64Array(B * T * H0);
        lowerEntries.forEach((e, n) => (dense[e] = g.dxActive![n]));
        return dense;
      })(), c.d0, OPTS, null);
      const dw0 = new Float32Array(I * H0);
      const g0 = run(() => native().lifBackward({ saved: lower.saved!, w: toF32(c.w0), dw: dw0, dspkActive: g.dxActive!, needDx: false }));
      assertAllClose(dw0, ref0.dw, F32_GEMM, 'lower dW');
      expect(g0.dx).toBeNull();
      expect(g0.dxActive).toBeNull();
    });
  });

  describe('readout', () => {
    const d = { B: 5, T: 11, H: 6, O: 4 };
    const betaR = Math.fround(0.75);
    it.each(['max', 'sum', 'mean', 'last'] as ReadoutReduce[])('%s: logits, dW (added) and dspk', (reduce) => {
      const k = findCase(50, (seed) => {
        const rng = new Rng(seed, 0x2e1);
        return { spk: randomSpikes(rng, d.B * d.T * d.H, 0.4), w: randomNormal(rng, d.H * d.O), g: randomNormal(rng, d.B * d.O) };
      }, (cs) => reduce !== 'max' || minMaxGap(readoutForward(cs.spk, cs.w, d, betaR, 'max'), d) > MARGIN);
      const ref = readoutForward(k.spk, k.w, d, betaR, reduce);
      const back = readoutBackward(k.spk, k.w, ref, k.g, d, betaR, reduce);
      const r = withThreads(threads, () => native().lifReadoutForward({ ...d, spk: toF32(k.spk), w: toF32(k.w), beta: betaR, reduce, training: true }));
      assertAllClose(r.logits, ref.logits, F32_GEMM, 'logits');
      const { preset, buffer } = presetGradient(new Rng(7), back.dw);
      const b = withThreads(threads, () => native().lifReadoutBackward({ saved: r.saved!, w: toF32(k.w), dw: buffer, dlogits: toF32(k.g), needDspk: true }));
      assertAllClose(buffer, plus(preset, back.dw), F32_GEMM, 'dW');
      assertAllClose(b.dspk!, back.dspk, F32_GEMM, 'dspk');
    });

    it('max: without spikes every logit is 0 and the gradient goes to out_0 (nothing flows back)', () => {
      const spk = new Float32Array(d.B * d.T * d.H);
      const w = toF32(randomNormal(new Rng(3), d.H * d.O));
      const r = native().lifReadoutForward({ ...d, spk, w, beta: betaR, reduce: 'max', training: true });
      expect(Array.from(r.logits).every((v) => v === 0)).toBe(true);
      const dw = new Float32Array(d.H * d.O);
      const b = native().lifReadoutBackward({ saved: r.saved!, w, dw, dlogits: new Float32Array(d.B * d.O).fill(1), needDspk: true });
      expect(Array.from(b.dspk!).every((v) => v === 0)).toBe(true);
      expect(Array.from(dw).every((v) => v === 0)).toBe(true);
    });
  });

  describe('spike-count regulariser', () => {
    it.each([
      { lambdaUp: 0.06, fUp: 0.3, pUp: 1, lambdaLow: 100, fLow: 1e-3 },
      { lambdaUp: 0.5, fUp: 0.15, pUp: 2, lambdaLow: 3, fLow: 1.5 },
    ])('loss and dspkRow (λ_up=$lambdaUp, f_up=$fUp, p_up=$pUp, λ_low=$lambdaLow, f_low=$fLow)', (reg) => {
      const d = { B: 6, T: 9, H: 7 };
      const spk = randomSpikes(new Rng(11), d.B * d.T * d.H, 0.05);
      const ref = spikeCountRegularizer(spk, d, reg);
      const r = withThreads(threads, () => native().spikeCountRegularizer({ ...d, spk: toF32(spk), ...reg }));
      expect(Math.abs(r.loss - ref.loss)).toBeLessThanOrEqual(F32_GEMM * Math.abs(ref.loss));
      assertAllClose(r.dspkRow, ref.dspkRow, F32_GEMM, 'dspkRow');
      expect(ref.loss).toBeGreaterThan(0);
    });
  });
});

describe('native LIF thread counts', () => {
  it('gives the same spikes and gradients at 1 and 2 threads', () => {
    const c = twoLayerCase(6, 8, 9, 7, 5, 4000);
    const once = (threads: number) => withThreads(threads, () => {
      const lower: LifForwardResult = native().lifForward(forwardArgs(c.d0, c.x0, c.w0, true, 's3gd'));
      const f = native().lifForward(forwardArgs(c.d1, c.f0.spk, c.w1, true, 's3gd'));
      const dw = new Float32Array(c.d1.I * c.d1.H);
      const g = native().lifBackward({ saved: f.saved!, w: toF32(c.w1), dw, dspk: toF32(c.dspk), dspkRow: toF32(c.row), lower: lower.saved!, needDx: true });
      const fd = native().lifForward(forwardArgs(c.d1, c.f0.spk, c.w1, true, 'dense'));
      const dwd = new Float32Array(c.d1.I * c.d1.H);
      const gd = native().lifBackward({ saved: fd.saved!, w: toF32(c.w1), dw: dwd, dspk: toF32(c.dspk), needDx: true });
      return { spk: f.spk, dw, dxActive: g.dxActive!, dwd, dx: gd.dx! };
    });
    const a = once(1);
    const b = once(2);
    for (const k of ['spk', 'dw', 'dxActive', 'dwd', 'dx'] as const) expect(firstDifference(a[k], b[k]), k).toBeNull();
  });
});
