// Oracle for the LSTM, PyTorch nn.LSTM equations (DESIGN §3), gate blocks in the order (i, f, g, o):
//   i = σ(W_i x + b_ii + U_i h + b_hi)
//   f = σ(W_f x + b_if + U_f h + b_hf)
//   g = tanh(W_g x + b_ig + U_g h + b_hg)
//   o = σ(W_o x + b_io + U_o h + b_ho)
//   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
// W = weight_ih [4H, C], U = weight_hh [4H, H], biases [4H]. Time-major x [T, N, C], y [T, N, H]
// (y[t] = h after step t), h0, c0 [N, H] (null = zeros). Backward is plain reverse-mode BPTT over a
// tape of every intermediate. A stack of layers (nn.LSTM with num_layers = L) is composition only:
// layer l reads layer l−1's output sequence; h0, c0, h_n and c_n are [L, N, H].
import type { Rng } from '../../src/util/rng.js';
import { randomUniform } from './random.js';

export interface LstmParams {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array;
  biasHh: Float64Array;
}

/** Intermediates of the forward pass, each [T, N, H]. */
export interface LstmTape {
  hPrev: Float64Array;
  cPrev: Float64Array;
  i: Float64Array;
  f: Float64Array;
  g: Float64Array;
  o: Float64Array;
  /** the cell state after the step */
  c: Float64Array;
}

export interface LstmForwardOut {
  y: Float64Array;
  /** last hidden state [N, H] (= y[T−1], or h0 when T = 0) */
  hN: Float64Array;
  /** last cell state [N, H] */
  cN: Float64Array;
  tape: LstmTape;
}

export interface LstmGradients {
  dx: Float64Array;
  dh0: Float64Array;
  dc0: Float64Array;
  dWeightIh: Float64Array;
  dWeightHh: Float64Array;
  dBiasIh: Float64Array;
  dBiasHh: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function lstmForward(
  p: LstmParams, x: Float64Array, T: number, N: number, C: number, H: number,
  h0?: Float64Array | null, c0?: Float64Array | null,
): LstmForwardOut {
  const y = new Float64Array(T * N * H);
  const tape: LstmTape = {
    hPrev: new Float64Array(T * N * H),
    cPrev: new Float64Array(T * N * H),
    i: new Float64Array(T * N * H),
    f: new Float64Array(T * N * H),
    g: new Float64Array(T * N * H),
    o: new Float64Array(T * N * H),
    c: new Float64Array(T * N * H),
  };
  let h = h0 ? Float64Array.from(h0) : new Float64Array(N * H);
  let c = c0 ? Float64Array.from(c0) : new Float64Array(N * H);
  const a = new Float64Array(4 * H); // gate pre-activations of one row
  for (let t = 0; t < T; t++) {
    const hNext = new Float64Array(N * H);
    const cNext = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      const xOff = (t * N + b) * C;
      for (let k = 0; k < 4 * H; k++) {
        let s = p.biasIh[k] + p.biasHh[k];
        for (let m = 0; m < C; m++) s += p.weightIh[k * C + m] * x[xOff + m];
        for (let m = 0; m < H; m++) s += p.weightHh[k * H + m] * h[b * H + m];
        a[k] = s;
      }
      for (let j = 0; j < H; j++) {
        const i = sigmoid(a[j]);
        const f = sigmoid(a[H + j]);
        const g = Math.tanh(a[2 * H + j]);
        const o = sigmoid(a[3 * H + j]);
        const cp = c[b * H + j];
        const cn = f * cp + i * g;
        const hn = o * Math.tanh(cn);
        const at = (t * N + b) * H + j;
        tape.hPrev[at] = h[b * H + j];
        tape.cPrev[at] = cp;
        tape.i[at] = i;
        tape.f[at] = f;
        tape.g[at] = g;
        tape.o[at] = o;
        tape.c[at] = cn;
        y[at] = hn;
        hNext[b * H + j] = hn;
        cNext[b * H + j] = cn;
      }
    }
    h = hNext;
    c = cNext;
  }
  return { y, hN: h, cN: c, tape };
}

/**
 * Upstream gradients, each optional (null/undefined = zero): dy [T, N, H] is dL/dy; dhN, dcN [N, H]
 * are dL/dh_T and dL/dc_T from outside (e.g. a carried state). h_T = y[T−1], so dy and dhN add up
 * at the last step.
 */
export function lstmBackward(
  p: LstmParams, x: Float64Array, fwd: LstmForwardOut, T: number, N: number, C: number, H: number,
  dy?: Float64Array | null, dhN?: Float64Array | null, dcN?: Float64Array | null,
): LstmGradients {
  const { tape } = fwd;
  const dx = new Float64Array(T * N * C);
  const dWeightIh = new Float64Array(4 * H * C);
  const dWeightHh = new Float64Array(4 * H * H);
  const dBiasIh = new Float64Array(4 * H);
  const dBiasHh = new Float64Array(4 * H);
  let dh = dhN ? Float64Array.from(dhN) : new Float64Array(N * H);
  let dc = dcN ? Float64Array.from(dcN) : new Float64Array(N * H);
  const dA = new Float64Array(4 * H); // dL/d(pre-activation) per gate block, shared by both sides
  for (let t = T - 1; t >= 0; t--) {
    const dhPrev = new Float64Array(N * H);
    const dcPrev = new Float64Array(N * H);
    for (let b = 0; b < N; b++) {
      for (let j = 0; j < H; j++) {
        const at = (t * N + b) * H + j;
        const i = tape.i[at];
        const f = tape.f[at];
        const g = tape.g[at];
        const o = tape.o[at];
        const tc = Math.tanh(tape.c[at]);
        const dOut = dh[b * H + j] + (dy ? dy[at] : 0);
        // h' = o tanh(c')
        const dO = dOut * tc;
        const dC = dc[b * H + j] + dOut * o * (1 - tc * tc);
        // c' = f c + i g
        const dI = dC * g;
        const dF = dC * tape.cPrev[at];
        const dG = dC * i;
        dcPrev[b * H + j] = dC * f;
        // i, f, o = σ(a), g = tanh(a)
        dA[j] = dI * i * (1 - i);
        dA[H + j] = dF * f * (1 - f);
        dA[2 * H + j] = dG * (1 - g * g);
        dA[3 * H + j] = dO * o * (1 - o);
      }
      const xOff = (t * N + b) * C;
      const hOff = (t * N + b) * H;
      for (let k = 0; k < 4 * H; k++) {
        dBiasIh[k] += dA[k];
        dBiasHh[k] += dA[k];
        for (let m = 0; m < C; m++) {
          dWeightIh[k * C + m] += dA[k] * x[xOff + m];
          dx[xOff + m] += dA[k] * p.weightIh[k * C + m];
        }
        for (let m = 0; m < H; m++) {
          dWeightHh[k * H + m] += dA[k] * tape.hPrev[hOff + m];
          dhPrev[b * H + m] += dA[k] * p.weightHh[k * H + m];
        }
      }
    }
    dh = dhPrev;
    dc = dcPrev;
  }
  return { dx, dh0: dh, dc0: dc, dWeightIh, dWeightHh, dBiasIh, dBiasHh };
}

// ---- stacked (nn.LSTM with num_layers = L) ------------------------------------------------

export interface StackedLstmForwardOut {
  /** last layer's output [T, N, H] */
  y: Float64Array;
  /** final hidden and cell state of every layer [L, N, H] */
  hN: Float64Array;
  cN: Float64Array;
  /** each layer's input sequence and forward result, kept for backward */
  inputs: Float64Array[];
  layers: LstmForwardOut[];
}

export interface StackedLstmGradients {
  dx: Float64Array;
  /** [L, N, H] */
  dh0: Float64Array;
  dc0: Float64Array;
  layers: LstmGradients[];
}

const slice = (a: Float64Array | null | undefined, l: number, NH: number): Float64Array | null =>
  a ? a.subarray(l * NH, (l + 1) * NH) : null;

/** C is layer 0's input size; every later layer reads H. h0, c0 [L, N, H] or null (zeros). */
export function stackedLstmForward(
  layers: LstmParams[], x: Float64Array, T: number, N: number, C: number, H: number,
  h0?: Float64Array | null, c0?: Float64Array | null,
): StackedLstmForwardOut {
  const NH = N * H;
  const hN = new Float64Array(layers.length * NH);
  const cN = new Float64Array(layers.length * NH);
  const inputs: Float64Array[] = [];
  const outs: LstmForwardOut[] = [];
  let input = x;
  layers.forEach((p, l) => {
    const out = lstmForward(p, input, T, N, l === 0 ? C : H, H, slice(h0, l, NH), slice(c0, l, NH));
    inputs.push(input);
    outs.push(out);
    hN.set(out.hN, l * NH);
    cN.set(out.cN, l * NH);
    input = out.y;
  });
  return { y: input, hN, cN, inputs, layers: outs };
}

/** dy [T, N, H] for the last layer's output, dhN and dcN [L, N, H] for the final states; each optional. */
export function stackedLstmBackward(
  layers: LstmParams[], fwd: StackedLstmForwardOut, T: number, N: number, C: number, H: number,
  dy?: Float64Array | null, dhN?: Float64Array | null, dcN?: Float64Array | null,
): StackedLstmGradients {
  const NH = N * H;
  const dh0 = new Float64Array(layers.length * NH);
  const dc0 = new Float64Array(layers.length * NH);
  const grads: LstmGradients[] = new Array(layers.length);
  let dOut: Float64Array | null = dy ?? null;
  for (let l = layers.length - 1; l >= 0; l--) {
    const g = lstmBackward(
      layers[l], fwd.inputs[l], fwd.layers[l], T, N, l === 0 ? C : H, H, dOut, slice(dhN, l, NH), slice(dcN, l, NH),
    );
    grads[l] = g;
    dh0.set(g.dh0, l * NH);
    dc0.set(g.dc0, l * NH);
    dOut = g.dx; // the gradient of layer l's input is the gradient of layer l−1's output
  }
  return { dx: dOut ?? new Float64Array(T * N * C), dh0, dc0, layers: grads };
}

// ---- PyTorch names ------------------------------------------------------------------------

/** Layer l's parameters from a record keyed by nn.LSTM state_dict names (weight_ih_l{l}, ...). */
export function lstmLayersFromStateDict(record: Record<string, Float64Array>, numLayers: number): LstmParams[] {
  return Array.from({ length: numLayers }, (_, l) => {
    const get = (name: string): Float64Array => {
      const v = record[`${name}_l${l}`];
      if (!v) throw new Error(`lstmLayersFromStateDict: ${name}_l${l} is missing`);
      return v;
    };
    return { weightIh: get('weight_ih'), weightHh: get('weight_hh'), biasIh: get('bias_ih'), biasHh: get('bias_hh') };
  });
}

/** The parameter gradients of a stack keyed by nn.LSTM state_dict names. */
export function stackedLstmGradientsByName(g: StackedLstmGradients): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  g.layers.forEach((lg, l) => {
    out[`weight_ih_l${l}`] = lg.dWeightIh;
    out[`weight_hh_l${l}`] = lg.dWeightHh;
    out[`bias_ih_l${l}`] = lg.dBiasIh;
    out[`bias_hh_l${l}`] = lg.dBiasHh;
  });
  return out;
}

/** LSTM parameters (PyTorch layout) drawn uniformly: weights in ±weightBound, biases in ±biasBound. */
export function randomLstmParams(rng: Rng, C: number, H: number, weightBound: number, biasBound: number): LstmParams {
  return {
    weightIh: randomUniform(rng, 4 * H * C, weightBound),
    weightHh: randomUniform(rng, 4 * H * H, weightBound),
    biasIh: randomUniform(rng, 4 * H, biasBound),
    biasHh: randomUniform(rng, 4 * H, biasBound),
  };
}
