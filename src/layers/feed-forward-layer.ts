// What the feed-forward layers (Linear, Conv2d, MaxPool2d, ReLU and models built of them) share:
// the sync and async forms of a forward written once as native steps (drive.ts), and for a layer
// with parameters its state, its loading and the backward's grad-buffer handling.
import { runAsync, runSync, type LayerSteps } from './drive.js';
import { loadStateInto, stateOf, zeroGrads, type Parameter, type StateRecord } from './parameters.js';
import type { Tensor } from './tensor.js';

export interface BackwardOptions {
  /** Compute the input's gradient (the default is each layer's: its class says). */
  needInputGrad?: boolean;
  /** Add into the grad buffers as they are (a model zeroes them once per step). */
  accumulate?: boolean;
}

export abstract class SteppedForward {
  /** The forward as native steps, for a model that composes layers inside one sync/async run. */
  abstract forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor>;

  /** In training mode (the default) what the backward reads is kept. */
  forward(x: Tensor, opts: { training?: boolean } = {}): Tensor {
    return runSync(this.forwardSteps(x, opts.training ?? true));
  }

  forwardAsync(x: Tensor, opts: { training?: boolean } = {}): Promise<Tensor> {
    return runAsync(this.forwardSteps(x, opts.training ?? true));
  }
}

export abstract class ParametrizedLayer<Gradients> extends SteppedForward {
  /** The name loadState's errors give. */
  protected abstract readonly stateOwner: string;
  /** needInputGrad when the caller does not give it. */
  protected readonly needInputGradDefault: boolean = true;

  abstract parameters(): Parameter[];

  /** The backward as native steps (adds into the grad buffers as they are). */
  abstract backwardSteps(dy: Tensor, needDx: boolean): LayerSteps<Gradients>;

  state(): StateRecord {
    return stateOf(this.parameters());
  }

  loadState(record: StateRecord): void {
    loadStateInto(this.parameters(), record, this.stateOwner);
  }

  /**
   * dy → gradients of the input and of the parameters. The parameter gradients are added into
   * each parameter's grad buffer; without `accumulate` the buffers are zeroed first, so the result
   * is this call's gradient alone.
   */
  backward(dy: Tensor, opts: BackwardOptions = {}): Gradients {
    if (!opts.accumulate) zeroGrads(this.parameters());
    return runSync(this.backwardSteps(dy, opts.needInputGrad ?? this.needInputGradDefault));
  }

  backwardAsync(dy: Tensor, opts: BackwardOptions = {}): Promise<Gradients> {
    if (!opts.accumulate) zeroGrads(this.parameters());
    return runAsync(this.backwardSteps(dy, opts.needInputGrad ?? this.needInputGradDefault));
  }
}
