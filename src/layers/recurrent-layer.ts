// What the recurrent library layers (GRU, EGRU) share: state()/loadState() over their named
// parameters, sync and async forward/backward from one generator each (drive.ts), and the
// input-side checks and batch-first conversions at the boundary.
import { runAsync, runSync, type LayerSteps } from './drive.js';
import { loadStateInto, stateOf, type Parameter, type StateRecord } from './parameters.js';
import { expectShape, swapFirstTwo, type Tensor } from './tensor.js';

export interface BackwardOptions {
  /** Compute the gradient of the input (default true; false for a layer fed by data). */
  needInputGrad?: boolean;
}

export abstract class RecurrentLayer<ForwardOptions extends { h0?: Tensor }, Output, GradientsIn, Gradients> {
  abstract readonly inputSize: number;
  abstract readonly hiddenSize: number;
  abstract readonly numLayers: number;
  abstract readonly batchFirst: boolean;

  /** Name used in loadState's messages ("GRU", "EGRU"). */
  protected abstract readonly owner: string;

  abstract parameters(): Parameter[];

  protected abstract forwardSteps(x: Tensor, opts: ForwardOptions): LayerSteps<Output>;
  protected abstract backwardSteps(grads: GradientsIn, needInputGrad: boolean): LayerSteps<Gradients>;

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
    return runSync(this.backwardSteps(grads, opts.needInputGrad ?? true));
  }

  backwardAsync(grads: GradientsIn, opts: BackwardOptions = {}): Promise<Gradients> {
    return runAsync(this.backwardSteps(grads, opts.needInputGrad ?? true));
  }

  /** Checks x (and h0 [numLayers, N, H]) and returns x time-major with its T and N. */
  protected timeMajorInput(xIn: Tensor, h0: Tensor | undefined): { x: Tensor; T: number; N: number } {
    expectShape('x', xIn, [null, null, this.inputSize]);
    const x = this.batchFirst ? swapFirstTwo(xIn) : xIn;
    const [T, N] = x.shape;
    if (h0) expectShape('h0', h0, [this.numLayers, N, this.hiddenSize]);
    return { x, T, N };
  }

  /** A time-major [T, N, size] result in the caller's layout. */
  protected callerLayout(data: Float32Array, T: number, N: number, size: number): Tensor {
    const t: Tensor = { data, shape: [T, N, size] };
    return this.batchFirst ? swapFirstTwo(t) : t;
  }

  /** A gradient given in the caller's layout for a [T, N, size] sequence, time-major. */
  protected timeMajorGradient(name: string, g: Tensor, T: number, N: number, size: number): Float32Array {
    expectShape(`${name} gradient`, g, this.batchFirst ? [N, T, size] : [T, N, size]);
    return this.batchFirst ? swapFirstTwo(g).data : g.data;
  }
}
