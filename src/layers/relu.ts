// ReLU (PyTorch nn.ReLU) over a tensor of any shape; the backward reads the forward's output, as
// an in-place ReLU leaves nothing else to read.
import { call, runAsync, runSync, type LayerSteps } from './drive.js';
import { SteppedForward } from './feed-forward-layer.js';
import { expectShape, type Tensor } from './tensor.js';

export class ReLU extends SteppedForward {
  private saved: Tensor | null = null;

  backward(dy: Tensor): Tensor {
    return runSync(this.backwardSteps(dy));
  }

  backwardAsync(dy: Tensor): Promise<Tensor> {
    return runAsync(this.backwardSteps(dy));
  }

  *forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor> {
    expectShape('x', x, x.shape.map(() => null));
    const { y } = yield* call('reluForward', { n: x.data.length, x: x.data });
    const out = { data: y, shape: [...x.shape] };
    this.saved = training ? out : null;
    return out;
  }

  *backwardSteps(dy: Tensor): LayerSteps<Tensor> {
    const y = this.saved;
    if (!y) throw new Error('ReLU.backward: call forward in training mode first');
    expectShape('dy', dy, y.shape);
    const { dx } = yield* call('reluBackward', { n: y.data.length, y: y.data, dy: dy.data });
    return { data: dx, shape: [...y.shape] };
  }
}
