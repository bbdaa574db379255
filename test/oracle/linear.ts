// Oracle for a fully connected layer, PyTorch layout: y[m,o] = sum_i x[m,i] W[o,i] + b[o].
export interface LinearDims {
  M: number;
  I: number;
  O: number;
}

export function linearForward(x: Float64Array, weight: Float64Array, bias: Float64Array | null, d: LinearDims): Float64Array {
  const y = new Float64Array(d.M * d.O);
  for (let m = 0; m < d.M; m++) {
    for (let o = 0; o < d.O; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < d.I; i++) s += x[m * d.I + i] * weight[o * d.I + i];
      y[m * d.O + o] = s;
    }
  }
  return y;
}

export interface LinearGradients {
  /** dL/dx [M,I] = dy W */
  dx: Float64Array;
  /** dL/dW [O,I] = dyᵀ x */
  dWeight: Float64Array;
  /** dL/db [O] = sum over rows of dy */
  dBias: Float64Array;
}

export function linearBackward(x: Float64Array, weight: Float64Array, dy: Float64Array, d: LinearDims): LinearGradients {
  const dx = new Float64Array(d.M * d.I);
  const dWeight = new Float64Array(d.O * d.I);
  const dBias = new Float64Array(d.O);
  for (let m = 0; m < d.M; m++) {
    for (let o = 0; o < d.O; o++) {
      const g = dy[m * d.O + o];
      dBias[o] += g;
      for (let i = 0; i < d.I; i++) {
        dx[m * d.I + i] += g * weight[o * d.I + i];
        dWeight[o * d.I + i] += g * x[m * d.I + i];
      }
    }
  }
  return { dx, dWeight, dBias };
}
