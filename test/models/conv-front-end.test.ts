// EvNN's convolutional front end (src/models/conv-front-end.ts) against PyTorch: the same module
// built by test/fixtures/make_conv_reference.py, same weights and frames (regenerated here from the
// fixture's integer hash), outputs and the gradient of every parameter and of the frames. Then
// what the model API promises: names, frame-size rules, async, evaluation, accumulation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConvFrontEnd, EVNN_CONV_CHANNELS, frontEndMapSize } from '../../src/models/conv-front-end.js';
import type { StateRecord } from '../../src/layers/parameters.js';
import type { Tensor } from '../../src/layers/tensor.js';
import { assertAllClose } from '../oracle/compare.js';
import { F32_GEMM } from '../native-oracle/tolerances.js';

interface Whole {
  shape: number[];
  data: number[];
}
interface Sampled {
  shape: number[];
  index: number[];
  values: number[];
  maxAbs: number;
  sum: number;
  sumAbs: number;
  sumSq: number;
  proj: number;
}
type Stored = Whole | Sampled;
interface Case {
  name: string;
  frame: number;
  T: number;
  N: number;
  widths: [number, number, number, number, number];
  out: number;
  dataSalt: number;
  stateDict: [string, number[]][];
  tensors: Record<string, Stored>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/conv-torch-reference.json', import.meta.url), 'utf8')) as {
  unitCheck: number[];
  cases: Case[];
};
const PROJ_SALT = 999;

/** The fixture's hash: n values k·2⁻²³ − 1 in [−1, 1) for (index, salt), all exact in float32. */
function unit(n: number, salt: number): Float64Array {
  const out = new Float64Array(n);
  const s = Math.imul(salt, 0x85ebca77);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + s) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
    h = Math.imul(h, 0x297a2d39) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    out[i] = (h >>> 8) / 8388608 - 1;
  }
  return out;
}

function weightsOf(c: Case): StateRecord {
  const record: StateRecord = {};
  c.stateDict.forEach(([name, shape], k) => {
    // PyTorch's init bound 1/√fan_in of the layer, for its weight and its bias alike.
    const weightShape = (c.stateDict.find(([n]) => n === name.replace(/bias$/, 'weight')) as [string, number[]])[1];
    const bound = 1 / Math.sqrt(weightShape.slice(1).reduce((a, b) => a * b, 1));
    const n = shape.reduce((a, b) => a * b, 1);
    record[name] = { data: Float32Array.from(unit(n, 100 + k), (v) => v * bound), shape };
  });
  return record;
}

function framesOf(c: Case): Tensor {
  const n = c.T * c.N * c.frame * c.frame;
  return { data: Float32Array.from(unit(n, c.dataSalt), (v) => Math.max(0, v - 0.4)), shape: [c.T, c.N, 1, c.frame, c.frame] };
}

/** A stored tensor against `actual`, on compare.ts's rule: errors within tol of the tensor's largest magnitude. */
function expectMatches(actual: Float32Array, ref: Stored, tol: number, what: string): void {
  expect(actual.length, `${what} length`).toBe(ref.shape.reduce((a, b) => a * b, 1));
  if ('data' in ref) {
    assertAllClose(actual, ref.data, tol, what);
    return;
  }
  const bound = tol * ref.maxAbs;
  ref.index.forEach((i, k) => {
    expect(Math.abs(actual[i]! - ref.values[k]!), `${what}[${i}]: ${actual[i]} vs ${ref.values[k]}`).toBeLessThanOrEqual(bound);
  });
  const r = unit(actual.length, PROJ_SALT);
  let sum = 0, sumSq = 0, proj = 0, maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    sum += a;
    sumSq += a * a;
    proj += a * r[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(a));
  }
  // Each entry within tol·maxAbs moves a sum by at most that much per unit of |weight|.
  expect(Math.abs(maxAbs - ref.maxAbs), `${what} max|.|`).toBeLessThanOrEqual(bound);
  expect(Math.abs(sum - ref.sum), `${what} sum`).toBeLessThanOrEqual(tol * ref.sumAbs);
  expect(Math.abs(proj - ref.proj), `${what} projection`).toBeLessThanOrEqual(tol * ref.sumAbs);
  expect(Math.abs(sumSq - ref.sumSq), `${what} sum of squares`).toBeLessThanOrEqual(2 * tol * ref.maxAbs * ref.sumAbs);
}

describe('ConvFrontEnd vs PyTorch (fixture)', () => {
  it('regenerates the fixture\'s hash', () => {
    expect(Array.from(unit(4, 3), (v) => Number(v.toPrecision(10)))).toEqual(fixture.unitCheck);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: frame ${c.frame}, widths ${c.widths.join('/')}, T=${c.T} N=${c.N}: outputs and every gradient`, () => {
      const fe = new ConvFrontEnd({ frameSize: c.frame, channels: c.widths, outFeatures: c.out });
      // PyTorch's state_dict names and shapes, in its order.
      expect(Object.entries(fe.state()).map(([name, t]) => [name, [...t.shape]])).toEqual(c.stateDict);
      fe.loadState(weightsOf(c));
      const x = framesOf(c);
      const y = fe.forward(x);
      expect(y.shape).toEqual([c.T, c.N, c.out]);
      expectMatches(y.data, c.tensors.y!, F32_GEMM, 'y');
      const g = Float32Array.from(unit(y.data.length, c.dataSalt + 1));
      const grads = fe.backward({ data: g, shape: y.shape }, { needInputGrad: true });
      expect(grads.input!.shape).toEqual(x.shape);
      expectMatches(grads.input!.data, c.tensors.dx!, F32_GEMM, 'dx');
      expect(Object.keys(grads.params)).toEqual(c.stateDict.map(([n]) => n));
      for (const [name] of c.stateDict) expectMatches(grads.params[name]!, c.tensors[`grad.${name}`]!, F32_GEMM, `grad ${name}`);
    });
  }
});

describe('ConvFrontEnd API', () => {
  const c = fixture.cases.find((k) => k.name === 'small-64')!;

  it('uses EvNN\'s widths and names by default, and only frame sizes that end in a 1×1 map', () => {
    const names = Object.keys(new ConvFrontEnd({ frameSize: 32 }).state());
    expect(names).toEqual([0, 3, 6, 9, 12, 15].flatMap((i) => [`conv.${i}.weight`, `conv.${i}.bias`]));
    const fe = new ConvFrontEnd({ frameSize: 128, prefix: 'frontEnd.' });
    expect(fe.state()['frontEnd.12.weight']!.shape).toEqual([EVNN_CONV_CHANNELS[4], EVNN_CONV_CHANNELS[3], 3, 3]);
    expect(fe.state()['frontEnd.15.weight']!.shape).toEqual([512, 256]);
    expect([32, 64, 128].map(frontEndMapSize)).toEqual([1, 1, 1]);
    // Two channels (EvNN's 'bool' and 'none' merges keep both polarities).
    const two = new ConvFrontEnd({ frameSize: 32, inChannels: 2, channels: [3, 4, 5, 4, 3], outFeatures: 6 });
    expect(two.state()['conv.0.weight']!.shape).toEqual([3, 2, 11, 11]);
    const y2 = two.forward({ data: new Float32Array(3 * 2 * 2 * 32 * 32).fill(0.5), shape: [3, 2, 2, 32, 32] });
    expect(y2.shape).toEqual([3, 2, 6]);
    expect(frontEndMapSize(48)).toBe(2);
    expect(() => new ConvFrontEnd({ frameSize: 48 })).toThrow(/frameSize 48 leaves a 2×2 map/);
    expect(() => new ConvFrontEnd({ frameSize: 16 })).toThrow(/frameSize 16 leaves a 0×0 map/);
  });

  it('async equals sync; evaluation keeps nothing; accumulate adds; wrong shapes are named', async () => {
    const fe = new ConvFrontEnd({ frameSize: c.frame, channels: c.widths, outFeatures: c.out });
    fe.loadState(weightsOf(c));
    const x = framesOf(c);
    const y = fe.forward(x);
    const g: Tensor = { data: Float32Array.from(unit(y.data.length, 5)), shape: y.shape };
    const sync = fe.backward(g, { needInputGrad: true });
    const ya = await fe.forwardAsync(x);
    expect(Array.from(ya.data)).toEqual(Array.from(y.data));
    const asyncGrads = await fe.backwardAsync(g, { needInputGrad: true });
    expect(Array.from(asyncGrads.input!.data)).toEqual(Array.from(sync.input!.data));
    for (const name of Object.keys(sync.params)) expect(Array.from(asyncGrads.params[name]!)).toEqual(Array.from(sync.params[name]!));
    expect((await fe.backwardAsync(g)).input).toBeNull();

    // Two backward passes with accumulate: twice the gradient (exactly: x + x is exact).
    fe.forward(x);
    fe.backward(g);
    const twice = fe.backward(g, { accumulate: true });
    for (const name of Object.keys(sync.params)) expect(Array.from(twice.params[name]!)).toEqual(Array.from(sync.params[name]!, (v) => 2 * v));

    const ev = new ConvFrontEnd({ frameSize: c.frame, channels: c.widths, outFeatures: c.out });
    ev.loadState(weightsOf(c));
    expect(Array.from(ev.forward(x, { training: false }).data)).toEqual(Array.from(y.data));
    expect(() => ev.backward(g)).toThrow(/call forward in training mode first/);
    expect(() => fe.forward({ data: new Float32Array(2 * 32 * 32), shape: [1, 2, 1, 32, 32] })).toThrow(/expected dimension 3 to be 64/);
    expect(() => fe.backward({ data: new Float32Array(3), shape: [1, 1, 3] })).toThrow(/dy has shape/);
  });
});
