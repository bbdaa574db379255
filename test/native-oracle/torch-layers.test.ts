// The library's GRU and LSTM classes, loaded through loadState with PyTorch's state_dict names,
// against PyTorch's own numbers (test/fixtures/make_{gru,lstm}_reference.py, computed in float64
// by nn.GRU / nn.LSTM): outputs, final states and the gradients of x, the initial states and every
// parameter, time-major and batch-first, sync and async.
import { describe, expect, it } from 'vitest';
import { GRU } from '../../src/layers/gru.js';
import { LSTM } from '../../src/layers/lstm.js';
import type { StateRecord } from '../../src/layers/parameters.js';
import { swapFirstTwo, type Tensor } from '../../src/layers/tensor.js';
import { assertAllClose } from '../oracle/compare.js';
import { toF32 } from '../oracle/random.js';
import { loadTorchGruReference, loadTorchLstmReference, type TorchTensor } from '../oracle/torch-reference.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

const t32 = (t: TorchTensor): Tensor => ({ data: toF32(t.data), shape: t.shape });
const record = (sd: Record<string, TorchTensor>): StateRecord => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, t32(v)]));

describe.each(compiledGemmKernels())('library layers vs PyTorch fixtures (gemm %s)', (kernel) => {
  useGemmKernel(kernel);

  it('GRU: loadState by PyTorch names; forward and backward match nn.GRU', async () => {
    const ref = loadTorchGruReference();
    const { C, H, layers } = ref.dims;
    const gru = new GRU({ inputSize: C, hiddenSize: H, numLayers: layers });
    gru.loadState(record(ref.stateDict));
    const out = await gru.forwardAsync(t32(ref.x), { training: true, h0: t32(ref.h0) });
    assertAllClose(out.output.data, ref.y.data, F32_GEMM, 'y');
    assertAllClose(out.hN.data, ref.hn.data, F32_GEMM, 'hn');
    const g = await gru.backwardAsync({ output: t32(ref.dy), hN: t32(ref.dhn) });
    assertAllClose(g.input!.data, ref.grad.x.data, F32_GEMM, 'dx');
    assertAllClose(g.h0.data, ref.grad.h0.data, F32_GEMM, 'dh0');
    for (const name of Object.keys(ref.stateDict)) assertAllClose(g.params[name], ref.grad[name].data, F32_GEMM, name);
    // A second backward returns this call's gradients again, not their sum.
    const again = gru.backward({ output: t32(ref.dy), hN: t32(ref.dhn) });
    assertAllClose(again.params.weight_hh_l1, ref.grad.weight_hh_l1.data, F32_GEMM, 'weight_hh_l1 again');
  });

  it('LSTM: loadState by PyTorch names; forward and backward match nn.LSTM, time-major and batch-first', () => {
    const ref = loadTorchLstmReference();
    const { C, H, layers } = ref.dims;
    for (const batchFirst of [false, true]) {
      const lstm = new LSTM({ inputSize: C, hiddenSize: H, numLayers: layers, batchFirst });
      lstm.loadState(record(ref.stateDict));
      const layout = (t: TorchTensor) => (batchFirst ? swapFirstTwo(t32(t)) : t32(t));
      const out = lstm.forward(layout(ref.x), { training: true, h0: t32(ref.h0), c0: t32(ref.c0) });
      assertAllClose(out.output.data, layout(ref.y).data, F32_GEMM, 'y');
      assertAllClose(out.hN.data, ref.hn.data, F32_GEMM, 'hn');
      assertAllClose(out.cN.data, ref.cn.data, F32_GEMM, 'cn');
      const g = lstm.backward({ output: layout(ref.dy), hN: t32(ref.dhn), cN: t32(ref.dcn) });
      assertAllClose(g.input!.data, layout(ref.grad.x).data, F32_GEMM, 'dx');
      assertAllClose(g.h0.data, ref.grad.h0.data, F32_GEMM, 'dh0');
      assertAllClose(g.c0.data, ref.grad.c0.data, F32_GEMM, 'dc0');
      for (const name of Object.keys(ref.stateDict)) assertAllClose(g.params[name], ref.grad[name].data, F32_GEMM, name);
    }
  });

  it('LSTM: PyTorch names and shapes in state(); a wrong name or shape is refused by loadState', () => {
    const lstm = new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 2, prefix: 'rnn.' });
    const s = lstm.state();
    expect(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.shape]))).toEqual({
      'rnn.weight_ih_l0': [24, 5], 'rnn.weight_hh_l0': [24, 6], 'rnn.bias_ih_l0': [24], 'rnn.bias_hh_l0': [24],
      'rnn.weight_ih_l1': [24, 6], 'rnn.weight_hh_l1': [24, 6], 'rnn.bias_ih_l1': [24], 'rnn.bias_hh_l1': [24],
    });
    // PyTorch's initialisation: U(−1/√H, 1/√H) for every parameter.
    const bound = 1 / Math.sqrt(6);
    for (const v of Object.values(s)) expect(Math.max(...Array.from(v.data, Math.abs))).toBeLessThanOrEqual(bound);
    expect(() => lstm.loadState({ ...s, 'rnn.weight_ih_l2': s['rnn.weight_ih_l1'] })).toThrow(/unknown parameter\(s\) rnn.weight_ih_l2/);
    expect(() => lstm.loadState({ ...s, 'rnn.bias_hh_l1': { data: new Float32Array(23), shape: [23] } })).toThrow(/rnn.bias_hh_l1 has shape \[23\], expected \[24\]/);
    expect(() => lstm.forward({ data: new Float32Array(12), shape: [2, 1, 6] })).toThrow(/x has shape \[2, 1, 6\], expected dimension 2 to be 5/);
    expect(() => lstm.backward({ output: { data: new Float32Array(6), shape: [1, 1, 6] } })).toThrow(/call forward in training mode first/);
  });
});
