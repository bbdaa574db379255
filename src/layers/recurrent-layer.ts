// What the public recurrent layers (GRU, LSTM, EGRU) share: each is a thin RecurrentStack of
// one family's cells with the reference names. This base converts at the boundary — batch-first
// layouts, [numLayers, N, H] state tensors, a caller's masks — and runs the stack's generator
// sync or async (drive.ts). The arithmetic is in the cells' native kernels.
import type { CellState } from './cell.js';
import { runAsync, runSync, type LayerSteps } from './drive.js';
import { loadStateInto, stateOf, zeroGrads, type Parameter, type StateRecord } from './parameters.js';
import type { RecurrentStack, StackForward, StackForwardOptions, StackSaved } from './stack.js';
import { expectShape, swapFirstTwo, type Tensor } from './tensor.js';

export interface BackwardOptions {
  /** Compute the gradient of the input (default true; false for a layer fed by data). */
  needInputGrad?: boolean;
  /**
   * Add into the parameters' grad buffers as they are (a model that zeroes them once per step
   * and uses a weight twice); by default this call's gradients alone are returned.
   */
  accumulate?: boolean;
}

export abstract class RecurrentLayer<ForwardOptions, Output, GradientsIn, Gradients> {
  abstract readonly inputSize: number;
  abstract readonly hiddenSize: number;
  abstract readonly numLayers: number;
  abstract readonly batchFirst: boolean;
  protected abstract readonly stack: RecurrentStack;
  /** Name used in messages ("GRU", "EGRU", "LSTM"). */
  protected abstract readonly owner: string;
  private saved: StackSaved | null = null;

  protected abstract forwardSteps(x: Tensor, opts: ForwardOptions): LayerSteps<Output>;
  protected abstract backwardSteps(grads: GradientsIn, needInputGrad: boolean): LayerSteps<Gradients>;

  parameters(): Parameter[] {
    return this.stack.parameters();
  }

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, this.owner);
  }

  forward(x: Tensor, opts?: ForwardOptions): Output {
    return runSync(this.forwardSteps(x, opts ?? ({} as ForwardOptions)));
  }

  forwardAsync(x: Tensor, opts?: ForwardOptions): Promise<Output> {
    return runAsync(this.forwardSteps(x, opts ?? ({} as ForwardOptions)));
  }

  backward(grads: GradientsIn, opts: BackwardOptions = {}): Gradients {
    if (!opts.accumulate) zeroGrads(this.parameters());
    return runSync(this.backwardSteps(grads, opts.needInputGrad ?? true));
  }

  backwardAsync(grads: GradientsIn, opts: BackwardOptions = {}): Promise<Gradients> {
    if (!opts.accumulate) zeroGrads(this.parameters());
    return runAsync(this.backwardSteps(grads, opts.needInputGrad ?? true));
  }

  /** Checks x (time-major [T, N, C] or batch-first) and returns it time-major with T and N. */
  protected timeMajorInput(xIn: Tensor): { x: Float32Array; T: number; N: number } {
    expectShape('x', xIn, [null, null, this.inputSize]);
    const x = this.batchFirst ? swapFirstTwo(xIn) : xIn;
    return { x: x.data, T: x.shape[0], N: x.shape[1] };
  }

  /** Runs the stack and keeps its saved state for backward (training) or drops it. */
  protected *runStack(x: Float32Array, T: number, N: number, o: StackForwardOptions): LayerSteps<StackForward> {
    this.saved = null;
    const r = yield* this.stack.forward(x, T, N, o);
    this.saved = r.saved;
    return r;
  }

  protected savedState(): StackSaved {
    if (!this.saved) throw new Error(`${this.owner}.backward: call forward in training mode first`);
    return this.saved;
  }

  /** A [numLayers, N, H] state tensor (checked) as one [N, H] view per layer. */
  protected perLayer(name: string, t: Tensor | undefined, N: number): Float32Array[] | undefined {
    if (!t) return undefined;
    expectShape(name, t, [this.numLayers, N, this.hiddenSize]);
    const per = N * this.hiddenSize;
    return Array.from({ length: this.numLayers }, (_, l) => t.data.subarray(l * per, (l + 1) * per));
  }

  /** Initial states per layer from [numLayers, N, H] tensors by state name. */
  protected initialStates(N: number, given: Record<string, Tensor | undefined>): Partial<CellState>[] | undefined {
    const names = Object.keys(given).filter((k) => given[k]);
    if (names.length === 0) return undefined;
    const views = Object.fromEntries(names.map((k) => [k, this.perLayer(k === 'h' || k === 'y' ? 'h0' : `${k}0`, given[k], N)!]));
    return Array.from({ length: this.numLayers }, (_, l) => Object.fromEntries(names.map((k) => [k, views[k][l]])));
  }

  /** Per-layer [N, H] states stacked into one [numLayers, N, H] tensor. */
  protected stacked(states: readonly Float32Array[], N: number): Tensor {
    const per = N * this.hiddenSize;
    const data = new Float32Array(this.numLayers * per);
    states.forEach((s, l) => data.set(s, l * per));
    return { data, shape: [this.numLayers, N, this.hiddenSize] };
  }

  /** A time-major [T, N, size] result in the caller's layout. */
  protected callerLayout(data: Float32Array, T: number, N: number, size: number): Tensor {
    const t: Tensor = { data, shape: [T, N, size] };
    return this.batchFirst ? swapFirstTwo(t) : t;
  }

  /** A gradient given in the caller's layout for a [T, N, size] sequence, time-major. */
  protected timeMajorGradient(name: string, g: Tensor | undefined, T: number, N: number, size: number): Float32Array | null {
    if (!g) return null;
    expectShape(`${name} gradient`, g, this.batchFirst ? [N, T, size] : [T, N, size]);
    return this.batchFirst ? swapFirstTwo(g).data : g.data;
  }

  /** This call's gradient per parameter name (copies: a later backward reuses the buffers). */
  protected gradientRecord(): Record<string, Float32Array> {
    return Object.fromEntries(this.parameters().map((p) => [p.name, p.grad.slice()]));
  }
}
