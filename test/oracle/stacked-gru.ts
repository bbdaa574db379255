// Oracle for a stack of GRU layers (PyTorch nn.GRU with num_layers = L): layer l reads layer l−1's
// output sequence; h0 and h_n are [L, N, H]. Nothing new mathematically: only composition.
import { gruBackward, gruForward, type GruGradients, type GruParams, type GruTape } from './gru.js';

export interface StackedGruDims {
  T: number;
  N: number;
  /** input size of layer 0 */
  C: number;
  H: number;
}

export interface StackedGruForwardOut {
  /** last layer's output [T, N, H] */
  y: Float64Array;
  /** final state of every layer [L, N, H] */
  hn: Float64Array;
  /** each layer's input sequence, kept for backward */
  inputs: Float64Array[];
  tapes: GruTape[];
}

export interface StackedGruGradients {
  dx: Float64Array;
  /** [L, N, H] */
  dh0: Float64Array;
  layers: GruGradients[];
}

const layerDims = (d: StackedGruDims, l: number) => ({ T: d.T, N: d.N, C: l === 0 ? d.C : d.H, H: d.H });

export function stackedGruForward(
  layers: GruParams[], x: Float64Array, h0: Float64Array | null, d: StackedGruDims,
): StackedGruForwardOut {
  const NH = d.N * d.H;
  const hn = new Float64Array(layers.length * NH);
  const inputs: Float64Array[] = [];
  const tapes: GruTape[] = [];
  let input = x;
  layers.forEach((p, l) => {
    const out = gruForward(p, input, h0 ? h0.subarray(l * NH, (l + 1) * NH) : null, layerDims(d, l));
    inputs.push(input);
    tapes.push(out.tape);
    hn.set(out.y.subarray((d.T - 1) * NH, d.T * NH), l * NH);
    input = out.y;
  });
  return { y: input, hn, inputs, tapes };
}

/** dy [T, N, H] for the last layer's output, dhn [L, N, H] (or null) for the final states. */
export function stackedGruBackward(
  layers: GruParams[], fwd: StackedGruForwardOut, dy: Float64Array, dhn: Float64Array | null, d: StackedGruDims,
): StackedGruGradients {
  const NH = d.N * d.H;
  const dh0 = new Float64Array(layers.length * NH);
  const grads: GruGradients[] = new Array(layers.length);
  let dOut = dy;
  for (let l = layers.length - 1; l >= 0; l--) {
    const g = gruBackward(
      layers[l], fwd.inputs[l], fwd.tapes[l], dOut, dhn ? dhn.subarray(l * NH, (l + 1) * NH) : null, layerDims(d, l),
    );
    grads[l] = g;
    dh0.set(g.dh0, l * NH);
    dOut = g.dx; // the gradient of layer l's input is the gradient of layer l−1's output
  }
  return { dx: dOut, dh0, layers: grads };
}
