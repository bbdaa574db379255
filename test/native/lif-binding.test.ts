// The LIF binding (lifForward / lifBackward, the readout, the spike-count regulariser): argument
// errors name the function and the argument; a tiny two-layer problem through the binding matches
// a float64 reference written here from the equations (dense BPTT, and S3GD = dense BPTT with the
// surrogate masked to the active set); event input == dense input; compact dspk == dense dspk;
// the async twins give the same numbers bit for bit. The engine's own float64 checks
// (native/tests/lif_check.cc) cover larger shapes, threads and finite differences.
// Margins: problems are redrawn until every membrane value lies 1e-3 or more from ϑ, b_th and
// 2ϑ − b_th, so float32 rounding cannot flip a spike or a band decision. Gradient tolerances: the
// engine's float32 membranes differ from the float64 ones by δ ≈ 1e-7 .. 5e-7 here, and the
// surrogate's relative slope is 200/(100|u| + 1), i.e. up to 200 at the margin, so a gradient
// term may move by about 1e-4 relatively: TOL_GRAD. (The readout and regulariser have no
// surrogate: 1e-5 / 1e-6.)
import { describe, expect, it } from 'vitest';
import { native, type LifForwardArgs, type Saved } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { firstDifference } from './helpers.js';

const addon = native();
const BETA = 0.9048374, TH = 1, BTH = 0.8;
const TOL_GRAD = 1e-4;

interface Ref {
  mem: Float64Array;
  spk: Float64Array;
}

function refForward(B: number, T: number, I: number, H: number, x: Float32Array, w: Float32Array): Ref {
  const mem = new Float64Array(B * T * H), spk = new Float64Array(B * T * H);
  for (let b = 0; b < B; b++)
    for (let t = 1; t < T; t++)
      for (let j = 0; j < H; j++) {
        let cur = 0;
        for (let i = 0; i < I; i++) cur += x[(b * T + t - 1) * I + i] * w[i * H + j];
        const k = (b * T + t) * H + j;
        mem[k] = BETA * mem[k - H] + cur - spk[k - H];
        spk[k] = mem[k] > TH ? 1 : 0;
      }
  return { mem, spk };
}

const inBand = (v: number): boolean => v > BTH && v < 2 * TH - BTH;
const surr = (v: number): number => 1 / (100 * Math.abs(v - TH) + 1) ** 2;

/** Dense BPTT (masked: surrogate zeroed outside the band); dL/dspk = g + row. */
function refBackward(B: number, T: number, I: number, H: number, x: Float32Array, w: Float32Array, mem: Float64Array,
  g: Float32Array, row: Float32Array | null, masked: boolean): { dw: Float64Array; dx: Float64Array } {
  const dw = new Float64Array(I * H), dx = new Float64Array(B * T * I);
  for (let b = 0; b < B; b++) {
    const dm = new Float64Array(H);
    for (let t = T - 1; t >= 1; t--) {
      for (let j = 0; j < H; j++) {
        const k = (b * T + t) * H + j;
        const s = !masked || inBand(mem[k]) ? surr(mem[k]) : 0;
        dm[j] = (g[k] + (row ? row[b * H + j] : 0)) * s + BETA * dm[j];
      }
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let j = 0; j < H; j++) {
          dw[i * H + j] += x[(b * T + t - 1) * I + i] * dm[j];
          s += w[i * H + j] * dm[j];
        }
        dx[(b * T + t - 1) * I + i] = s;
      }
    }
  }
  return { dw, dx };
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 1e-30, e = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(b[k])), e = Math.max(e, Math.abs(a[k] - b[k]));
  return e / m;
}

function toEvents(B: number, T: number, I: number, x: Float32Array): { offsets: Int32Array; index: Int32Array } {
  const offsets = new Int32Array(B * T + 1), index: number[] = [];
  for (let r = 0; r < B * T; r++) {
    for (let i = 0; i < I; i++) if (x[r * I + i] !== 0) index.push(i);
    offsets[r + 1] = index.length;
  }
  return { offsets, index: Int32Array.from(index) };
}

interface Problem {
  B: number; T: number; I: number; H1: number; H2: number;
  x: Float32Array; w1: Float32Array; w2: Float32Array; g: Float32Array; row: Float32Array;
  r1: Ref; r2: Ref;
}

function problem(seed: number, B = 3, T = 14, I = 7, H1 = 6, H2 = 5): Problem {
  for (let s = seed; ; s++) {
    const rng = new Rng(s);
    const x = Float32Array.from({ length: B * T * I }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const w1 = Float32Array.from({ length: I * H1 }, () => rng.uniform() * 0.7 - 0.2);
    const w2 = Float32Array.from({ length: H1 * H2 }, () => rng.uniform() * 0.9 - 0.25);
    const g = Float32Array.from({ length: B * T * H2 }, () => rng.uniform() * 2 - 1);
    const row = Float32Array.from({ length: B * H2 }, () => rng.uniform() - 0.5);
    const r1 = refForward(B, T, I, H1, x, w1);
    const r2 = refForward(B, T, H1, H2, Float32Array.from(r1.spk), w2);
    const far = (m: Float64Array): boolean => m.every((v) => [TH, BTH, 2 * TH - BTH].every((e) => Math.abs(v - e) >= 1e-3));
    let active1 = 0, active2 = 0;
    r1.mem.forEach((v) => { active1 += inBand(v) ? 1 : 0; });
    r2.mem.forEach((v) => { active2 += inBand(v) ? 1 : 0; });
    if (far(r1.mem) && far(r2.mem) && active1 > 0 && active2 > 0) return { B, T, I, H1, H2, x, w1, w2, g, row, r1, r2 };
  }
}

function fwdArgs(p: Problem, layer: 1 | 2, backward: 'dense' | 's3gd', spk1?: Float32Array): LifForwardArgs {
  const base = { B: p.B, T: p.T, beta: BETA, threshold: TH, bTh: BTH, training: true, backward };
  return layer === 1
    ? { ...base, I: p.I, H: p.H1, x: p.x, w: p.w1 }
    : { ...base, I: p.H1, H: p.H2, x: spk1 ?? null, w: p.w2 };
}

/** Positions (b,t,i) of a layer's active set, in the engine's row order. */
function activePositions(m: Float64Array, BT: number, H: number): number[] {
  const pos: number[] = [];
  for (let r = 0; r < BT; r++) for (let j = 0; j < H; j++) if (inBand(m[r * H + j])) pos.push(r * H + j);
  return pos;
}

describe('lifForward / lifBackward', () => {
  const p = problem(3);

  it('forward matches the reference; events input equals dense input; handles hold what they say', () => {
    const d1 = addon.lifForward(fwdArgs(p, 1, 'dense'));
    expect(Array.from(d1.spk)).toEqual(Array.from(p.r1.spk));
    const ev = toEvents(p.B, p.T, p.I, p.x);
    const e1 = addon.lifForward({ ...fwdArgs(p, 1, 's3gd'), x: undefined, events: ev });
    expect(firstDifference(e1.spk, d1.spk)).toBeNull();
    const active = activePositions(p.r1.mem, p.B * p.T, p.H1).length;
    expect(e1.stats.active).toBe(active);
    expect(e1.stats.neuronSteps).toBe(p.B * p.T * p.H1);
    let used = 0;  // events of steps 0 .. T−2 (x_{T−1} is never read)
    for (let b = 0; b < p.B; b++) used += ev.offsets[b * p.T + p.T - 1] - ev.offsets[b * p.T];
    expect(e1.stats.inputEvents).toBe(used);
    expect(d1.stats.inputEvents).toBe(used);
    // s3gd handle: offsets (int64) of two sets + 8 bytes per input event and per active entry
    const rows = p.B * p.T + 1;
    expect(e1.saved?.bytes).toBe(2 * 8 * rows + 8 * (ev.index.length + active));
    // dense handle over dense x: mem [B,T,H] (x is referenced, not counted)
    expect(d1.saved?.bytes).toBe(4 * p.B * p.T * p.H1);
    expect(d1.saved?.madeBy).toBe('lifForward');
    // dense handle over events: mem plus the events as given
    const de = addon.lifForward({ ...fwdArgs(p, 1, 'dense'), x: null, events: ev });
    expect(de.saved?.bytes).toBe(4 * p.B * p.T * p.H1 + 4 * (rows + ev.index.length));
    expect(addon.lifForward({ ...fwdArgs(p, 1, 's3gd'), training: false }).saved).toBeNull();
  });

  it('dense BPTT through the binding matches the float64 reference (dspk + dspkRow), over x and over events', () => {
    const spk1 = addon.lifForward(fwdArgs(p, 1, 'dense')).spk;
    const ev = toEvents(p.B, p.T, p.H1, spk1);
    const ref = refBackward(p.B, p.T, p.H1, p.H2, spk1, p.w2, p.r2.mem, p.g, p.row, false);
    for (const input of ['x', 'events'] as const) {
      const f = addon.lifForward(input === 'x' ? fwdArgs(p, 2, 'dense', spk1) : { ...fwdArgs(p, 2, 'dense'), events: ev });
      const dw = new Float32Array(p.H1 * p.H2);
      const r = addon.lifBackward({ saved: f.saved as Saved, w: p.w2, dw, dspk: p.g, dspkRow: p.row, needDx: true });
      expect(maxErr(dw, ref.dw)).toBeLessThan(TOL_GRAD);
      expect(r.dx).not.toBeNull();
      expect(maxErr(r.dx as Float32Array, ref.dx)).toBeLessThan(TOL_GRAD);
      expect(r.dxActive).toBeNull();
      expect(r.stats.scratchBytes).toBeGreaterThan(0);
    }
    // dspkRow alone (dspk absent) is the same as dspk = 0
    const f = addon.lifForward(fwdArgs(p, 2, 'dense', spk1));
    const dw = new Float32Array(p.H1 * p.H2);
    addon.lifBackward({ saved: f.saved as Saved, w: p.w2, dw, dspkRow: p.row, needDx: false });
    const refRow = refBackward(p.B, p.T, p.H1, p.H2, spk1, p.w2, p.r2.mem, new Float32Array(p.g.length), p.row, false);
    expect(maxErr(dw, refRow.dw)).toBeLessThan(TOL_GRAD);
  });

  it('S3GD through the binding: masked dense BPTT; dx only at the lower active set; compact dspk is the same', () => {
    const f1 = addon.lifForward(fwdArgs(p, 1, 's3gd'));
    const f2 = addon.lifForward(fwdArgs(p, 2, 's3gd', f1.spk));
    const ref = refBackward(p.B, p.T, p.H1, p.H2, f1.spk, p.w2, p.r2.mem, p.g, p.row, true);
    const lowerPos = activePositions(p.r1.mem, p.B * p.T, p.H1);
    const dw2 = new Float32Array(p.H1 * p.H2);
    const r2 = addon.lifBackward({ saved: f2.saved as Saved, w: p.w2, dw: dw2, dspk: p.g, dspkRow: p.row, lower: f1.saved, needDx: true });
    expect(maxErr(dw2, ref.dw)).toBeLessThan(TOL_GRAD);
    expect(r2.dx).toBeNull();
    expect(r2.stats.lowerActive).toBe(lowerPos.length);
    const dxa = r2.dxActive as Float32Array;
    expect(maxErr(dxa, lowerPos.map((k) => ref.dx[k]))).toBeLessThan(TOL_GRAD);
    // layer 1 from the compact gradient (+ its own row); equals layer 1 with that gradient dense
    const row1 = Float32Array.from({ length: p.B * p.H1 }, (_, k) => ((k * 37) % 11) / 11 - 0.5);
    const dense1 = new Float32Array(p.B * p.T * p.H1);
    lowerPos.forEach((k, q) => { dense1[k] = dxa[q]; });
    const dwA = new Float32Array(p.I * p.H1), dwD = new Float32Array(p.I * p.H1);
    addon.lifBackward({ saved: f1.saved as Saved, w: p.w1, dw: dwA, dspkActive: dxa, dspkRow: row1, needDx: false });
    addon.lifBackward({ saved: f1.saved as Saved, w: p.w1, dw: dwD, dspk: dense1, dspkRow: row1, needDx: false });
    expect(firstDifference(dwA, dwD)).toBeNull();
    const ref1 = refBackward(p.B, p.T, p.I, p.H1, p.x, p.w1, p.r1.mem, dense1, row1, true);
    expect(maxErr(dwA, ref1.dw)).toBeLessThan(TOL_GRAD);
    // dw is added into
    const again = Float32Array.from(dwA);
    addon.lifBackward({ saved: f1.saved as Saved, w: p.w1, dw: again, dspkActive: dxa, dspkRow: row1, needDx: false });
    expect(maxErr(again, Array.from(dwA, (v) => 2 * v))).toBeLessThan(1e-6);
  });

  it('async twins give the same numbers bit for bit', async () => {
    const a1 = fwdArgs(p, 1, 's3gd');
    const s1 = addon.lifForward(a1), as1 = await addon.lifForwardAsync(a1);
    expect(firstDifference(as1.spk, s1.spk)).toBeNull();
    expect(as1.stats).toEqual(s1.stats);
    const s2 = addon.lifForward(fwdArgs(p, 2, 's3gd', s1.spk));
    const dwS = new Float32Array(p.H1 * p.H2), dwA = new Float32Array(p.H1 * p.H2);
    const b = { saved: s2.saved as Saved, w: p.w2, dspk: p.g, lower: as1.saved, needDx: true };
    const rs = addon.lifBackward({ ...b, dw: dwS }), ra = await addon.lifBackwardAsync({ ...b, dw: dwA });
    expect(firstDifference(dwA, dwS)).toBeNull();
    expect(firstDifference(ra.dxActive as Float32Array, rs.dxActive as Float32Array)).toBeNull();
    const ro = { B: p.B, T: p.T, H: p.H2, O: 3, spk: s2.spk, w: Float32Array.from({ length: p.H2 * 3 }, (_, k) => 0.1 * k - 0.5), beta: BETA, reduce: 'max' as const, training: true };
    const rf = addon.lifReadoutForward(ro), rfa = await addon.lifReadoutForwardAsync(ro);
    expect(firstDifference(rfa.logits, rf.logits)).toBeNull();
    const dl = Float32Array.from({ length: p.B * 3 }, (_, k) => k - 4);
    const w3a = new Float32Array(p.H2 * 3), w3s = new Float32Array(p.H2 * 3);
    const bs = addon.lifReadoutBackward({ saved: rf.saved as Saved, w: ro.w, dw: w3s, dlogits: dl, needDspk: true });
    const ba = await addon.lifReadoutBackwardAsync({ saved: rfa.saved as Saved, w: ro.w, dw: w3a, dlogits: dl, needDspk: true });
    expect(firstDifference(ba.dspk as Float32Array, bs.dspk as Float32Array)).toBeNull();
    expect(firstDifference(w3a, w3s)).toBeNull();
    const reg = { B: p.B, T: p.T, H: p.H2, spk: s2.spk, lambdaUp: 0.06, fUp: 0.1, pUp: 1, lambdaLow: 100, fLow: 1e-3 };
    const gs = addon.spikeCountRegularizer(reg), ga = await addon.spikeCountRegularizerAsync(reg);
    expect(ga.loss).toBe(gs.loss);
    expect(firstDifference(ga.dspkRow, gs.dspkRow)).toBeNull();
  });

  it('the readout backward reads only its handle: spk may change after the forward', () => {
    const s1 = addon.lifForward(fwdArgs(p, 1, 's3gd'));
    const spk = Float32Array.from(addon.lifForward(fwdArgs(p, 2, 's3gd', s1.spk)).spk);
    const ro = { B: p.B, T: p.T, H: p.H2, O: 3, w: Float32Array.from({ length: p.H2 * 3 }, (_, k) => 0.1 * k - 0.5), beta: BETA, reduce: 'sum' as const, training: true };
    const dl = Float32Array.from({ length: p.B * 3 }, (_, k) => k - 4);
    const backward = (saved: Saved) => {
      const dw = new Float32Array(p.H2 * 3);
      const r = addon.lifReadoutBackward({ saved, w: ro.w, dw, dlogits: dl, needDspk: true });
      return { dw, dspk: r.dspk as Float32Array };
    };
    const ref = backward(addon.lifReadoutForward({ ...ro, spk: Float32Array.from(spk) }).saved as Saved);
    expect(ref.dw.some((v) => v !== 0)).toBe(true);
    // the handle keeps spk's spike events, not spk: overwriting spk after the forward changes nothing
    const spk2 = Float32Array.from(spk);
    const f = addon.lifReadoutForward({ ...ro, spk: spk2 });
    spk2.fill(Number.NaN);
    const got = backward(f.saved as Saved);
    expect(firstDifference(got.dw, ref.dw)).toBeNull();
    expect(firstDifference(got.dspk, ref.dspk)).toBeNull();
  });

  it('argument errors name the function and the argument', async () => {
    const a = fwdArgs(p, 1, 's3gd');
    const ev = toEvents(p.B, p.T, p.I, p.x);
    const bad = (offsets: number[] | Int32Array, index: number[] | Int32Array) =>
      () => addon.lifForward({ ...a, x: null, events: { offsets: Int32Array.from(offsets), index: Int32Array.from(index) } });
    const rows = p.B * p.T;
    const zeros = Array.from({ length: rows + 1 }, () => 0);
    expect(bad(zeros.map((_, r) => (r === 0 ? 1 : 1)), [0])).toThrow(/lifForward: events\.offsets\[0\] must be 0/);
    expect(bad(zeros.map((_, r) => (r === 1 ? 1 : 0)), [0])).toThrow(/lifForward: events\.offsets must not decrease/);
    expect(bad(zeros, [0])).toThrow(/lifForward: events\.offsets\[\d+\] = 0 must equal the index length 1/);
    expect(bad(zeros.map((_, r) => (r === 0 ? 0 : 1)), [p.I])).toThrow(RangeError);
    expect(bad(zeros.map((_, r) => (r === 0 ? 0 : 1)), [p.I])).toThrow(/events\.index\[0\] = 7 is outside \[0, 7\)/);
    expect(bad(zeros.map((_, r) => (r === 0 ? 0 : 2)), [3, 3])).toThrow(/events\.index must rise strictly/);
    expect(bad(zeros.slice(1), [])).toThrow(/lifForward: events\.offsets has length \d+, expected B\*T\+1/);
    expect(() => addon.lifForward({ ...a, events: ev })).toThrow(/lifForward: give x or events, not both/);
    expect(() => addon.lifForward({ ...a, x: null })).toThrow(/lifForward: give x or events/);
    expect(() => addon.lifForward({ ...a, x: p.x.subarray(1) })).toThrow(/lifForward: x has length \d+, expected B\*T\*I/);
    expect(() => addon.lifForward({ ...a, events: { offsets: new Float32Array(rows + 1), index: new Int32Array(0) } as never, x: null }))
      .toThrow(TypeError);
    expect(() => addon.lifForward({ ...a, backward: 'sparse' as never })).toThrow(/lifForward: backward must be 'dense' \| 's3gd'/);
    expect(() => addon.lifForward({ ...a, beta: 1 })).toThrow(/lifForward: beta/);
    await expect(addon.lifForwardAsync({ ...a, events: ev })).rejects.toThrow(/lifForwardAsync: give x or events, not both/);

    const f1 = addon.lifForward(a);
    const f2 = addon.lifForward(fwdArgs(p, 2, 's3gd', f1.spk));
    const fd = addon.lifForward(fwdArgs(p, 2, 'dense', f1.spk));
    const w = p.w2, dw = new Float32Array(p.H1 * p.H2);
    const nA = f2.stats.active;
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspk: p.g, dspkActive: new Float32Array(nA), needDx: false }))
      .toThrow(/lifBackward: give dspk or dspkActive, not both/);
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspkActive: new Float32Array(nA + 1), needDx: false }))
      .toThrow(/lifBackward: dspkActive has length \d+, expected one value per entry/);
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, needDx: false })).toThrow(/lifBackward: give dspk, dspkActive or dspkRow/);
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspk: p.g.subarray(1), needDx: false }))
      .toThrow(/lifBackward: dspk has length \d+, expected B\*T\*H/);
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w: w.subarray(1), dw, dspk: p.g, needDx: false }))
      .toThrow(/lifBackward: w has length/);
    // lower of the wrong shape: layer 2's own handle (H = 5, this I = 6)
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspk: p.g, lower: f2.saved, needDx: true }))
      .toThrow(/lifBackward: lower was made with B = 3, T = 14, H = 5; this layer needs B = 3, T = 14, H = I = 6/);
    const f1dense = addon.lifForward({ ...a, backward: 'dense' });
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspk: p.g, lower: f1dense.saved, needDx: true }))
      .toThrow(/lifBackward: lower was made with backward: 'dense'/);
    const ro = addon.lifReadoutForward({ B: p.B, T: p.T, H: p.H2, O: 2, spk: f2.spk, w: new Float32Array(p.H2 * 2), beta: 0.9, reduce: 'sum', training: true });
    expect(() => addon.lifBackward({ saved: f2.saved as Saved, w, dw, dspk: p.g, lower: ro.saved, needDx: true }))
      .toThrow(/lifBackward: lower must be the handle from lifForward/);
    expect(() => addon.lifBackward({ saved: fd.saved as Saved, w, dw, dspk: p.g, lower: f1.saved, needDx: true }))
      .toThrow(/lifBackward: lower needs a saved handle made with backward: 's3gd'/);
    expect(() => addon.lifBackward({ saved: fd.saved as Saved, w, dw, dspkActive: new Float32Array(1), needDx: true }))
      .toThrow(/lifBackward: dspkActive needs a saved handle made with backward: 's3gd'/);
    expect(() => addon.lifBackward({ saved: ro.saved as Saved, w, dw, dspk: p.g, needDx: true }))
      .toThrow(/lifBackward: saved must be the handle from lifForward/);
    const released = addon.lifForward(a);
    released.saved?.release();
    expect(() => addon.lifBackward({ saved: released.saved as Saved, w: p.w1, dw: new Float32Array(p.I * p.H1), dspk: new Float32Array(p.B * p.T * p.H1), needDx: false }))
      .toThrow(/lifBackward: saved was released/);
    await expect(addon.lifBackwardAsync({ saved: f2.saved as Saved, w, dw, needDx: false })).rejects.toThrow(/lifBackwardAsync: give dspk/);

    const rargs = { B: p.B, T: p.T, H: p.H2, O: 2, spk: f2.spk, w: new Float32Array(p.H2 * 2), beta: 0.9, reduce: 'max' as const, training: true };
    expect(() => addon.lifReadoutForward({ ...rargs, reduce: 'median' as never })).toThrow(/lifReadoutForward: reduce must be 'max' \| 'sum' \| 'mean' \| 'last'/);
    expect(() => addon.lifReadoutForward({ ...rargs, w: new Float32Array(3) })).toThrow(/lifReadoutForward: w has length 3, expected H\*O = 10/);
    expect(() => addon.lifReadoutBackward({ saved: f2.saved as Saved, w: rargs.w, dw: new Float32Array(10), dlogits: new Float32Array(6), needDspk: true }))
      .toThrow(/lifReadoutBackward: saved must be the handle from lifReadoutForward/);
    expect(() => addon.spikeCountRegularizer({ B: p.B, T: p.T, H: p.H2, spk: f2.spk.subarray(2), lambdaUp: 0.06, fUp: 1, pUp: 1, lambdaLow: 100, fLow: 1e-3 }))
      .toThrow(/spikeCountRegularizer: spk has length/);
    expect(() => addon.spikeCountRegularizer({ B: p.B, T: p.T, H: p.H2, spk: f2.spk, lambdaUp: -1, fUp: 1, pUp: 1, lambdaLow: 100, fLow: 1e-3 }))
      .toThrow(/spikeCountRegularizer: lambdaUp/);
  });
});

describe('lifReadoutForward / lifReadoutBackward and spikeCountRegularizer', () => {
  const B = 2, T = 7, H = 4, O = 3, beta = 0.8;
  const rng = new Rng(5);
  const spk = Float32Array.from({ length: B * T * H }, () => (rng.uniform() < 0.4 ? 1 : 0));
  const w = Float32Array.from({ length: H * O }, () => rng.uniform() * 2 - 1);

  /** out_0 .. out_{T−1} [B,T,O], float64 */
  function outs(): Float64Array {
    const out = new Float64Array(B * T * O);
    for (let b = 0; b < B; b++)
      for (let t = 0; t + 1 < T; t++)
        for (let k = 0; k < O; k++) {
          let h = 0;
          for (let j = 0; j < H; j++) h += spk[(b * T + t) * H + j] * w[j * O + k];
          out[(b * T + t + 1) * O + k] = beta * out[(b * T + t) * O + k] + (1 - beta) * h;
        }
    return out;
  }

  it('each reduction matches the reference, forward and backward', () => {
    const out = outs();
    const dl = Float32Array.from({ length: B * O }, (_, k) => 0.5 - 0.3 * k);
    for (const reduce of ['max', 'sum', 'mean', 'last'] as const) {
      const ref = new Float64Array(B * O), pick = new Float64Array(B * T * O);  // pick: dlogits/dout
      for (let b = 0; b < B; b++)
        for (let k = 0; k < O; k++) {
          const at = (t: number): number => out[(b * T + t) * O + k];
          if (reduce === 'max') {
            let m = at(0), am = 0;
            for (let t = 1; t < T; t++) if (at(t) > m) m = at(t), am = t;
            ref[b * O + k] = m, pick[(b * T + am) * O + k] = 1;
          } else if (reduce === 'last') {
            ref[b * O + k] = at(T - 1), pick[(b * T + T - 1) * O + k] = 1;
          } else {
            const div = reduce === 'mean' ? T : 1;
            for (let t = 0; t < T; t++) ref[b * O + k] += at(t) / div, pick[(b * T + t) * O + k] = 1 / div;
          }
        }
      const f = addon.lifReadoutForward({ B, T, H, O, spk, w, beta, reduce, training: true });
      expect(maxErr(f.logits, ref)).toBeLessThan(1e-5);
      // backward: dL/dh_t = (1−β) Σ_{s>t} β^{s−t−1} dL/dout_s; dW = Σ spkᵀ dh; dspk = dh wᵀ
      const dw = new Float64Array(H * O), dspk = new Float64Array(B * T * H);
      for (let b = 0; b < B; b++)
        for (let t = 0; t + 1 < T; t++)
          for (let k = 0; k < O; k++) {
            let dh = 0;
            for (let s = t + 1; s < T; s++) dh += (1 - beta) * beta ** (s - t - 1) * pick[(b * T + s) * O + k] * dl[b * O + k];
            for (let j = 0; j < H; j++) {
              dw[j * O + k] += spk[(b * T + t) * H + j] * dh;
              dspk[(b * T + t) * H + j] += w[j * O + k] * dh;
            }
          }
      const gw = new Float32Array(H * O);
      const r = addon.lifReadoutBackward({ saved: f.saved as Saved, w, dw: gw, dlogits: dl, needDspk: true });
      expect(maxErr(gw, dw)).toBeLessThan(1e-5);
      expect(maxErr(r.dspk as Float32Array, dspk)).toBeLessThan(1e-5);
      expect(addon.lifReadoutBackward({ saved: f.saved as Saved, w, dw: gw, dlogits: dl, needDspk: false }).dspk).toBeNull();
    }
  });

  it('the regulariser: loss and dspkRow per the formula, hinges strict', () => {
    const prm = { lambdaUp: 0.06, fUp: 0.5, pUp: 1, lambdaLow: 100, fLow: 1.5 };
    const r = addon.spikeCountRegularizer({ B, T, H, spk, ...prm });
    let loss = 0;
    const row = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const n = new Float64Array(H);
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) n[j] += spk[(b * T + t) * H + j];
      const u = n.reduce((a, v) => a + v, 0) / H - prm.fUp;
      if (u > 0) loss += prm.lambdaUp * u;
      for (let j = 0; j < H; j++) {
        const v = prm.fLow - n[j];
        row[b * H + j] = (u > 0 ? prm.lambdaUp / H : 0) + (v > 0 ? (-2 * prm.lambdaLow * v) / H : 0);
        if (v > 0) loss += (prm.lambdaLow / H) * v * v;
      }
    }
    expect(Math.abs(r.loss - loss / B)).toBeLessThan(1e-12 * Math.max(1, loss));
    expect(maxErr(r.dspkRow, Array.from(row, (v) => v / B))).toBeLessThan(1e-6);
    // at u = 0 exactly and Σ_t spk = f_low exactly, both hinges give 0
    const one = new Float32Array(1 * 2 * 2);
    one[0] = 1, one[1] = 1;  // t = 0: both units spike once → mean count per unit 1
    const z = addon.spikeCountRegularizer({ B: 1, T: 2, H: 2, spk: one, lambdaUp: 1, fUp: 1, pUp: 1, lambdaLow: 1, fLow: 1 });
    expect(z.loss).toBe(0);
    expect(Array.from(z.dspkRow)).toEqual([0, 0]);
  });
});
