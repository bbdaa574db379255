// Oracle for 2-D convolution, PyTorch nn.Conv2d (dilation 1, groups 1), NCHW, weight [O, C, KH, KW]:
//   y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, i·SH − PH + u, j·SW − PW + v],
// x read as 0 outside the image; OH = ⌊(H + 2·PH − KH) / SH⌋ + 1. Float64, loops straight from
// the definition.
import type { WindowGeometry } from '../../src/native/addon.js';

/** A sliding window over NCHW input (the engine's geometry): what the convolution and max-pool oracles share. */
export type WindowDims = WindowGeometry;

export interface Conv2dDims extends WindowDims {
  O: number;
}

/** OH = ⌊(H + 2·PH − KH) / SH⌋ + 1, likewise OW. */
export function windowOutSize(d: WindowDims): { OH: number; OW: number } {
  return { OH: Math.floor((d.H + 2 * d.PH - d.KH) / d.SH) + 1, OW: Math.floor((d.W + 2 * d.PW - d.KW) / d.SW) + 1 };
}

// Calls fn(xIndex, wIndex, yIndex, o) for every product of a real input with a weight.
function eachProduct(d: Conv2dDims, fn: (xi: number, wi: number, yi: number, o: number) => void): void {
  const { OH, OW } = windowOutSize(d);
  for (let n = 0; n < d.N; n++) {
    for (let o = 0; o < d.O; o++) {
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++) {
          const yi = ((n * d.O + o) * OH + i) * OW + j;
          for (let c = 0; c < d.C; c++) {
            for (let u = 0; u < d.KH; u++) {
              const h = i * d.SH - d.PH + u;
              if (h < 0 || h >= d.H) continue;
              for (let v = 0; v < d.KW; v++) {
                const w = j * d.SW - d.PW + v;
                if (w < 0 || w >= d.W) continue;
                fn(((n * d.C + c) * d.H + h) * d.W + w, ((o * d.C + c) * d.KH + u) * d.KW + v, yi, o);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dForward(x: Float64Array, weight: Float64Array, bias: Float64Array | null, d: Conv2dDims): Float64Array {
  const { OH, OW } = windowOutSize(d);
  const y = new Float64Array(d.N * d.O * OH * OW);
  if (bias) for (let k = 0; k < y.length; k++) y[k] = bias[Math.floor(k / (OH * OW)) % d.O];
  eachProduct(d, (xi, wi, yi) => {
    y[yi] += weight[wi] * x[xi];
  });
  return y;
}

export interface Conv2dGradients {
  dx: Float64Array;
  dWeight: Float64Array;
  dBias: Float64Array;
}

/** Gradients of L = Σ y ⊙ dy: each product w·x sends dy·x to w and dy·w to x; the bias gets Σ dy. */
export function conv2dBackward(x: Float64Array, weight: Float64Array, dy: Float64Array, d: Conv2dDims): Conv2dGradients {
  const { OH, OW } = windowOutSize(d);
  const dx = new Float64Array(x.length);
  const dWeight = new Float64Array(weight.length);
  const dBias = new Float64Array(d.O);
  eachProduct(d, (xi, wi, yi) => {
    dx[xi] += dy[yi] * weight[wi];
    dWeight[wi] += dy[yi] * x[xi];
  });
  for (let k = 0; k < dy.length; k++) dBias[Math.floor(k / (OH * OW)) % d.O] += dy[k];
  return { dx, dWeight, dBias };
}
