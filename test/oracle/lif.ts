// Float64 oracle for the spiking networks of issue 9 (S3GD, Perez-Nieves & Goodman), written from
// the equations, slow and obvious. Batch-major: x [B,T,I], mem/spk [B,T,H], w [I,H] used
// as x_t @ w. From mem_0 = 0, spk_0 = 0, for t = 1 .. T−1 (one step of delay, x_{T−1} unused):
//   mem_t = β·mem_{t−1} + x_{t−1} @ w − spk_{t−1}     (reset by subtraction, no gradient through it)
//   spk_t = H(mem_t − ϑ), H(0) = 0
// Surrogate (SuperSpike): ∂spk/∂mem = 1/(100·|mem − ϑ| + 1)².
// Dense BPTT: dmem_t = dspk_t·surr(mem_t) + β·dmem_{t+1};  dW = Σ_t x_{t−1}ᵀ dmem_t;  dx_{t−1} = dmem_t wᵀ.
// S3GD, from its own definition: the active set A = {(b,t,j) : b_th < mem < 2ϑ − b_th};
//   δ = dspk·surr on A;  trace[b,t,i] = Σ_{s<t} β^{t−1−s} x[b,s,i];  dW[i,j] = Σ_{(b,t,j)∈A} δ·trace[b,t,i];
//   dx[b,u,i] = Σ_j w[i,j] Σ_{(b,t,j)∈A, t>u} β^{t−1−u} δ[b,t,j], only at the lower layer's active entries.
// Readout: out_0 = 0, out_{t+1} = β_r·out_t + (1−β_r)·(spk_t @ w) for t = 0 .. T−2 (T values,
// spk_{T−1} unused), logits = max | sum | mean | last over those T values (max: the first maximum).
// Regulariser: (1/B) Σ_b [λ_up·max(0, Σ_{t,j} spk/H − f_up)^p_up + (λ_low/H)·Σ_j max(0, f_low − Σ_t spk)²].
// Loss of a network: NLL(log-softmax(logits)) (mean over the batch) + the regulariser on every hidden layer.
//
// Smooth stand-in (for finite differences), around a reference point (a binary forward `ref`):
//   spk = ref.spk + S(mem − ϑ) − S(ref.mem − ϑ),   S(u) = u/(100|u| + 1),   reset = ref.spk (fixed)
// S' is exactly the surrogate, so dense BPTT is this forward's exact gradient; at the reference
// point its values are the binary network's (spikes 0/1, membranes equal), so the signals, the
// readout's maxima and the regulariser's branches are those of the real network.
import { softmaxCrossEntropy } from './cross-entropy.js';

export interface LifDims {
  B: number;
  T: number;
  I: number;
  H: number;
}

export interface LifOptions {
  beta: number;
  threshold: number;
  bTh: number;
}

export type ReadoutReduce = 'max' | 'sum' | 'mean' | 'last';

export function surrogate(mem: number, threshold: number): number {
  const a = 100 * Math.abs(mem - threshold) + 1;
  return 1 / (a * a);
}

/** The smooth stand-in for the Heaviside: S(u) = u/(100|u| + 1), S'(u) = 1/(100|u| + 1)². */
export function smoothSpike(u: number): number {
  return u / (100 * Math.abs(u) + 1);
}

export function inBand(mem: number, o: LifOptions): boolean {
  return mem > o.bTh && mem < 2 * o.threshold - o.bTh;
}

export interface LifForwardOut {
  mem: Float64Array;
  spk: Float64Array;
}

/** The LIF forward; with `ref` (a binary forward) the smooth stand-in around it (see the header). */
export function lifForward(x: Float64Array, w: Float64Array, d: LifDims, o: LifOptions, ref?: LifForwardOut): LifForwardOut {
  const { B, T, I, H } = d;
  if (x.length !== B * T * I) throw new RangeError(`lifForward: x has ${x.length} values, expected ${B * T * I}`);
  if (w.length !== I * H) throw new RangeError(`lifForward: w has ${w.length} values, expected ${I * H}`);
  const mem = new Float64Array(B * T * H);
  const spk = new Float64Array(B * T * H);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) {
      for (let j = 0; j < H; j++) {
        let cur = 0;
        for (let i = 0; i < I; i++) cur += x[(b * T + t - 1) * I + i] * w[i * H + j];
        const k = (b * T + t) * H + j;
        const r = ref ? ref.spk[k - H] : spk[k - H];
        mem[k] = o.beta * mem[k - H] + cur - r;
        spk[k] = ref
          ? ref.spk[k] + (smoothSpike(mem[k] - o.threshold) - smoothSpike(ref.mem[k] - o.threshold))
          : mem[k] > o.threshold ? 1 : 0;
      }
    }
  }
  return { mem, spk };
}

/** 0/1 per (b,t,j): inside the S3GD band. */
export function activeMask(mem: Float64Array, o: LifOptions): Uint8Array {
  return Uint8Array.from(mem, (v) => (inBand(v, o) ? 1 : 0));
}

/** Flat indices of the ones of a mask, ascending: the order of a compact active set (rows b·T+t, columns ascending). */
export function entriesOf(mask: Uint8Array): Int32Array {
  const out: number[] = [];
  mask.forEach((m, k) => {
    if (m) out.push(k);
  });
  return Int32Array.from(out);
}

export interface LifGrads {
  dw: Float64Array;
  /** [B,T,I] */
  dx: Float64Array;
}

/** Dense BPTT; with `mask` the surrogate is zero where mask is 0 (the masked baseline of the S3GD identity). */
export function lifBackwardDense(
  x: Float64Array, w: Float64Array, mem: Float64Array, dspk: Float64Array, d: LifDims, o: LifOptions, mask?: Uint8Array,
): LifGrads {
  const { B, T, I, H } = d;
  const dw = new Float64Array(I * H);
  const dx = new Float64Array(B * T * I);
  const dmem = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    dmem.fill(0);
    for (let t = T - 1; t >= 1; t--) {
      for (let j = 0; j < H; j++) {
        const k = (b * T + t) * H + j;
        const s = !mask || mask[k] ? surrogate(mem[k], o.threshold) : 0;
        dmem[j] = dspk[k] * s + o.beta * dmem[j];
      }
      for (let i = 0; i < I; i++) {
        const xi = x[(b * T + t - 1) * I + i];
        let acc = 0;
        for (let j = 0; j < H; j++) {
          dw[i * H + j] += xi * dmem[j];
          acc += w[i * H + j] * dmem[j];
        }
        dx[(b * T + t - 1) * I + i] = acc;
      }
    }
  }
  return { dw, dx };
}

export interface S3gdGrads {
  dw: Float64Array;
  /** dL/dx at each lower active entry (the order of `lower`), or null without one */
  dxActive: Float64Array | null;
  /** this layer's active entries (flat [B,T,H] indices, ascending) */
  active: Int32Array;
}

/**
 * S3GD from its definition (traces, δ on the active set, dx at the lower entries). dspk is
 * dense [B,T,H]; only its values on the active set are read. lower: flat [B,T,I] indices.
 */
export function lifBackwardS3gd(
  x: Float64Array, w: Float64Array, mem: Float64Array, dspk: Float64Array, d: LifDims, o: LifOptions, lower: Int32Array | null,
): S3gdGrads {
  const { B, T, I, H } = d;
  const active = entriesOf(activeMask(mem, o));
  const delta = Float64Array.from(active, (k) => dspk[k] * surrogate(mem[k], o.threshold));
  const trace = new Float64Array(B * T * I);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) {
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let u = 0; u < t; u++) s += o.beta ** (t - 1 - u) * x[(b * T + u) * I + i];
        trace[(b * T + t) * I + i] = s;
      }
    }
  }
  const dw = new Float64Array(I * H);
  active.forEach((k, n) => {
    const j = k % H;
    const bt = (k - j) / H;
    for (let i = 0; i < I; i++) dw[i * H + j] += delta[n] * trace[bt * I + i];
  });
  let dxActive: Float64Array | null = null;
  if (lower) {
    dxActive = Float64Array.from(lower, (e) => {
      const i = e % I;
      const bu = (e - i) / I;
      const u = bu % T;
      const b = (bu - u) / T;
      let s = 0;
      active.forEach((k, n) => {
        const j = k % H;
        const bt = (k - j) / H;
        const t = bt % T;
        if ((bt - t) / T === b && t > u) s += w[i * H + j] * o.beta ** (t - 1 - u) * delta[n];
      });
      return s;
    });
  }
  return { dw, dxActive, active };
}

export interface ReadoutDims {
  B: number;
  T: number;
  H: number;
  O: number;
}

export interface ReadoutForwardOut {
  /** [B,T,O] */
  out: Float64Array;
  /** [B,O] */
  logits: Float64Array;
  /** max: the time step each logit was taken from [B·O] (the first maximum) */
  argmax: Int32Array;
}

export function readoutForward(spk: Float64Array, w: Float64Array, d: ReadoutDims, betaR: number, reduce: ReadoutReduce): ReadoutForwardOut {
  const { B, T, H, O } = d;
  const out = new Float64Array(B * T * O);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) {
      for (let q = 0; q < O; q++) {
        let h = 0;
        for (let j = 0; j < H; j++) h += spk[(b * T + t - 1) * H + j] * w[j * O + q];
        out[(b * T + t) * O + q] = betaR * out[(b * T + t - 1) * O + q] + (1 - betaR) * h;
      }
    }
  }
  const logits = new Float64Array(B * O);
  const argmax = new Int32Array(B * O);
  for (let b = 0; b < B; b++) {
    for (let q = 0; q < O; q++) {
      const at = (t: number) => out[(b * T + t) * O + q];
      let v = at(0);
      let best = 0;
      let sum = 0;
      for (let t = 0; t < T; t++) {
        sum += at(t);
        if (at(t) > v) {
          v = at(t);
          best = t;
        }
      }
      argmax[b * O + q] = best;
      logits[b * O + q] = reduce === 'max' ? v : reduce === 'sum' ? sum : reduce === 'mean' ? sum / T : at(T - 1);
    }
  }
  return { out, logits, argmax };
}

/** The smallest gap between a maximum over time and the other values of its time course (ties give 0). */
export function minMaxGap(f: ReadoutForwardOut, d: ReadoutDims): number {
  let gap = Infinity;
  for (let b = 0; b < d.B; b++) {
    for (let q = 0; q < d.O; q++) {
      const best = f.argmax[b * d.O + q];
      const m = f.out[(b * d.T + best) * d.O + q];
      for (let t = 0; t < d.T; t++) if (t !== best) gap = Math.min(gap, m - f.out[(b * d.T + t) * d.O + q]);
    }
  }
  return gap;
}

export function readoutBackward(
  spk: Float64Array, w: Float64Array, f: ReadoutForwardOut, dlogits: Float64Array, d: ReadoutDims, betaR: number, reduce: ReadoutReduce,
): { dw: Float64Array; dspk: Float64Array } {
  const { B, T, H, O } = d;
  const dout = new Float64Array(B * T * O);
  for (let b = 0; b < B; b++) {
    for (let q = 0; q < O; q++) {
      const g = dlogits[b * O + q];
      if (reduce === 'max') dout[(b * T + f.argmax[b * O + q]) * O + q] = g;
      else if (reduce === 'last') dout[(b * T + T - 1) * O + q] = g;
      else for (let t = 0; t < T; t++) dout[(b * T + t) * O + q] = reduce === 'sum' ? g : g / T;
    }
  }
  const dw = new Float64Array(H * O);
  const dspk = new Float64Array(B * T * H);
  const dacc = new Float64Array(O); // dL/d out_t including what flows back from later steps
  for (let b = 0; b < B; b++) {
    dacc.fill(0);
    for (let t = T - 1; t >= 1; t--) {
      for (let q = 0; q < O; q++) dacc[q] = dout[(b * T + t) * O + q] + betaR * dacc[q];
      // out_t = β_r out_{t−1} + (1 − β_r) spk_{t−1} @ w
      for (let j = 0; j < H; j++) {
        const s = spk[(b * T + t - 1) * H + j];
        let acc = 0;
        for (let q = 0; q < O; q++) {
          dw[j * O + q] += (1 - betaR) * s * dacc[q];
          acc += (1 - betaR) * w[j * O + q] * dacc[q];
        }
        dspk[(b * T + t - 1) * H + j] = acc;
      }
    }
  }
  return { dw, dspk };
}

export interface SpikeRegularizer {
  lambdaUp: number;
  fUp: number;
  pUp: number;
  lambdaLow: number;
  fLow: number;
}

/** The spike-count regulariser and its gradient, the same at every step: dspkRow [B,H]. */
export function spikeCountRegularizer(spk: Float64Array, d: { B: number; T: number; H: number }, r: SpikeRegularizer): { loss: number; dspkRow: Float64Array } {
  const { B, T, H } = d;
  const dspkRow = new Float64Array(B * H);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const counts = new Float64Array(H);
    for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) counts[j] += spk[(b * T + t) * H + j];
    const up = counts.reduce((a, c) => a + c, 0) / H - r.fUp;
    if (up > 0) {
      loss += r.lambdaUp * up ** r.pUp;
      const g = (r.lambdaUp * r.pUp * up ** (r.pUp - 1)) / H / B;
      for (let j = 0; j < H; j++) dspkRow[b * H + j] += g;
    }
    for (let j = 0; j < H; j++) {
      const low = r.fLow - counts[j];
      if (low > 0) {
        loss += (r.lambdaLow / H) * low * low;
        dspkRow[b * H + j] += (-2 * r.lambdaLow * low) / H / B;
      }
    }
  }
  return { loss: loss / B, dspkRow };
}

/** Distance of the regulariser's arguments from its kinks (max(0, ·) at 0), to keep tests away from them. */
export function regularizerKinkDistance(spk: Float64Array, d: { B: number; T: number; H: number }, r: SpikeRegularizer): number {
  const { B, T, H } = d;
  let dist = Infinity;
  for (let b = 0; b < B; b++) {
    const counts = new Float64Array(H);
    for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) counts[j] += spk[(b * T + t) * H + j];
    if (r.lambdaUp > 0) dist = Math.min(dist, Math.abs(counts.reduce((a, c) => a + c, 0) / H - r.fUp));
    if (r.lambdaLow > 0) for (const c of counts) dist = Math.min(dist, Math.abs(r.fLow - c));
  }
  return dist;
}

export interface SpikingNetOptions extends LifOptions {
  betaReadout: number;
  reduce: ReadoutReduce;
  regularizer: SpikeRegularizer | null;
}

/**
 * How the network's hidden layers are differentiated: dense BPTT, dense BPTT with every
 * surrogate masked to the active set, or S3GD from its definition (whose gradients must equal 'masked').
 */
export type NetBackward = 'dense' | 'masked' | 's3gd';

export interface SpikingNetOut {
  loss: number;
  /** gradients of w1 .. w_L, w_{L+1} (the readout) */
  grads: Float64Array[];
  layers: LifForwardOut[];
  logits: Float64Array;
  readout: ReadoutForwardOut;
  /** regulariser loss per hidden layer */
  regLoss: number[];
}

/**
 * A whole network: hidden LIF layers with sizes[1..L], a readout to sizes[L+1], NLL of log-softmax
 * plus the regulariser on every hidden layer. ws[l] is [sizes[l], sizes[l+1]]. refs (the binary
 * forward of each hidden layer) switch to the smooth stand-in around them (backward 'dense' then).
 */
export function spikingNetwork(
  x: Float64Array, ws: readonly Float64Array[], sizes: readonly number[], B: number, T: number, labels: ArrayLike<number>,
  o: SpikingNetOptions, backward: NetBackward, refs?: readonly LifForwardOut[],
): SpikingNetOut {
  const L = sizes.length - 2;
  if (ws.length !== L + 1) throw new RangeError(`spikingNetwork: ${ws.length} weights for ${L} hidden layers and a readout`);
  const dims = (l: number): LifDims => ({ B, T, I: sizes[l], H: sizes[l + 1] });
  const layers: LifForwardOut[] = [];
  let input = x;
  for (let l = 0; l < L; l++) {
    layers.push(lifForward(input, ws[l], dims(l), o, refs?.[l]));
    input = layers[l].spk;
  }
  const rd: ReadoutDims = { B, T, H: sizes[L], O: sizes[L + 1] };
  const readout = readoutForward(input, ws[L], rd, o.betaReadout, o.reduce);
  const ce = softmaxCrossEntropy(readout.logits, labels, B, rd.O);
  const rb = readoutBackward(input, ws[L], readout, ce.dlogits, rd, o.betaReadout, o.reduce);
  const grads: Float64Array[] = new Array<Float64Array>(L + 1);
  grads[L] = rb.dw;
  const regLoss: number[] = [];
  let loss = ce.loss;
  const dspkRows: (Float64Array | null)[] = layers.map((f, l) => {
    if (!o.regularizer) return null;
    const r = spikeCountRegularizer(f.spk, { B, T, H: sizes[l + 1] }, o.regularizer);
    regLoss.push(r.loss);
    loss += r.loss;
    return r.dspkRow;
  });
  let dspk = rb.dspk;
  for (let l = L - 1; l >= 0; l--) {
    const d = dims(l);
    const total = withRow(dspk, dspkRows[l], d);
    const xin = l === 0 ? x : layers[l - 1].spk;
    if (backward === 's3gd') {
      const lower = l > 0 ? entriesOf(activeMask(layers[l - 1].mem, o)) : null;
      const g = lifBackwardS3gd(xin, ws[l], layers[l].mem, total, d, o, lower);
      grads[l] = g.dw;
      if (lower) {
        dspk = new Float64Array(B * T * d.I);
        lower.forEach((e, n) => (dspk[e] = g.dxActive![n]));
      }
    } else {
      const mask = backward === 'masked' ? activeMask(layers[l].mem, o) : undefined;
      const g = lifBackwardDense(xin, ws[l], layers[l].mem, total, d, o, mask);
      grads[l] = g.dw;
      dspk = g.dx;
    }
  }
  return { loss, grads, layers, logits: readout.logits, readout, regLoss };
}

/** dspk [B,T,H] plus a per-(b,j) row added at every step. */
export function withRow(dspk: Float64Array, row: Float64Array | null, d: { B: number; T: number; H: number }): Float64Array {
  if (!row) return dspk;
  const out = Float64Array.from(dspk);
  for (let b = 0; b < d.B; b++) for (let t = 0; t < d.T; t++) for (let j = 0; j < d.H; j++) out[(b * d.T + t) * d.H + j] += row[b * d.H + j];
  return out;
}

/** Smallest distance of any membrane value from ϑ, b_th and 2ϑ − b_th (spike and band decisions are stable beyond float32 error when it is large). */
export function minDecisionDistance(mem: Float64Array, o: LifOptions): number {
  const points = [o.threshold, o.bTh, 2 * o.threshold - o.bTh];
  let dist = Infinity;
  for (const v of mem) for (const p of points) dist = Math.min(dist, Math.abs(v - p));
  return dist;
}

/** Dense binary [B,T,C] input from spike events (rows b·T+t). */
export function eventsToDense(e: { B: number; T: number; C: number; offsets: Int32Array; index: Int32Array }): Float64Array {
  const x = new Float64Array(e.B * e.T * e.C);
  for (let r = 0; r < e.B * e.T; r++) for (let p = e.offsets[r]; p < e.offsets[r + 1]; p++) x[r * e.C + e.index[p]] = 1;
  return x;
}
