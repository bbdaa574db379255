// Native DeltaLSTM (deltaLstmForward/Backward) against the float64 oracle (test/oracle/delta-lstm.ts),
// with inputs built so that every |Δx| and |Δh| lies at least DECISION_MARGIN away from its
// threshold (kernels.ts; the cases and checks both delta families share are delta-helpers.ts's):
// then native and oracle make the same threshold decisions and differ only by rounding, checked
// with F32_GEMM. Shapes take one to many time chunks (small chunkFloats), run
// on 2 threads, and a large case splits every pointwise pass mid-row; with the builtin GEMM the
// result is bitwise that of 1 thread. The final-state gradients: dhN enters as dy's last step, dcN
// as the oracle's dcN. Also: Θx = Θh = 0 against the LSTM binding, gradient accumulation,
// sync = async, the argument checks (qa refused in training), and the library side: an LSTM
// checkpoint loads strictly into the DeltaLSTM class and a 'deltalstm' stack, and back.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { DeltaLSTMCell } from '../../src/layers/delta-lstm-cell.js';
import { DeltaLSTM, type DeltaLSTMForwardOptions } from '../../src/layers/delta-lstm.js';
import { buildStack } from '../../src/layers/families.js';
import { LSTM } from '../../src/layers/lstm.js';
import { loadStateInto } from '../../src/layers/parameters.js';
import { native, type DeltaLstmBackwardArgs, type DeltaLstmForwardArgs, type LstmForwardArgs } from '../../src/native/addon.js';
import { buildModel } from '../../src/pipeline/model-from-config.js';
import { assertAllClose } from '../oracle/compare.js';
import { deltaLstmBackward, deltaLstmForward } from '../oracle/delta-lstm.js';
import { randomLstmParams, type LstmParams } from '../oracle/lstm.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { firstDifference, lstmGrads, withThreads } from '../native/helpers.js';
import {
  chunkFloats, deltaBackwardArgs, deltaCase, deltaForwardArgs, expectAccumulates, expectBackward, expectBitwiseSame, expectDecisionMargins,
  expectParamGrads, expectSameCounts, expectSameParamGrads, expectSomeZeros, layerData, SHAPES, SPLIT, tensorOf, THETA_X, VARIANTS,
  withLastStateGradient, type DeltaCase, type Dims,
} from './delta-helpers.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

interface Case extends DeltaCase<LstmParams> {
  dcN: Float64Array;
}

function makeCase(seed: number, dims: Dims, thetaX: number, thetaH: number | 'search'): Case {
  const { c, rng } = deltaCase(seed, dims, thetaX, thetaH, randomLstmParams, deltaLstmForward);
  return { ...c, dcN: randomNormal(rng, dims.N * dims.H) }; // drawn after dhN (the Θh search draws nothing)
}

const forwardArgs = (c: Case, training: boolean, chunk = 0): DeltaLstmForwardArgs => deltaForwardArgs(c, training, chunk);

function backwardArgs(c: Case, f: DeltaLstmForwardArgs, saved: DeltaLstmBackwardArgs['saved'], needDx = true): DeltaLstmBackwardArgs {
  return { ...deltaBackwardArgs(c, f, saved, lstmGrads(c.dims.C, c.dims.H), needDx), dcN: toF32(c.dcN) };
}

/** The oracle's run; dhN enters as dy's last step (h_{T−1} is y's last step), dcN as the oracle's dcN. Checks the margins. */
function oracle(c: Case) {
  const f = deltaLstmForward(c.params, c.x, c.dims, { thetaX: c.thetaX, thetaH: c.thetaH });
  expectDecisionMargins(c.x, f, c.dims, c.thetaX, c.thetaH);
  return { f, grad: deltaLstmBackward(c.params, f.tape, withLastStateGradient(c.dy, c.dhN, c.dims), c.dims, c.dcN) };
}

function checkCase(c: Case, chunk: number, expected = oracle(c)): void {
  const { f: ref, grad } = expected;
  const args = forwardArgs(c, true, chunk);
  const fwd = native().deltaLstmForward(args);
  assertAllClose(fwd.y, ref.y, F32_GEMM, 'y');
  assertAllClose(fwd.cN, ref.cN, F32_GEMM, 'cN');
  expect(fwd.saved?.madeBy).toBe('deltaLstmForward');
  expectSameCounts(fwd.stats, ref.stats);
  const b = backwardArgs(c, args, fwd.saved!);
  expectBackward(native().deltaLstmBackward(b), b, grad);
}

describe.each(compiledGemmKernels())('native DeltaLSTM vs oracle (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  for (const [si, dims] of SHAPES.entries()) {
    for (const [vi, v] of VARIANTS.entries()) {
      it(`T=${dims.T} N=${dims.N} C=${dims.C} H=${dims.H} Θx=${v.thetaX} Θh=${v.thetaH} chunks=${v.chunk}`, () => {
        const c = makeCase(7000 + 10 * si + vi, dims, v.thetaX, v.thetaH);
        withThreads(2, () => checkCase(c, chunkFloats(v.chunk, dims, 4)));
      });
    }
  }

  it('thresholds zero some deltas and pass others (the cases above are not all-dense or all-zero)', () => {
    expectSomeZeros(oracle(makeCase(7030, SHAPES[3], THETA_X, 'search')).f.stats);
  });

  it(`multi-thread split (2 threads, N·H = ${SPLIT.N * SPLIT.H}, segments starting mid-row), one step per chunk: matches the oracle`, () => {
    // Θh = 0 here: with |Δh| this many (and this small) no Θh > 0 leaves a margin; Θx still thresholds.
    withThreads(2, () => checkCase(makeCase(7100, SPLIT, THETA_X, 0), 64));
  });

  it.runIf(kernel === 'builtin')('with both thresholds on, 2 threads give bitwise the numbers of 1 thread', () => {
    const c = { ...makeCase(7101, SPLIT, THETA_X, 0), thetaH: 0.05 };
    const run = () => {
      const args = forwardArgs(c, true, 64);
      const fwd = native().deltaLstmForward(args);
      const b = backwardArgs(c, args, fwd.saved!);
      const g = native().deltaLstmBackward(b);
      expect(fwd.stats.dhZeros).toBeGreaterThan(0);
      return { y: fwd.y, cN: fwd.cN, dx: g.dx!, dWeightIh: b.dWeightIh as Float32Array, dWeightHh: b.dWeightHh as Float32Array, dBiasIh: b.dBiasIh as Float32Array };
    };
    expectBitwiseSame(withThreads(1, run), withThreads(2, run));
  });

  it('Θx = Θh = 0 is the LSTM binding (h0 = c0 = null) within F32_GEMM, forward and backward', () => {
    // Not bitwise: the delta memory is a running sum M_t = M_{t−1} + W Δx_t + U Δh_t, rounded
    // differently from the LSTM's direct W x_t + U h_{t−1}; both are float32 GEMM-class sums.
    const c = makeCase(7200, { T: 12, N: 3, C: 9, H: 20 }, 0, 0);
    const args = forwardArgs(c, true, 2 * 3 * 80);
    const d = native().deltaLstmForward(args);
    const largs: LstmForwardArgs = { ...args, h0: null, c0: null };
    const l = native().lstmForward(largs);
    assertAllClose(d.y, l.y, F32_GEMM, 'y vs lstmForward');
    assertAllClose(d.cN, l.cN, F32_GEMM, 'cN vs lstmForward');
    const db = backwardArgs(c, args, d.saved!);
    const dg = native().deltaLstmBackward(db);
    const lb = { ...db, saved: l.saved!, ...lstmGrads(c.dims.C, c.dims.H) };
    const lg = native().lstmBackward(lb);
    assertAllClose(dg.dx!, lg.dx!, F32_GEMM, 'dx vs lstmBackward');
    expectParamGrads(db, lb, ' vs lstmBackward');
  });

  it('gradients accumulate over calls and time chunks: preset R comes back as R + gradient, then R + 2·gradient; dx is written', () => {
    const c = makeCase(7300, { T: 7, N: 3, C: 9, H: 11 }, THETA_X, 'search');
    const { grad } = oracle(c);
    const args = forwardArgs(c, true, 2 * 3 * 44); // chunks of 2, 2, 2, 1 steps
    const b = backwardArgs(c, args, native().deltaLstmForward(args).saved!);
    expectAccumulates(7300, b, grad, () => native().deltaLstmBackward(b));
  });

  it('async variants give the same numbers as the sync calls; needDx = false returns no dx', async () => {
    const c = makeCase(7400, { T: 6, N: 4, C: 5, H: 9 }, THETA_X, 'search');
    const args = forwardArgs(c, true);
    const s = native().deltaLstmForward(args);
    const a = await native().deltaLstmForwardAsync(args);
    expect(firstDifference(a.y, s.y)).toBeNull();
    expect(firstDifference(a.cN, s.cN)).toBeNull();
    expect(a.stats).toEqual(s.stats);
    const bs = backwardArgs(c, args, s.saved!);
    const ba = backwardArgs(c, args, a.saved!, false);
    const gs = native().deltaLstmBackward(bs);
    const ga = await native().deltaLstmBackwardAsync(ba);
    expect(ga.dx).toBeNull();
    expect(gs.dx).not.toBeNull();
    expectSameParamGrads(ba, bs);
  });
});

describe('deltaLstmForward/Backward arguments', () => {
  const c = makeCase(7500, { T: 4, N: 2, C: 3, H: 5 }, THETA_X, 0.05);

  it('qa with training: true is refused, naming the fix; in inference h and c are on the activation grid', () => {
    expect(() => native().deltaLstmForward({ ...forwardArgs(c, true), qa: true })).toThrow(
      /deltaLstmForward: qa \(fixed-point activations\) is for inference only: call with training: false/,
    );
    const q = native().deltaLstmForward({ ...forwardArgs(c, false), qa: true });
    expect(q.saved).toBeNull();
    // h_t = Q_a(...) and c_t = Q_a(...) with the default activation format 3.5: multiples of 2^−5.
    expect(Array.from(q.y).every((v) => Number.isInteger(v * 32))).toBe(true);
    expect(Array.from(q.cN).every((v) => Number.isInteger(v * 32))).toBe(true);
  });

  it('refuses bad thresholds and Q formats, and a handle of another forward', () => {
    const a = forwardArgs(c, true);
    expect(() => native().deltaLstmForward({ ...a, thetaH: -1 })).toThrow(/deltaLstmForward: thetaH must be >= 0/);
    expect(() => native().deltaLstmForward({ ...a, wqf: 0.5 })).toThrow(/wqf must be an integer/);
    const l = native().lstmForward({ ...a, h0: null, c0: null });
    expect(() => native().deltaLstmBackward(backwardArgs(c, a, l.saved!))).toThrow(/saved must be the handle from deltaLstmForward/);
    const g = native().deltaGruForward({ ...forwardArgs(c, true), weightIh: new Float32Array(15 * 3), weightHh: new Float32Array(75), biasIh: new Float32Array(15), biasHh: new Float32Array(15) });
    expect(() => native().deltaLstmBackward(backwardArgs(c, a, g.saved!))).toThrow(/got one from deltaGruForward/);
  });
});

describe('DeltaLSTM layer and the deltalstm family', () => {
  const C = 5;
  const H = 6;
  const { x, dOut } = layerData(7600, C, H);

  it('loads an LSTM checkpoint (rnn.weight_ih_l0, …) strictly and its own loads into an LSTM; at Θ = 0 it runs as the LSTM', () => {
    const lstm = new LSTM({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', seed: 3 });
    const sd = lstm.state();
    const delta = new DeltaLSTM({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', thetaX: 0, thetaH: 0 });
    expect(Object.keys(delta.state()).sort()).toEqual(Object.keys(sd).sort());
    delta.loadState(sd);
    const l = lstm.forward(x);
    const d = delta.forward(x);
    for (const k of ['output', 'hN', 'cN'] as const) assertAllClose(d[k].data, l[k].data, F32_GEMM, k);
    const lg = lstm.backward({ output: dOut, hN: l.hN, cN: l.cN });
    const dg = delta.backward({ output: dOut, hN: l.hN, cN: l.cN });
    assertAllClose(dg.input!.data, lg.input!.data, F32_GEMM, 'dx');
    for (const name of Object.keys(sd)) assertAllClose(dg.params[name], lg.params[name], F32_GEMM, name);
    expect(() => delta.loadState({ ...sd, 'rnn.weight_ih_l2': sd['rnn.weight_ih_l1'] })).toThrow(/unknown parameter\(s\) rnn.weight_ih_l2/);
    // and back: a DeltaLSTM's checkpoint is an LSTM's
    const back = new LSTM({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.' });
    const other = new DeltaLSTM({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', seed: 9, thetaX: 0.2 }).state();
    back.loadState(other);
    expect(back.state()).toEqual(other);
  });

  it('a deltalstm stack from the family table takes the same checkpoint', () => {
    const sd = new LSTM({ inputSize: C, hiddenSize: H, numLayers: 2, prefix: 'rnn.', seed: 4 }).state();
    const stack = buildStack({ type: 'deltalstm', hiddenSizes: [H, H], options: { thetaX: 0.5, thetaH: 0.1, qw: true } }, C, 0, 'rnn.');
    loadStateInto(stack.parameters(), sd, 'stack');
    expect(stack.cells.map((cell) => cell.family)).toEqual(['deltalstm', 'deltalstm']);
    expect(stack.cells[0].stateNames).toEqual(['h', 'c']);
    expect((stack.cells[1] as DeltaLSTMCell).settings).toMatchObject({ thetaX: 0.5, thetaH: 0.1, qw: true, wqi: 1, wqf: 7 });
  });

  it('refuses initial states with the reason; qa quantises evaluation forwards only (training runs in float, as the reference)', () => {
    const delta = new DeltaLSTM({ inputSize: C, hiddenSize: H, thetaX: 0.1 });
    const s0 = tensorOf(new Float32Array(2 * H), [1, 2, H]);
    expect(() => delta.forward(x, { c0: s0 } as unknown as DeltaLSTMForwardOptions)).toThrow(/DeltaLSTM: no initial state \(c given\)/);
    const qa = new DeltaLSTM({ inputSize: C, hiddenSize: H, qa: true, seed: 5 });
    const plain = new DeltaLSTM({ inputSize: C, hiddenSize: H, seed: 5 });
    expect(qa.forward(x).output.data).toEqual(plain.forward(x).output.data);
    const q = qa.forward(x, { training: false });
    expect(q.cN.shape).toEqual([1, 2, H]);
    expect(q.output.data).not.toEqual(plain.forward(x, { training: false }).output.data);
    for (const v of q.output.data) expect(v * 32).toBe(Math.round(v * 32));
  });

  it('config: type deltalstm builds DeltaLSTM cells with the snake_case options', () => {
    const cfg = validateConfig({
      name: 'd', seed: 1, data: { dataset: 'mnist', view: 'smnist' },
      model: { rnn: { type: 'deltalstm', hidden_size: 8, theta_h: 0.2, qw: true, wqf: 6 } },
      train: { epochs: 1, batch_size: 2, optimizer: { type: 'sgd', lr: 0.1 } },
    }, 'inline');
    const cell = buildModel(cfg, { inputSize: 1, numClasses: 10 }).rnn.cells[0] as DeltaLSTMCell;
    expect(cell).toBeInstanceOf(DeltaLSTMCell);
    expect(cell.settings).toMatchObject({ thetaX: 0, thetaH: 0.2, qw: true, wqi: 1, wqf: 6 });
  });
});
