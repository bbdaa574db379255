// Oracle for PyTorch's nn.MaxPool2d (floor mode, dilation 1), NCHW: each output is the largest
// real input of its window (padding never wins), and its gradient goes to one input, the
// window's first maximum in row-major order (a NaN wins over numbers), as PyTorch's CPU kernel.
import { windowOutSize, type WindowDims } from './conv2d.js';

export type MaxPool2dDims = WindowDims;

export interface MaxPool2dResult {
  y: Float64Array;
  /** index h·W + w of each output's winner within its plane */
  argmax: Int32Array;
}

export function maxPool2dForward(x: Float64Array, d: MaxPool2dDims): MaxPool2dResult {
  const { OH, OW } = windowOutSize(d);
  const y = new Float64Array(d.N * d.C * OH * OW);
  const argmax = new Int32Array(y.length);
  for (let pl = 0; pl < d.N * d.C; pl++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        let best = -Infinity;
        let at = -1;
        for (let u = 0; u < d.KH; u++) {
          for (let v = 0; v < d.KW; v++) {
            const h = i * d.SH - d.PH + u, w = j * d.SW - d.PW + v;
            if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
            const val = x[pl * d.H * d.W + h * d.W + w];
            if (at < 0 || val > best || Number.isNaN(val)) {
              best = val;
              at = h * d.W + w;
            }
          }
        }
        const k = (pl * OH + i) * OW + j;
        y[k] = best;
        argmax[k] = at;
      }
    }
  }
  return { y, argmax };
}

/** dx: every dy added to its output's winner. */
export function maxPool2dBackward(argmax: Int32Array, dy: Float64Array, d: MaxPool2dDims): Float64Array {
  const { OH, OW } = windowOutSize(d);
  const dx = new Float64Array(d.N * d.C * d.H * d.W);
  for (let k = 0; k < dy.length; k++) dx[Math.floor(k / (OH * OW)) * d.H * d.W + argmax[k]] += dy[k];
  return dx;
}
