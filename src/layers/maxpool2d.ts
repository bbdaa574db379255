// 2-D max pooling, PyTorch nn.MaxPool2d (floor mode, dilation 1): NCHW, stride defaulting to the
// window, padding at most half the window. The engine keeps each window's winner (the first
// maximum, as PyTorch picks it) in the saved handle for the backward.
import type { Saved } from '../native/addon.js';
import { call, runAsync, runSync, type LayerSteps } from './drive.js';
import { SteppedForward } from './feed-forward-layer.js';
import { outSize, pairOf, type Pair } from './conv-geometry.js';
import { expectShape, type Tensor } from './tensor.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** default: the kernel size (PyTorch's) */
  stride?: Pair;
  padding?: Pair;
}

/** x [N, C, H, W] → y [N, C, OH, OW]; in training the winners are kept for backward. */
export class MaxPool2d extends SteppedForward {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  private saved: { handle: Saved; shape: readonly number[]; outShape: readonly number[] } | null = null;

  constructor(o: MaxPool2dOptions) {
    super();
    this.kernelSize = pairOf(o.kernelSize, 'kernelSize', 'MaxPool2d', 1);
    this.stride = pairOf(o.stride ?? this.kernelSize, 'stride', 'MaxPool2d', 1);
    this.padding = pairOf(o.padding ?? 0, 'padding', 'MaxPool2d', 0);
    if (2 * this.padding[0] > this.kernelSize[0] || 2 * this.padding[1] > this.kernelSize[1]) {
      throw new RangeError(`MaxPool2d: padding ${this.padding.join('×')} must be at most half the window ${this.kernelSize.join('×')}`);
    }
  }

  /** [OH, OW] for an H×W input (0 where the window does not fit). */
  outputSize(h: number, w: number): [number, number] {
    return [
      outSize(h, this.kernelSize[0], this.stride[0], this.padding[0]),
      outSize(w, this.kernelSize[1], this.stride[1], this.padding[1]),
    ];
  }

  /** dy [N, C, OH, OW] → dx [N, C, H, W] (each dy to its window's winner, summed where windows overlap). */
  backward(dy: Tensor): Tensor {
    return runSync(this.backwardSteps(dy));
  }

  backwardAsync(dy: Tensor): Promise<Tensor> {
    return runAsync(this.backwardSteps(dy));
  }

  *forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor> {
    expectShape('x', x, [null, null, null, null]);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [OH, OW] = this.outputSize(H, W);
    if (OH < 1 || OW < 1) {
      throw new RangeError(`MaxPool2d: the ${this.kernelSize.join('×')} window does not fit the ${H}×${W} input padded by ${this.padding.join('×')}`);
    }
    const [KH, KW] = this.kernelSize, [SH, SW] = this.stride, [PH, PW] = this.padding;
    this.saved?.handle.release();
    this.saved = null;
    const r = yield* call('maxPool2dForward', { N, C, H, W, KH, KW, SH, SW, PH, PW, x: x.data, training });
    const outShape = [N, C, OH, OW];
    if (r.saved) this.saved = { handle: r.saved, shape: [...x.shape], outShape };
    return { data: r.y, shape: outShape };
  }

  *backwardSteps(dy: Tensor): LayerSteps<Tensor> {
    const s = this.saved;
    if (!s) throw new Error('MaxPool2d.backward: call forward in training mode first');
    expectShape('dy', dy, s.outShape);
    const { dx } = yield* call('maxPool2dBackward', { saved: s.handle, dy: dy.data });
    return { data: dx, shape: [...s.shape] };
  }
}
