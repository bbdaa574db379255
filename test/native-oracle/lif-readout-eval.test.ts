// The leaky readout in evaluation (training: false, no saved handle) gives the same logits as in
// training, for every reduction, against the oracle. Its own file: a native crash here (the max
// reduction writing its argmax without a handle to hold it) must not hide the other LIF results.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../oracle/compare.js';
import { readoutForward, type ReadoutReduce } from '../oracle/lif.js';
import { randomSpikes } from '../oracle/lif-cases.js';
import { randomNormal, toF32 } from '../oracle/random.js';
import { F32_GEMM } from './tolerances.js';

describe('native LIF readout in evaluation', () => {
  const d = { B: 3, T: 8, H: 5, O: 4 };
  const betaR = Math.fround(0.8);
  it.each(['max', 'sum', 'mean', 'last'] as ReadoutReduce[])('%s: no handle, the training logits', (reduce) => {
    const rng = new Rng(21);
    const spk = randomSpikes(rng, d.B * d.T * d.H, 0.4);
    const w = randomNormal(rng, d.H * d.O);
    const args = { ...d, spk: toF32(spk), w: toF32(w), beta: betaR, reduce };
    const evalRun = native().lifReadoutForward({ ...args, training: false });
    const trainRun = native().lifReadoutForward({ ...args, training: true });
    expect(evalRun.saved).toBeNull();
    expect(Array.from(evalRun.logits)).toEqual(Array.from(trainRun.logits));
    assertAllClose(evalRun.logits, readoutForward(spk, w, d, betaR, reduce).logits, F32_GEMM, 'logits');
  });
});
