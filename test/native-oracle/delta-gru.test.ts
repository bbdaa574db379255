// Native DeltaGRU (deltaGruForward/Backward) against the float64 oracle (test/oracle/delta-gru.ts),
// with inputs built so that every |Δx| and |Δh| lies at least DECISION_MARGIN away from its
// threshold (kernels.ts; the cases and checks both delta families share are delta-helpers.ts's):
// then native and oracle make the same threshold decisions and differ only by rounding, checked
// with F32_GEMM. Shapes take one to many time chunks (small chunkFloats), run
// on 2 threads, and a large case splits every pointwise pass mid-row; with the builtin GEMM the
// result is bitwise that of 1 thread. Also: Θx = Θh = 0 against the GRU binding, gradient
// accumulation, sync = async, the argument checks (qa refused in training), and the library side:
// the DeltaGRU class and the 'deltagru' family load a GRU checkpoint strictly.
import { describe, expect, it } from 'vitest';
import { modelSchema } from '../../src/config/model.js';
import { validateConfig } from '../../src/config/index.js';
import { DeltaGRUCell } from '../../src/layers/delta-gru-cell.js';
import { DeltaGRU, type DeltaGRUForwardOptions } from '../../src/layers/delta-gru.js';
import { buildStack } from '../../src/layers/families.js';
import { GRU } from '../../src/layers/gru.js';
import { loadStateInto } from '../../src/layers/parameters.js';
import { native, type DeltaGruBackwardArgs, type DeltaGruForwardArgs, type GruForwardArgs } from '../../src/native/addon.js';
import { buildModel } from '../../src/pipeline/model-from-config.js';
import { assertAllClose } from '../oracle/compare.js';
import { deltaGruBackward, deltaGruForward } from '../oracle/delta-gru.js';
import type { GruParams } from '../oracle/gru.js';
import { randomGruParams } from '../oracle/random.js';
import { firstDifference, gruGrads, withThreads } from '../native/helpers.js';
import {
  chunkFloats, deltaBackwardArgs, deltaCase, deltaForwardArgs, expectAccumulates, expectBackward, expectBitwiseSame, expectDecisionMargins,
  expectParamGrads, expectSameCounts, expectSameParamGrads, expectSomeZeros, layerData, SHAPES, SPLIT, tensorOf, THETA_X, VARIANTS,
  withLastStateGradient, type DeltaCase, type Dims,
} from './delta-helpers.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

type Case = DeltaCase<GruParams>;

function makeCase(seed: number, dims: Dims, thetaX: number, thetaH: number | 'search'): Case {
  return deltaCase(seed, dims, thetaX, thetaH, randomGruParams, deltaGruForward).c;
}

const forwardArgs = (c: Case, training: boolean, chunk = 0): DeltaGruForwardArgs => deltaForwardArgs(c, training, chunk);

function backwardArgs(c: Case, f: DeltaGruForwardArgs, saved: DeltaGruBackwardArgs['saved'], needDx = true): DeltaGruBackwardArgs {
  return deltaBackwardArgs(c, f, saved, gruGrads(c.dims.C, c.dims.H), needDx);
}

/** The oracle's run; dhN enters as dy's last step (h_{T−1} is y's last step). Checks the margins. */
function oracle(c: Case) {
  const f = deltaGruForward(c.params, c.x, c.dims, { thetaX: c.thetaX, thetaH: c.thetaH });
  expectDecisionMargins(c.x, f, c.dims, c.thetaX, c.thetaH);
  return { f, grad: deltaGruBackward(c.params, f.tape, withLastStateGradient(c.dy, c.dhN, c.dims), c.dims) };
}

function checkCase(c: Case, chunk: number, expected = oracle(c)): void {
  const { f: ref, grad } = expected;
  const args = forwardArgs(c, true, chunk);
  const fwd = native().deltaGruForward(args);
  assertAllClose(fwd.y, ref.y, F32_GEMM, 'y');
  expect(fwd.saved?.madeBy).toBe('deltaGruForward');
  expectSameCounts(fwd.stats, ref.stats);
  const b = backwardArgs(c, args, fwd.saved!);
  expectBackward(native().deltaGruBackward(b), b, grad);
}

describe.each(compiledGemmKernels())('native DeltaGRU vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [si, dims] of SHAPES.entries()) {
    for (const [vi, v] of VARIANTS.entries()) {
      it(`T=${dims.T} N=${dims.N} C=${dims.C} H=${dims.H} Θx=${v.thetaX} Θh=${v.thetaH} chunks=${v.chunk}`, () => {
        const c = makeCase(5000 + 10 * si + vi, dims, v.thetaX, v.thetaH);
        withThreads(2, () => checkCase(c, chunkFloats(v.chunk, dims, 3)));
      });
    }
  }

  it('thresholds zero some deltas and pass others (the cases above are not all-dense or all-zero)', () => {
    expectSomeZeros(oracle(makeCase(5030, SHAPES[3], THETA_X, 'search')).f.stats);
  });

  it(`multi-thread split (2 threads, N·H = ${SPLIT.N * SPLIT.H}, segments starting mid-row), one step per chunk: matches the oracle`, () => {
    // Θh = 0 here: with |Δh| this many (and this small) no Θh > 0 leaves a margin; Θx still thresholds.
    const c = makeCase(5100, SPLIT, THETA_X, 0);
    withThreads(2, () => checkCase(c, 64));
  });

  it.runIf(kernel === 'builtin')('with both thresholds on, 2 threads give bitwise the numbers of 1 thread', () => {
    const c = { ...makeCase(5101, SPLIT, THETA_X, 0), thetaH: 0.05 };
    const run = () => {
      const args = forwardArgs(c, true, 64);
      const fwd = native().deltaGruForward(args);
      const b = backwardArgs(c, args, fwd.saved!);
      const g = native().deltaGruBackward(b);
      expect(fwd.stats.dhZeros).toBeGreaterThan(0);
      return { y: fwd.y, dx: g.dx!, dWeightIh: b.dWeightIh as Float32Array, dWeightHh: b.dWeightHh as Float32Array, dBiasIh: b.dBiasIh as Float32Array };
    };
    expectBitwiseSame(withThreads(1, run), withThreads(2, run));
  });

  it('Θx = Θh = 0 is the GRU binding (h0 = null) within F32_GEMM, forward and backward (dhN as the GRU\'s dhT)', () => {
    // Not bitwise: the delta memories are running sums M_t = M_{t−1} + W Δx_t + U Δh_t, rounded
    // differently from the GRU's direct W x_t + U h_{t−1}; both are float32 GEMM-class sums.
    const c = makeCase(5200, { T: 12, N: 3, C: 9, H: 20 }, 0, 0);
    const args = forwardArgs(c, true, 2 * 3 * 60);
    const d = native().deltaGruForward(args);
    const gargs: GruForwardArgs = { ...args, h0: null };
    const g = native().gruForward(gargs);
    assertAllClose(d.y, g.y, F32_GEMM, 'y vs gruForward');
    const db = backwardArgs(c, args, d.saved!);
    const dg = native().deltaGruBackward(db);
    const gb = { ...db, saved: g.saved!, dhT: db.dhN, ...gruGrads(c.dims.C, c.dims.H) };
    const gg = native().gruBackward(gb);
    assertAllClose(dg.dx!, gg.dx!, F32_GEMM, 'dx vs gruBackward');
    expectParamGrads(db, gb, ' vs gruBackward');
  });

  it('gradients accumulate over calls and time chunks: preset R comes back as R + gradient, then R + 2·gradient; dx is written', () => {
    const c = makeCase(5300, { T: 7, N: 3, C: 9, H: 11 }, THETA_X, 'search');
    const { grad } = oracle(c);
    const args = forwardArgs(c, true, 2 * 3 * 33); // chunks of 2, 2, 2, 1 steps
    const b = backwardArgs(c, args, native().deltaGruForward(args).saved!);
    expectAccumulates(5300, b, grad, () => native().deltaGruBackward(b));
  });

  it('async variants give the same numbers as the sync calls; needDx = false returns no dx', async () => {
    const c = makeCase(5400, { T: 6, N: 4, C: 5, H: 9 }, THETA_X, 'search');
    const args = forwardArgs(c, true);
    const s = native().deltaGruForward(args);
    const a = await native().deltaGruForwardAsync(args);
    expect(firstDifference(a.y, s.y)).toBeNull();
    expect(a.stats).toEqual(s.stats);
    const bs = backwardArgs(c, args, s.saved!);
    const ba = backwardArgs(c, args, a.saved!, false);
    const gs = native().deltaGruBackward(bs);
    const ga = await native().deltaGruBackwardAsync(ba);
    expect(ga.dx).toBeNull();
    expectSameParamGrads(ba, bs);
    expect(gs.dx).not.toBeNull();
  });
});

describe('deltaGruForward/Backward arguments', () => {
  const c = makeCase(5500, { T: 4, N: 2, C: 3, H: 5 }, THETA_X, 0.05);

  it('qa (fixed-point activations) with training: true is refused, naming the fix; in inference h is on the activation grid', () => {
    expect(() => native().deltaGruForward({ ...forwardArgs(c, true), qa: true })).toThrow(
      /deltaGruForward: qa \(fixed-point activations\) is for inference only: call with training: false/,
    );
    const q = native().deltaGruForward({ ...forwardArgs(c, false), qa: true });
    expect(q.saved).toBeNull();
    // h_t = Q_a(...) with the default activation format 3.5: multiples of 2^−5.
    expect(Array.from(q.y).every((v) => Number.isInteger(v * 32))).toBe(true);
    const plain = native().deltaGruForward(forwardArgs(c, false));
    expect(firstDifference(q.y, plain.y)).not.toBeNull();
  });

  it('qw starts the memories at the quantised bias sums: biases already on the 1.7 grid (sums inside its range) change nothing', () => {
    const args = forwardArgs(c, true);
    for (const b of [args.biasIh, args.biasHh] as Float32Array[]) for (let i = 0; i < b.length; i++) b[i] = Math.round(b[i] * 32) / 128;
    const plain = native().deltaGruForward(args);
    const qw = native().deltaGruForward({ ...args, qw: true });
    expect(firstDifference(qw.y, plain.y)).toBeNull();
    const off = forwardArgs(c, true);
    expect(firstDifference(native().deltaGruForward({ ...off, qw: true }).y, native().deltaGruForward(off).y)).not.toBeNull();
  });

  it('refuses bad thresholds and Q formats, and a handle of another forward', () => {
    const a = forwardArgs(c, true);
    expect(() => native().deltaGruForward({ ...a, thetaX: -0.1 })).toThrow(/deltaGruForward: thetaX must be >= 0/);
    expect(() => native().deltaGruForward({ ...a, thetaH: Number.NaN })).toThrow(/thetaH must be finite/);
    expect(() => native().deltaGruForward({ ...a, aqi: 3.5 })).toThrow(/aqi must be an integer/);
    expect(() => native().deltaGruForward({ ...a, wqi: 0 })).toThrow(/wqi.wqf must have wqi >= 1/);
    expect(() => native().deltaGruForward({ ...a, nqi: 12, nqf: 13 })).toThrow(/nqi \+ nqf <= 24/);
    const { thetaX: _t, ...noTheta } = a;
    expect(() => native().deltaGruForward(noTheta as DeltaGruForwardArgs)).toThrow(/thetaX is missing/);
    const gru = native().gruForward({ ...a, h0: null });
    expect(() => native().deltaGruBackward(backwardArgs(c, a, gru.saved!))).toThrow(/saved must be the handle from deltaGruForward/);
    expect(native().deltaGruForward(forwardArgs(c, false)).saved).toBeNull();
  });
});

describe('DeltaGRU layer and the deltagru family', () => {
  const C = 5;
  const H = 6;
  const { x, dOut } = layerData(5600, C, H);

  it('loads a GRU checkpoint (rnn.weight_ih_l0, …) strictly; at Θ = 0 it runs as the GRU', () => {
    const gru = new GRU({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', seed: 3 });
    const sd = gru.state();
    const delta = new DeltaGRU({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', thetaX: 0, thetaH: 0 });
    expect(Object.keys(delta.state()).sort()).toEqual(Object.keys(sd).sort());
    delta.loadState(sd);
    const g = gru.forward(x);
    const d = delta.forward(x);
    assertAllClose(d.output.data, g.output.data, F32_GEMM, 'output');
    assertAllClose(d.hN.data, g.hN.data, F32_GEMM, 'hN');
    const gg = gru.backward({ output: dOut, hN: g.hN });
    const dg = delta.backward({ output: dOut, hN: g.hN });
    assertAllClose(dg.input!.data, gg.input!.data, F32_GEMM, 'dx');
    for (const name of Object.keys(sd)) assertAllClose(dg.params[name], gg.params[name], F32_GEMM, name);
    expect(() => delta.loadState({ ...sd, 'rnn.weight_ih_l2': sd['rnn.weight_ih_l1'] })).toThrow(/unknown parameter\(s\) rnn.weight_ih_l2/);
    const { 'rnn.bias_hh_l1': _b, ...missing } = sd;
    expect(() => delta.loadState(missing)).toThrow(/missing parameter rnn.bias_hh_l1/);
  });

  it('a deltagru stack from the family table takes the same checkpoint; thresholds make it sparse', () => {
    const sd = new GRU({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', seed: 4 }).state();
    const stack = buildStack({ type: 'deltagru', hiddenSizes: [H, H], options: { thetaX: 0.5, thetaH: 0.1 } }, C, 0, 'rnn.');
    loadStateInto(stack.parameters(), sd, 'stack');
    expect(stack.cells.map((cell) => cell.family)).toEqual(['deltagru', 'deltagru']);
    expect(stack.cells.every((cell) => cell.emitsEvents === false && cell.tapNames.length === 0)).toBe(true);
    const cell = stack.cells[0] as DeltaGRUCell;
    expect(cell.settings).toMatchObject({ thetaX: 0.5, thetaH: 0.1, qa: false, aqi: 3, aqf: 5, nqi: 2, nqf: 6, qw: false, wqi: 1, wqf: 7 });
    const f = cell.sparsity({ forward: { dxZeros: 3, dxTotal: 10, dhZeros: 1, dhTotal: 10, macs: 80, macsDense: 200 }, backward: { macs: 50, macsDense: 50 }, units: 10, samples: 2 });
    expect(f).toEqual({
      deltaXZero: 0.3, deltaHZero: 0.1, deltaZero: 0.2, macsForward: 40, macsForwardDense: 100, macsBackward: 25, macsBackwardDense: 25,
    });
    expect(cell.sparsity({ forward: {}, backward: {}, units: 0, samples: 0 })).toEqual({});
  });

  it('refuses an initial state with the reason; qa quantises evaluation forwards only (training runs in float, as the reference)', () => {
    const delta = new DeltaGRU({ inputSize: C, hiddenSize: H, thetaX: 0.1, thetaH: 0.1 });
    const h0 = tensorOf(new Float32Array(2 * H), [1, 2, H]);
    expect(() => delta.forward(x, { h0 } as unknown as DeltaGRUForwardOptions)).toThrow(/DeltaGRU: no initial state \(h given\): a delta network starts every sequence at zero/);
    const qa = new DeltaGRU({ inputSize: C, hiddenSize: H, qa: true, seed: 5 });
    const plain = new DeltaGRU({ inputSize: C, hiddenSize: H, seed: 5 });
    expect(qa.forward(x).output.data).toEqual(plain.forward(x).output.data);
    const q = qa.forward(x, { training: false }).output.data;
    expect(q).not.toEqual(plain.forward(x, { training: false }).output.data);
    for (const v of q) expect(v * 32).toBe(Math.round(v * 32));
    expect(() => new DeltaGRU({ inputSize: C, hiddenSize: H, thetaX: -1 })).toThrow(/DeltaGRU: thetaX must be a finite number >= 0/);
    expect(() => new DeltaGRU({ inputSize: C, hiddenSize: H, aqi: 2.5 })).toThrow(/DeltaGRU: aqi.aqf must be integers/);
  });

  it('config: type deltagru with snake_case options builds DeltaGRU cells; a language model is refused', () => {
    const cfg = validateConfig({
      name: 'd', seed: 1, data: { dataset: 'mnist', view: 'smnist' },
      model: { rnn: { type: 'deltagru', hidden_size: 8, num_layers: 2, theta_x: 0.25, aqf: 4 } },
      train: { epochs: 1, batch_size: 2, optimizer: { type: 'sgd', lr: 0.1 } },
    }, 'inline');
    expect(cfg.model.rnn).toMatchObject({ type: 'deltagru', theta_x: 0.25, theta_h: 0, qa: false, aqi: 3, aqf: 4, nqi: 2, nqf: 6, qw: false, wqi: 1, wqf: 7 });
    const model = buildModel(cfg, { inputSize: 1, numClasses: 10 });
    const cell = model.rnn.cells[1] as DeltaGRUCell;
    expect(cell).toBeInstanceOf(DeltaGRUCell);
    expect(cell.settings).toMatchObject({ thetaX: 0.25, thetaH: 0, aqf: 4 });
    expect(model.parameters().map((p) => p.name)).toContain('rnn.weight_hh_l1');
    const lm = modelSchema.safeParse({ type: 'language-model', emb_dim: 8, rnn: { type: 'deltagru', hidden_size: 8 } });
    expect(lm.success).toBe(false);
    expect(lm.error?.issues.map((i) => i.message).join('\n')).toMatch(/deltagru starts every sequence at zero/);
  });
});
