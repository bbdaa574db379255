// Typed view of the native addon (native/binding). This file is the contract between the
// TypeScript side and the C++ engine: every function here validates its arguments in the binding
// and throws TypeError/RangeError naming the argument, never crashes.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type GemmKernelName = 'openblas' | 'builtin';

export interface NativeInfo {
  version: string;
  /** Kernel used for dense GEMMs now. */
  gemm: GemmKernelName;
  /** Kernels compiled into this build. */
  gemmKernels: GemmKernelName[];
  /** SIMD level the CPU kernels were compiled for (e.g. "avx2"). */
  simd: string;
  threads: number;
  /** compiled: the CUDA backend is linked in; build: what the build found (on with its cuBLAS, a compile check only, or off and why). */
  cuda: { compiled: boolean; build: string; devices: { name: string; memoryBytes: number }[] };
}

/**
 * Engine-owned state a forward keeps for its backward (an opaque handle: the cache, masks and
 * event maps stay in the engine, so a GPU backend can keep them on the device). Freed when
 * collected, or at once with release().
 */
export interface Saved {
  /** bytes the engine holds for it (its own buffers, not the arrays it references) */
  readonly bytes: number;
  /** the forward that made it, e.g. "egruForward" */
  readonly madeBy: string;
  release(): void;
}

/**
 * A tensor in engine-owned storage (parameters and their gradients). On the CPU, host() is a
 * Float32Array view of the same memory (no copy); a CUDA backend keeps the tensor on the device.
 * Op arguments take one wherever they take a Float32Array.
 */
export interface EngineTensor {
  readonly length: number;
  readonly device: 'cpu' | 'cuda';
  host(): Float32Array;
}

/** A float32 argument: a host array or an engine tensor. */
export type F32 = Float32Array | EngineTensor;

/** Keys the Philox masks drawn in a call: mask element i depends only on (key, purpose, i). */
export interface NoiseKey {
  seed: number;
  epoch: number;
  batch: number;
  layer: number;
}

export interface LinearArgs {
  /** [M, I] */ x: Float32Array;
  /** [O, I] (PyTorch layout) */ weight: F32;
  /** [O] or null */ bias: F32 | null;
  M: number;
  I: number;
  O: number;
}
export interface LinearBackwardArgs {
  x: Float32Array;
  weight: F32;
  M: number;
  I: number;
  O: number;
  /** [M, O] */ dy: Float32Array;
  /** gradients added into (+=) */ dWeight: F32;
  dBias: F32 | null;
  /** compute dx (false for a layer fed by data) */ needDx: boolean;
}

/** Scratch budget of a recurrent kernel in floats per time-chunk buffer; 0 = default (tests lower it). */
interface Chunked {
  chunkFloats: number;
}
interface SeqDims {
  T: number;
  N: number;
  C: number;
  H: number;
}

export interface GruWeights {
  /** [3H, C] */ weightIh: F32;
  /** [3H, H] */ weightHh: F32;
  /** [3H] */ biasIh: F32;
  /** [3H] */ biasHh: F32;
}
/** AWD's WeightDrop on weight_hh (rows dropped, kept rows scaled 1/(1 − p)); both optional (off). */
interface WeightDropArgs {
  dropconnect?: number;
  /** keys the row mask; required when training with dropconnect > 0 */
  noise?: NoiseKey | null;
}
export interface GruForwardArgs extends GruWeights, SeqDims, Chunked, WeightDropArgs {
  /** [T, N, C] time-major */ x: Float32Array;
  /** [N, H] or null for zeros */ h0: Float32Array | null;
  /** keep what backward needs (the saved handle) */ training: boolean;
}
export interface GruForwardResult {
  /** [T, N, H] */ y: Float32Array;
  /** null when not training */ saved: Saved | null;
}
export interface GruBackwardArgs extends GruWeights, SeqDims, Chunked {
  saved: Saved;
  /** [T, N, H] or null */ dy: Float32Array | null;
  /** [N, H] or null: gradient of the last state */ dhT: Float32Array | null;
  /** added into (+=) */ dWeightIh: F32;
  dWeightHh: F32;
  dBiasIh: F32;
  dBiasHh: F32;
  needDx: boolean;
}
export interface GruBackwardResult {
  dx: Float32Array | null;
  dh0: Float32Array;
}

export interface LstmWeights {
  /** [4H, C], gate blocks (i, f, g, o) */ weightIh: F32;
  /** [4H, H] */ weightHh: F32;
  /** [4H] */ biasIh: F32;
  /** [4H] */ biasHh: F32;
}
export interface LstmForwardArgs extends LstmWeights, SeqDims, Chunked, WeightDropArgs {
  x: Float32Array;
  h0: Float32Array | null;
  c0: Float32Array | null;
  training: boolean;
}
export interface LstmForwardResult {
  /** [T, N, H] */ y: Float32Array;
  /** [N, H] the last cell state */ cN: Float32Array;
  saved: Saved | null;
}
export interface LstmBackwardArgs extends LstmWeights, SeqDims, Chunked {
  saved: Saved;
  dy: Float32Array | null;
  dhN: Float32Array | null;
  dcN: Float32Array | null;
  /** added into (+=) */ dWeightIh: F32;
  dWeightHh: F32;
  dBiasIh: F32;
  dBiasHh: F32;
  needDx: boolean;
}
export interface LstmBackwardResult {
  dx: Float32Array | null;
  dh0: Float32Array;
  dc0: Float32Array;
}

/**
 * The fixed-point options of DeltaGRU/DeltaLSTM (gaochangw/DeltaRNN's qa/aqi/aqf/nqi/nqf/qw/wqi/wqf),
 * all optional with the reference's defaults. A format qi.qf counts the sign bit in qi: integers
 * with qi >= 1 and qi + qf <= 24.
 */
export interface DeltaQuantArgs {
  /** fixed-point activations (inference only: refused with training: true); default false */ qa?: boolean;
  /** activation format, default 3.5 */ aqi?: number;
  aqf?: number;
  /** sigmoid/tanh output format, default 2.6 */ nqi?: number;
  nqf?: number;
  /** the delta memories start at the weight-quantised bias sums (training and inference); default false */ qw?: boolean;
  /** weight format, default 1.7 (also the one the after-epoch quantizeInPlace should use) */ wqi?: number;
  wqf?: number;
}
/** Counts of a DeltaGRU/DeltaLSTM call. */
export interface DeltaStats {
  /** exactly-zero Δx / Δh entries after the thresholds, and the entries (forward only) */
  dxZeros?: number;
  dxTotal?: number;
  dhZeros?: number;
  dhTotal?: number;
  /** their fractions; zeroBoth = (dxZeros + dhZeros) / (dxTotal + dhTotal) (forward only) */
  zeroDx?: number;
  zeroDh?: number;
  zeroBoth?: number;
  /** multiply-accumulates run: over the nonzero deltas (forward); the dense products (backward) */
  macs: number;
  /** those of the dense GRU/LSTM products of the same shapes */
  macsDense: number;
}
/** DeltaGRU (PyTorch GRU parameters, gate blocks r, z, n); starts from h = 0 (no h0, as the reference). */
export interface DeltaGruForwardArgs extends GruWeights, SeqDims, Chunked, DeltaQuantArgs {
  /** [T, N, C] time-major */ x: Float32Array;
  /** input and hidden delta thresholds Θx, Θh (>= 0; |Δ| < Θ is zeroed) */ thetaX: number;
  thetaH: number;
  /** keep what backward needs (the saved handle); refused together with qa */ training: boolean;
}
export interface DeltaGruForwardResult {
  /** [T, N, H] */ y: Float32Array;
  /** null when not training */ saved: Saved | null;
  stats: Required<DeltaStats>;
}
/** The backward reads the thresholds and quantisation options from the forward's saved handle. */
export interface DeltaGruBackwardArgs extends GruWeights, SeqDims, Chunked {
  saved: Saved;
  /** [T, N, H] or null */ dy: Float32Array | null;
  /** [N, H] or null: the gradient of the last state (= y's last step; added into dy's last step) */ dhN: Float32Array | null;
  /** added into (+=) */ dWeightIh: F32;
  dWeightHh: F32;
  dBiasIh: F32;
  dBiasHh: F32;
  needDx: boolean;
}
export interface DeltaGruBackwardResult {
  dx: Float32Array | null;
  stats: DeltaStats;
}
/** DeltaLSTM (PyTorch LSTM parameters, gate blocks i, f, g, o); starts from h = c = 0. */
export interface DeltaLstmForwardArgs extends LstmWeights, SeqDims, Chunked, DeltaQuantArgs {
  x: Float32Array;
  thetaX: number;
  thetaH: number;
  training: boolean;
}
export interface DeltaLstmForwardResult {
  /** [T, N, H] */ y: Float32Array;
  /** [N, H] the last cell state */ cN: Float32Array;
  saved: Saved | null;
  stats: Required<DeltaStats>;
}
export interface DeltaLstmBackwardArgs extends LstmWeights, SeqDims, Chunked {
  saved: Saved;
  dy: Float32Array | null;
  /** [N, H] or null: gradient of the last h (added into dy's last step) */ dhN: Float32Array | null;
  /** [N, H] or null: gradient of the last cell state */ dcN: Float32Array | null;
  /** added into (+=) */ dWeightIh: F32;
  dWeightHh: F32;
  dBiasIh: F32;
  dBiasHh: F32;
  needDx: boolean;
}
export interface DeltaLstmBackwardResult {
  dx: Float32Array | null;
  stats: DeltaStats;
}

export interface EgruParamsArgs {
  /** [C, 3H], gate column blocks (z, r, g) */ kernel: F32;
  /** [H, 3H], the parameter (DropConnect is applied in the engine) */ recurrentKernel: F32;
  /** [3H] */ bias: F32;
  /** [3H] */ recurrentBias: F32;
  /** [H]; clamped to [0, 1] in place by the forward, as EvNN does */ thr: F32;
}
export interface EgruForwardArgs extends EgruParamsArgs, SeqDims, Chunked {
  /** [T, N, C] time-major */ x: Float32Array;
  /** [N, H] initial event output, or null for zeros (c always starts at 0) */ y0: Float32Array | null;
  /** [T, N, H] 0/1 keep-mask, used exactly; else drawn from noise (training with zoneout > 0) */ zoneoutMask: Uint8Array | null;
  /** [H, 3H] 0/1 keep-mask of recurrent_kernel, used exactly; else drawn from noise */ dropconnectMask: Uint8Array | null;
  /** keys the masks drawn in the engine; null when none are drawn */ noise: NoiseKey | null;
  /** keep what backward needs; zoneout uses the mask (training) or mixes with p (evaluation) */ training: boolean;
  /** zoneout probability p in [0, 1) */ zoneout: number;
  /** DropConnect probability on recurrent_kernel (training only), scaled 1/(1 − p) */ dropconnect: number;
  /** surrogate γ·max(0, 1 − ε|v|): γ */ dampening: number;
  /** ε */ support: number;
  /** x is an event tensor (a lower EGRU's y): event-driven input projection */ sparseInput: boolean;
  /** return the events o and the output trace [T, N, H] (null otherwise; backward needs neither) */ keepO: boolean;
  keepTrace: boolean;
}
/** Work and events counted by a native EGRU call. */
export interface EgruStats {
  /** Σ o (forward only) */ events?: number;
  /** units that fired or lie inside the surrogate support (forward only) */ backwardActive?: number;
  /** multiply-accumulates done */ macs: number;
  /** multiply-accumulates of dense products of the same shapes */ macsDense: number;
}
export interface EgruForwardResult {
  /** [T, N, H] each */ y: Float32Array;
  c: Float32Array;
  /** null unless keepO */ o: Float32Array | null;
  /** null unless keepTrace */ trace: Float32Array | null;
  /** null when not training */ saved: Saved | null;
  stats: Required<EgruStats>;
}
export interface EgruBackwardArgs extends EgruParamsArgs, SeqDims, Chunked {
  saved: Saved;
  /** the saved handle of the layer below: dx only at its active units (an EGRU's); null for all */ below: Saved | null;
  /** or an explicit [T, N, C] map: dx only where nonzero (null: everywhere) */ dxActive?: Uint8Array | null;
  /** upstream gradients [T, N, H] or null (zero) */ dy: Float32Array | null;
  /** [N, H] gradient of the last step's y (hN), or null */ dyN: Float32Array | null;
  dc: Float32Array | null;
  do: Float32Array | null;
  dtrace: Float32Array | null;
  /** EvNN's per-layer clipping of this call's gradients; 0 = off */ gradClip: number;
  /** added into (+=) */ dKernel: F32;
  dRecurrentKernel: F32;
  dBias: F32;
  dRecurrentBias: F32;
  dThr: F32;
  needDx: boolean;
  needDy0: boolean;
}
export interface EgruBackwardResult {
  dx: Float32Array | null;
  dy0: Float32Array | null;
  stats: EgruStats;
}

export interface EmbeddingForwardArgs {
  /** [n] token ids in [0, V) */ ids: Int32Array;
  /** [V, D] */ weight: F32;
  n: number;
  V: number;
  D: number;
  /** keep what backward needs (the ids and the row mask) */ training: boolean;
  /** word dropout: whole vocabulary rows dropped with probability p (training only), kept rows scaled 1/(1 − p) */ p: number;
  /** [V] 0/1 row keep-mask, used exactly; else drawn from noise */ rowMask: Uint8Array | null;
  noise: NoiseKey | null;
}
export interface EmbeddingBackwardArgs {
  saved: Saved;
  /** [n, D] */ dy: Float32Array;
  /** [V, D], added into (+=) */ dWeight: F32;
  n: number;
  V: number;
  D: number;
}

export interface DropoutForwardArgs {
  /** [T, N, H] */ x: Float32Array;
  T: number;
  N: number;
  H: number;
  p: number;
  /** 0: a mask element per (t, n, h); 1: per (t, h), shared across the batch (EvNN's); 2: per (n, h), shared across time (AWD's locked dropout) */
  share: number;
  training: boolean;
  noise: NoiseKey | null;
}

export interface CrossEntropyResult {
  /** mean over the N rows */ loss: number;
  /** d(mean loss)/d logits, [N, K] */ dlogits: Float32Array;
  /** rows whose arg-max equals the label */ correct: number;
}

export interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** true on the first step: PyTorch initialises the momentum buffer with the gradient */
  firstStep: boolean;
}
export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction */
  step: number;
  /** true: AdamW (decoupled decay); false: Adam (L2 added to the gradient) */
  decoupled: boolean;
}

// ---- LIF spiking layers and S3GD (issue 9; native/include/evnn/lif*.h) ----------------------
// Batch-major float32 tensors: x [B,T,I], spk/mem [B,T,H], w [I,H] used as x_t @ w.

/** Binary input events in CSR form: row r = b·T + t holds channels index[offsets[r]] .. index[offsets[r+1] − 1] (ascending, unique), each of value 1. */
export interface LifEventsArg {
  /** B·T + 1 row starts: offsets[0] = 0, non-decreasing, offsets[B·T] = index.length */ offsets: Int32Array;
  /** channels in [0, I) */ index: Int32Array;
}
export interface LifForwardArgs {
  B: number;
  T: number;
  I: number;
  H: number;
  /** [B·T·I] dense input (the product runs over its nonzeros); exactly one of x / events */ x?: F32 | null;
  /** or binary input events */ events?: LifEventsArg | null;
  /** [I·H] */ w: F32;
  /** exp(−Δt/τ_mem), in [0, 1) */ beta: number;
  threshold: number;
  /** S3GD band: bTh < mem < 2·threshold − bTh is active */ bTh: number;
  /** a saved handle is made only in training */ training: boolean;
  /** what the handle is kept for: 'dense' keeps mem [B,T,H] and the input; 's3gd' keeps only the compact input events and active set */
  backward: 'dense' | 's3gd';
}
export interface LifForwardStats {
  spikes: number;
  /** neuron-steps in the S3GD band */ active: number;
  /** B·T·H */ neuronSteps: number;
  /** input events read (steps 0 .. T−2) */ inputEvents: number;
  macs: number;
  macsDense: number;
}
export interface LifForwardResult {
  /** [B·T·H] */ spk: Float32Array;
  /** null when not training; bytes = what the engine holds (the dense handle's x is referenced, not counted) */ saved: Saved | null;
  stats: LifForwardStats;
}
export interface LifBackwardArgs {
  /** this layer's lifForward handle (B, T, I, H and the options come from it) */ saved: Saved;
  /** [I·H] */ w: F32;
  /** [I·H], added into (+=) */ dw: F32;
  /** [B·T·H] dL/dspk, dense */ dspk?: F32 | null;
  /** s3gd only, not with dspk: one value per entry of this layer's active set (the dxActive of the layer above) */ dspkActive?: Float32Array | null;
  /** [B·H] added to dL/dspk at every step (the regulariser's gradient; s3gd: at active entries) */ dspkRow?: F32 | null;
  /** s3gd only: the layer below's lifForward handle (made with backward 's3gd', same B and T, its H = this I); dx is made at its active entries only */ lower?: Saved | null;
  needDx: boolean;
}
export interface LifBackwardStats {
  /** active entries used (s3gd; 0 for dense) */ active: number;
  /** entries of lower's active set (s3gd) */ lowerActive: number;
  macs: number;
  /** the dense BPTT's MACs for the same call */ macsDense: number;
  /** the backward's peak scratch (workspace) in bytes */ scratchBytes: number;
}
export interface LifBackwardResult {
  /** dense handle with needDx: [B·T·I]; else null */ dx: Float32Array | null;
  /** s3gd handle with needDx and lower: one value per entry of lower's active set; else null */ dxActive: Float32Array | null;
  stats: LifBackwardStats;
}
export interface LifReadoutForwardArgs {
  B: number;
  T: number;
  H: number;
  O: number;
  /** [B·T·H] */ spk: F32;
  /** [H·O] */ w: F32;
  /** β_r in [0, 1): out_0 = 0, out_{t+1} = β_r·out_t + (1 − β_r)·(spk_t @ w) */ beta: number;
  /** over the T values out_0 .. out_{T−1}; max: the gradient goes to the first maximum */ reduce: 'max' | 'sum' | 'mean' | 'last';
  training: boolean;
}
export interface LifReadoutForwardResult {
  /** [B·O] */ logits: Float32Array;
  saved: Saved | null;
}
export interface LifReadoutBackwardArgs {
  saved: Saved;
  /** [H·O] */ w: F32;
  /** [H·O], added into (+=) */ dw: F32;
  /** [B·O] */ dlogits: F32;
  needDspk: boolean;
  /** a lifForward handle made with backward 's3gd', its B, T, H = this readout's: dL/dspk is then made only at its active entries (dspkActive), not dense */ at?: Saved | null;
}
export interface LifReadoutBackwardResult {
  /** [B·T·H] when needDspk and no `at`, else null */ dspk: Float32Array | null;
  /** when needDspk and `at`: one value per entry of at's active set (pass it as that layer's dspkActive), else null */ dspkActive: Float32Array | null;
}
export interface SpikeCountRegularizerArgs {
  B: number;
  T: number;
  H: number;
  /** [B·T·H] */ spk: F32;
  lambdaUp: number;
  fUp: number;
  pUp: number;
  lambdaLow: number;
  fLow: number;
}
export interface SpikeCountRegularizerResult {
  /** (1/B) Σ_b [λ_up·max(0, Σ_{t,j} spk/H − f_up)^p_up + (λ_low/H)·Σ_j max(0, f_low − Σ_t spk)²] */ loss: number;
  /** [B·H]: dLoss/dspk[b,t,j], the same at every t */ dspkRow: Float32Array;
}

// --- convolutional front end: Conv2d, MaxPool2d, ReLU (native/binding/{conv,relu}_binding.cc) ---

/** A window sliding over NCHW input: strides SH/SW >= 1; PH/PW zero padding per side, whole numbers >= 0. */
export interface WindowGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
}
export interface Conv2dGeometry extends WindowGeometry {
  /** output channels */ O: number;
}
export interface Conv2dForwardArgs extends Conv2dGeometry {
  /** [N, C, H, W] */ x: F32;
  /** [O, C, KH, KW] (PyTorch layout) */ weight: F32;
  /** [O] or null */ bias: F32 | null;
  /** a ReLU fused after the conv (y = max(0, conv + b)); default false */ relu?: boolean;
}
/** y: [N, O, OH, OW], OH = ⌊(H + 2·PH − KH) / SH⌋ + 1 (likewise OW). */
export interface Conv2dForwardResult {
  y: Float32Array;
}
export interface Conv2dBackwardArgs extends Conv2dGeometry {
  /** the forward's output size (checked against the geometry) */ OH: number;
  OW: number;
  /** the forward's input again (nothing is kept between the calls) */ x: F32;
  weight: F32;
  /** [N, O, OH, OW] */ dy: Float32Array;
  /** gradients added into (+=) */ dWeight: F32;
  dBias: F32 | null;
  needDx: boolean;
  /** the forward had the fused ReLU: dy is taken through it, gated by y */ relu?: boolean;
  /** [N, O, OH, OW] the forward's output (needed with relu) */ y?: F32 | null;
}
export interface Conv2dBackwardResult {
  /** [N, C, H, W] or null without needDx */ dx: Float32Array | null;
}
/** PyTorch's MaxPool2d (floor mode): paddings at most half the window. */
export interface MaxPool2dForwardArgs extends WindowGeometry {
  /** [N, C, H, W] */ x: F32;
  /** keep the argmax (engine-side) for the backward */ training: boolean;
}
export interface MaxPool2dForwardResult {
  /** [N, C, OH, OW] */ y: Float32Array;
  saved: Saved | null;
}
export interface MaxPool2dBackwardArgs {
  saved: Saved;
  /** [N, C, OH, OW] */ dy: Float32Array;
}
export interface MaxPool2dBackwardResult {
  /** [N, C, H, W]: each dy routed to its window's first maximum (summed where windows overlap) */ dx: Float32Array;
}
export interface ReluForwardArgs {
  n: number;
  x: F32;
}
export interface ReluBackwardArgs {
  n: number;
  /** the forward's output */ y: F32;
  dy: Float32Array;
}

export interface NativeAddon {
  info(): NativeInfo;
  /** n float32 zeros in engine-owned storage. */
  engineTensor(n: number): EngineTensor;
  setThreads(n: number): void;
  setGemmKernel(kernel: GemmKernelName): void;
  /** C = alpha op(A) op(B) + beta C, row-major; for tests of both kernels. Returns a new C. */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, B: Float32Array, beta: number, C: Float32Array | null,
  ): Float32Array;

  linearForward(a: LinearArgs): { y: Float32Array };
  linearBackward(a: LinearBackwardArgs): { dx: Float32Array | null };
  linearForwardAsync(a: LinearArgs): Promise<{ y: Float32Array }>;
  linearBackwardAsync(a: LinearBackwardArgs): Promise<{ dx: Float32Array | null }>;

  gruForward(a: GruForwardArgs): GruForwardResult;
  gruBackward(a: GruBackwardArgs): GruBackwardResult;
  gruForwardAsync(a: GruForwardArgs): Promise<GruForwardResult>;
  gruBackwardAsync(a: GruBackwardArgs): Promise<GruBackwardResult>;

  egruForward(a: EgruForwardArgs): EgruForwardResult;
  egruBackward(a: EgruBackwardArgs): EgruBackwardResult;
  egruForwardAsync(a: EgruForwardArgs): Promise<EgruForwardResult>;
  egruBackwardAsync(a: EgruBackwardArgs): Promise<EgruBackwardResult>;

  lstmForward(a: LstmForwardArgs): LstmForwardResult;
  lstmBackward(a: LstmBackwardArgs): LstmBackwardResult;
  lstmForwardAsync(a: LstmForwardArgs): Promise<LstmForwardResult>;
  lstmBackwardAsync(a: LstmBackwardArgs): Promise<LstmBackwardResult>;

  deltaGruForward(a: DeltaGruForwardArgs): DeltaGruForwardResult;
  deltaGruBackward(a: DeltaGruBackwardArgs): DeltaGruBackwardResult;
  deltaGruForwardAsync(a: DeltaGruForwardArgs): Promise<DeltaGruForwardResult>;
  deltaGruBackwardAsync(a: DeltaGruBackwardArgs): Promise<DeltaGruBackwardResult>;

  deltaLstmForward(a: DeltaLstmForwardArgs): DeltaLstmForwardResult;
  deltaLstmBackward(a: DeltaLstmBackwardArgs): DeltaLstmBackwardResult;
  deltaLstmForwardAsync(a: DeltaLstmForwardArgs): Promise<DeltaLstmForwardResult>;
  deltaLstmBackwardAsync(a: DeltaLstmBackwardArgs): Promise<DeltaLstmBackwardResult>;

  /**
   * Fixed-point quantisation in place (gaochangw/DeltaRNN's quantize_tensor, the after-epoch weight
   * quantisation of qw): x ← clamp(round(x·2^qf), −2^(qi+qf−1), 2^(qi+qf−1) − 1) / 2^qf, round half
   * to even. qi counts the sign bit (integer >= 1), qf >= 0, qi + qf <= 24.
   */
  quantizeInPlace(x: F32, qi: number, qf: number): void;
  /** The straight-through gradient of quantizeInPlace: dx[i] = 0 where x[i] saturates the clamp, else unchanged (in place). */
  quantizePassThrough(x: F32, dx: F32, qi: number, qf: number): void;

  embeddingForward(a: EmbeddingForwardArgs): { y: Float32Array; saved: Saved | null };
  embeddingBackward(a: EmbeddingBackwardArgs): Record<string, never>;
  embeddingForwardAsync(a: EmbeddingForwardArgs): Promise<{ y: Float32Array; saved: Saved | null }>;
  embeddingBackwardAsync(a: EmbeddingBackwardArgs): Promise<Record<string, never>>;

  /** Inverted dropout with a Philox keep-mask (kept in the saved handle). */
  dropoutForward(a: DropoutForwardArgs): { y: Float32Array; saved: Saved | null };
  dropoutBackward(a: { saved: Saved; dy: Float32Array; T: number; N: number; H: number }): { dx: Float32Array };
  dropoutForwardAsync(a: DropoutForwardArgs): Promise<{ y: Float32Array; saved: Saved | null }>;
  dropoutBackwardAsync(a: { saved: Saved; dy: Float32Array; T: number; N: number; H: number }): Promise<{ dx: Float32Array }>;
  /** constant·(mean(x) − target)²; its gradient is added into grad. */
  regularizeMeanTarget(a: { x: Float32Array; grad: Float32Array; n: number; constant: number; target: number }): { stats: { value: number } };
  /** constant·mean((x − target)²); its gradient is added into grad. */
  regularizeMeanSquare(a: { x: Float32Array; grad: Float32Array; n: number; constant: number; target: number }): { stats: { value: number } };
  /** The keep-mask (1 with probability 1 − p) the engine draws for (noise, purpose: 1 zoneout, 2 DropConnect, 3 dropout, 4 word dropout). */
  keepMask(a: { n: number; p: number; purpose: number; noise: NoiseKey }): { keep: Uint8Array };

  /** labels: Int32Array [N] in [0, K) */
  softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, N: number, K: number): CrossEntropyResult;

  /** In place on param (and buffers). momentumBuf may be null when momentum is 0. */
  sgdStep(param: Float32Array, grad: Float32Array, momentumBuf: Float32Array | null, o: SgdOptions): void;
  adamStep(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, o: AdamOptions): void;
  /** Global L2 norm over all arrays (accumulated in float64). */
  globalNorm(grads: Float32Array[]): number;
  /** PyTorch clip_grad_norm_: scales in place when norm > maxNorm; returns the norm before clipping. */
  clipGlobalNorm(grads: Float32Array[], maxNorm: number): number;

  /**
   * Counter-based Philox4x32-10 uniform floats in [0,1) (top 24 bits × 2^-24), key = seed.
   * out[i] is 32-bit output number p = offset + i of the stream: word p mod 4 of the block whose
   * counter is p / 4. So advancing offset by out.length draws fresh values, and every value
   * depends only on (seed, p), never on the thread count.
   */
  philoxUniform(out: Float32Array, seed: bigint, offset: bigint): void;
  /** One raw Philox4x32-10 block (counter: 4 words, key: 2 words, low word first), for known-answer tests. */
  philoxBlock(counter: Uint32Array, key: Uint32Array): Uint32Array;

  /** LIF layer (issue 9): forward over the sequence; see LifForwardArgs. */
  lifForward(a: LifForwardArgs): LifForwardResult;
  /** Dense BPTT or S3GD, as the handle was made for. */
  lifBackward(a: LifBackwardArgs): LifBackwardResult;
  lifForwardAsync(a: LifForwardArgs): Promise<LifForwardResult>;
  lifBackwardAsync(a: LifBackwardArgs): Promise<LifBackwardResult>;
  lifReadoutForward(a: LifReadoutForwardArgs): LifReadoutForwardResult;
  lifReadoutBackward(a: LifReadoutBackwardArgs): LifReadoutBackwardResult;
  lifReadoutForwardAsync(a: LifReadoutForwardArgs): Promise<LifReadoutForwardResult>;
  lifReadoutBackwardAsync(a: LifReadoutBackwardArgs): Promise<LifReadoutBackwardResult>;
  spikeCountRegularizer(a: SpikeCountRegularizerArgs): SpikeCountRegularizerResult;
  spikeCountRegularizerAsync(a: SpikeCountRegularizerArgs): Promise<SpikeCountRegularizerResult>;

  conv2dForward(a: Conv2dForwardArgs): Conv2dForwardResult;
  conv2dBackward(a: Conv2dBackwardArgs): Conv2dBackwardResult;
  conv2dForwardAsync(a: Conv2dForwardArgs): Promise<Conv2dForwardResult>;
  conv2dBackwardAsync(a: Conv2dBackwardArgs): Promise<Conv2dBackwardResult>;
  maxPool2dForward(a: MaxPool2dForwardArgs): MaxPool2dForwardResult;
  maxPool2dBackward(a: MaxPool2dBackwardArgs): MaxPool2dBackwardResult;
  maxPool2dForwardAsync(a: MaxPool2dForwardArgs): Promise<MaxPool2dForwardResult>;
  maxPool2dBackwardAsync(a: MaxPool2dBackwardArgs): Promise<MaxPool2dBackwardResult>;
  reluForward(a: ReluForwardArgs): { y: Float32Array };
  reluBackward(a: ReluBackwardArgs): { dx: Float32Array };
  reluForwardAsync(a: ReluForwardArgs): Promise<{ y: Float32Array }>;
  reluBackwardAsync(a: ReluBackwardArgs): Promise<{ dx: Float32Array }>;

  /** y [N·H] = the mean over time of x [T·N·H] (time-major). */
  timeMeanForward(a: { T: number; N: number; H: number; x: Float32Array }): { y: Float32Array };
  /** dx [T·N·H] += dy [N·H] / T at every step (dx is added into). */
  timeMeanBackward(a: { T: number; N: number; H: number; dy: Float32Array; dx: Float32Array }): Record<string, never>;
  timeMeanForwardAsync(a: { T: number; N: number; H: number; x: Float32Array }): Promise<{ y: Float32Array }>;
  timeMeanBackwardAsync(a: { T: number; N: number; H: number; dy: Float32Array; dx: Float32Array }): Promise<Record<string, never>>;
}

export class NativeUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `the native engine (build/Release/evnn.node) could not be loaded: ${detail}\n` +
        'Fix: install CMake (>= 3.18) and g++ (optionally libopenblas-dev), then run `npm run build:native`' +
        ' (its log is written to build/native-build.log).',
    );
    this.name = 'NativeUnavailableError';
  }
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let cached: NativeAddon | undefined;

/** Loads the addon once; throws NativeUnavailableError with the fix when it is missing. */
export function native(): NativeAddon {
  if (cached) return cached;
  const file = join(packageRoot, 'build', 'Release', 'evnn.node');
  if (!existsSync(file)) throw new NativeUnavailableError(`${file} does not exist (the build failed or never ran)`);
  try {
    const require = createRequire(import.meta.url);
    cached = require(file) as NativeAddon;
  } catch (err) {
    throw new NativeUnavailableError(err instanceof Error ? err.message : String(err));
  }
  return cached;
}
