// The native GRU, loaded with PyTorch's parameters by state_dict name, against PyTorch's own
// numbers (test/fixtures/make_gru_reference.py): a 2-layer nn.GRU composed from native layers.
// Each layer's backward reads its forward's saved handle and adds into fresh gradient buffers.
import { describe, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { assertAllClose } from '../oracle/compare.js';
import { toF32 } from '../oracle/random.js';
import { gruGrads } from '../native/helpers.js';
import { loadTorchGruReference } from '../oracle/torch-reference.js';
import { compiledGemmKernels, useGemmKernel } from './kernels.js';
import { F32_GEMM } from './tolerances.js';

describe.each(compiledGemmKernels())('native GRU vs PyTorch nn.GRU fixture (gemm %s)', (kernel) => {
  useGemmKernel(kernel);
  const ref = loadTorchGruReference();
  const { T, N, C, H, layers: L } = ref.dims;
  const NH = N * H;
  const sd = (name: string) => toF32(ref.stateDict[name].data);
  const layerArgs = (l: number, x: Float32Array) => ({
    weightIh: sd(`weight_ih_l${l}`),
    weightHh: sd(`weight_hh_l${l}`),
    biasIh: sd(`bias_ih_l${l}`),
    biasHh: sd(`bias_hh_l${l}`),
    x,
    h0: toF32(ref.h0.data.subarray(l * NH, (l + 1) * NH)),
    T, N, C: l === 0 ? C : H, H,
    training: true,
    chunkFloats: 0,
  });

  it('forward and backward of the 2-layer stack match PyTorch', () => {
    const args = [];
    const fwds = [];
    let input = toF32(ref.x.data);
    for (let l = 0; l < L; l++) {
      const a = layerArgs(l, input);
      const f = native().gruForward(a);
      args.push(a);
      fwds.push(f);
      input = f.y;
    }
    assertAllClose(input, ref.y.data, F32_GEMM, 'y');
    const hn = new Float64Array(L * NH);
    fwds.forEach((f, l) => hn.set(f.y.subarray((T - 1) * NH), l * NH));
    assertAllClose(hn, ref.hn.data, F32_GEMM, 'hn');

    let dOut = toF32(ref.dy.data);
    for (let l = L - 1; l >= 0; l--) {
      const { x: _x, h0: _h0, training: _t, ...weightsAndDims } = args[l];
      const grads = gruGrads(weightsAndDims.C, H);
      const g = native().gruBackward({
        ...weightsAndDims, saved: fwds[l].saved!, dy: dOut, dhT: toF32(ref.dhn.data.subarray(l * NH, (l + 1) * NH)),
        ...grads, needDx: true,
      });
      assertAllClose(grads.dWeightIh, ref.grad[`weight_ih_l${l}`].data, F32_GEMM, `weight_ih_l${l}`);
      assertAllClose(grads.dWeightHh, ref.grad[`weight_hh_l${l}`].data, F32_GEMM, `weight_hh_l${l}`);
      assertAllClose(grads.dBiasIh, ref.grad[`bias_ih_l${l}`].data, F32_GEMM, `bias_ih_l${l}`);
      assertAllClose(grads.dBiasHh, ref.grad[`bias_hh_l${l}`].data, F32_GEMM, `bias_hh_l${l}`);
      assertAllClose(g.dh0, ref.grad.h0.data.subarray(l * NH, (l + 1) * NH), F32_GEMM, `h0[${l}]`);
      dOut = g.dx!;
    }
    assertAllClose(dOut, ref.grad.x.data, F32_GEMM, 'x');
  });
});
