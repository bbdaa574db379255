// EGRU layer (Subramoney et al., ICLR 2023) with EvNN's parameter names, layouts, initialisation
// and options, stacked layers supported: a RecurrentStack of EGRUCells. One layer: kernel
// [C,3H], recurrent_kernel [H,3H], bias [3H], recurrent_bias [3H], thr [H] (gate blocks z, r, g);
// a stack names layer l's parameters rnns.{l}.kernel, … (EvNN's language-model convention).
import type { EgruStats } from '../native/addon.js';
import { Rng } from '../util/rng.js';
import type { CellStats } from './cell.js';
import type { LayerSteps } from './drive.js';
import { EGRUCell, EGRU_DEFAULTS, egruSettings, type EGRUCellSettings } from './egru-cell.js';
import { evnnNaming } from './naming.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { checkLayerSizes } from './sizes.js';
import { RecurrentStack } from './stack.js';
import { expectShape, type Tensor } from './tensor.js';

export { EGRU_DEFAULTS };

export interface EGRUOptions extends Partial<EGRUCellSettings> {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Input/output as [N, T, C] instead of the engine's time-major [T, N, C]. */
  batchFirst?: boolean;
  /** Seed for initialisation and for the zoneout/DropConnect masks the engine draws. */
  seed?: number;
  /** Prefix for parameter names inside a model, e.g. "rnn." */
  prefix?: string;
  /** Scratch budget of the native kernels (floats per time-chunk buffer); 0 = default. For tests. */
  chunkFloats?: number;
}

/** Keys the zoneout/DropConnect masks of a call: the engine's Philox stream of (seed, epoch, batch, layer). */
export interface MaskKey {
  seed: number;
  epoch?: number;
  batch?: number;
}

export interface EGRUForwardOptions {
  training?: boolean;
  /** Initial event output y_0 per layer [numLayers, N, H]; zeros when absent. c always starts at 0. */
  h0?: Tensor;
  /**
   * Zoneout keep-masks, time-major [T, N, H] (one layer) or [numLayers, T, N, H], values 0 or 1;
   * used exactly as given. Drawn by the engine from `noise` when absent.
   */
  zoneoutMask?: Tensor;
  /** DropConnect keep-masks of recurrent_kernel, [H, 3H] (one layer) or [numLayers, H, 3H], 0 or 1. */
  dropconnectMask?: Tensor;
  /** Keys the masks drawn in this call; by default the layer's seed with a per-call counter. */
  noise?: MaskKey;
  /** Which of the last layer's o and trace to return (both by default); an unwanted one is null and costs no memory. */
  outputs?: { o?: boolean; trace?: boolean };
}

export interface EGRUOutput {
  /** Last layer's event output y [T, N, H] (or [N, T, H] with batchFirst). */
  output: Tensor;
  /** Last layer's internal state c (after the soft reset), same layout. */
  c: Tensor;
  /** Last layer's events o ∈ {0, 1}, same layout (null when not asked for in outputs). */
  o: Tensor | null;
  /** Last layer's output trace (0.9·tr + 0.1·y), same layout (null when not asked for). */
  trace: Tensor | null;
  /** y at the last step of every layer [numLayers, N, H]. */
  hN: Tensor;
  /** Events and work per layer. */
  stats: Required<EgruStats>[];
}

export interface EGRUGradientsIn {
  /** dL/d output (y of the last layer). */
  output?: Tensor;
  /** dL/d c, dL/d o, dL/d trace of the last layer (same layout as output). */
  c?: Tensor;
  o?: Tensor;
  trace?: Tensor;
  /** dL/d hN [numLayers, N, H]. */
  hN?: Tensor;
}

export interface EGRUGradients {
  input: Tensor | null;
  /** dL/d y_0 [numLayers, N, H]. */
  h0: Tensor;
  params: Record<string, Float32Array>;
  /** Work per layer (backwardActive is reported by forward). */
  stats: EgruStats[];
}

export class EGRU extends RecurrentLayer<EGRUForwardOptions, EGRUOutput, EGRUGradientsIn, EGRUGradients> {
  protected readonly owner = 'EGRU';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  /** EvNN's options, defaults filled in. */
  readonly settings: EGRUCellSettings;
  protected readonly stack: RecurrentStack;
  private readonly seed: number;
  private calls = 0;

  constructor(o: EGRUOptions) {
    super();
    this.numLayers = checkLayerSizes('EGRU', o);
    const s = egruSettings(o);
    this.settings = s;
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.batchFirst = o.batchFirst ?? false;
    this.seed = o.seed ?? 0;
    const init = new Rng(this.seed, 0xe6a0);
    const name = evnnNaming(o.prefix ?? '');
    const cells = Array.from({ length: this.numLayers }, (_, l) => new EGRUCell({
      ...s, inputSize: l === 0 ? o.inputSize : o.hiddenSize, hiddenSize: o.hiddenSize,
      name: (k) => name(k, l, this.numLayers), init, chunkFloats: o.chunkFloats,
    }));
    this.stack = new RecurrentStack(cells);
  }

  protected *forwardSteps(xIn: Tensor, opts: EGRUForwardOptions): LayerSteps<EGRUOutput> {
    const { x, T, N } = this.timeMajorInput(xIn);
    const H = this.hiddenSize;
    const L = this.numLayers;
    const training = opts.training ?? true;
    const zo = training && this.settings.zoneout > 0 && opts.zoneoutMask ? this.callerMasks('zoneoutMask', opts.zoneoutMask, [T, N, H]) : null;
    const dc = training && this.settings.dropconnect > 0 && opts.dropconnectMask ? this.callerMasks('dropconnectMask', opts.dropconnectMask, [H, 3 * H]) : null;
    const masks = Array.from({ length: L }, (_, l) => ({ ...(zo ? { zoneout: zo[l] } : {}), ...(dc ? { dropconnect: dc[l] } : {}) }));
    const wantO = opts.outputs?.o ?? true;
    const wantTrace = opts.outputs?.trace ?? true;
    const lastTaps = new Set(['c', ...(wantO ? ['o'] : []), ...(wantTrace ? ['trace'] : [])]);
    const noise = opts.noise ?? { seed: this.seed, batch: this.calls++ };
    const r = yield* this.runStack(x, T, N, {
      training, state0: this.initialStates(N, { y: opts.h0 }), masks,
      noise: { seed: noise.seed, epoch: noise.epoch ?? 0, batch: noise.batch ?? 0 },
      taps: Array.from({ length: L }, (_, l) => (l === L - 1 ? lastTaps : undefined)),
    });
    const last = r.taps[L - 1];
    const out = (data: Float32Array): Tensor => this.callerLayout(data, T, N, H);
    return {
      output: out(r.output), c: out(last.c), o: last.o ? out(last.o) : null, trace: last.trace ? out(last.trace) : null,
      hN: this.stacked(r.states.map((st) => st.y), N), stats: r.stats.map(egruStats),
    };
  }

  protected *backwardSteps(g: EGRUGradientsIn, needInputGrad: boolean): LayerSteps<EGRUGradients> {
    const s = this.savedState();
    const H = this.hiddenSize;
    const L = this.numLayers;
    const up = (name: string, t: Tensor | undefined) => this.timeMajorGradient(name, t, s.T, s.N, H) ?? undefined;
    const dhN = this.perLayer('hN gradient', g.hN, s.N);
    const lastTaps = { c: up('c', g.c), o: up('o', g.o), trace: up('trace', g.trace) };
    const r = yield* this.stack.backward(s, {
      output: up('output', g.output) ?? null,
      states: dhN?.map((y) => ({ y })),
      taps: Array.from({ length: L }, (_, l) => (l === L - 1 ? lastTaps : undefined)),
    }, needInputGrad);
    return {
      input: r.input ? this.callerLayout(r.input, s.T, s.N, this.inputSize) : null,
      h0: this.stacked(r.states.map((st) => st.y), s.N), params: this.gradientRecord(),
      stats: r.stats.map((st) => ({ macs: st?.macs ?? 0, macsDense: st?.macsDense ?? 0 })),
    };
  }

  /**
   * A caller's per-layer 0/1 masks: shape `inner` for a single layer, or [numLayers, ...inner];
   * a value other than 0 or 1 is a RangeError naming its index. Returns one byte mask per layer.
   */
  private callerMasks(name: string, given: Tensor, inner: number[]): Uint8Array[] {
    const L = this.numLayers;
    expectShape(name, given, given.shape.length === inner.length && L === 1 ? inner : [L, ...inner]);
    given.data.forEach((v, i) => {
      if (v !== 0 && v !== 1) throw new RangeError(`${name} must hold only 0 and 1, got ${v} at index ${i}`);
    });
    const per = given.data.length / L;
    return Array.from({ length: L }, (_, l) => Uint8Array.from(given.data.subarray(l * per, (l + 1) * per)));
  }
}

function egruStats(s: CellStats | null): Required<EgruStats> {
  return { events: s?.events ?? 0, backwardActive: s?.backwardActive ?? 0, macs: s?.macs ?? 0, macsDense: s?.macsDense ?? 0 };
}
