// Oracle for one torch.optim.SGD step on one parameter, in place:
//   d = g + wd·p
//   momentum ≠ 0:  buf = d on the first step, else buf = μ·buf + (1 − dampening)·d
//                  d = nesterov ? d + μ·buf : buf
//   p = p − lr·d
import type { SgdOptions } from '../../src/native/addon.js';

// The same option names as the engine's (src/native/addon.ts), so a test passes one object to both.
export type SgdHyper = SgdOptions;

export function sgdStep(param: Float64Array, grad: Float64Array, buf: Float64Array | null, o: SgdHyper): void {
  if (o.momentum !== 0 && !buf) throw new Error('sgdStep: momentum ≠ 0 needs a momentum buffer');
  for (let i = 0; i < param.length; i++) {
    let d = grad[i] + o.weightDecay * param[i];
    if (o.momentum !== 0 && buf) {
      buf[i] = o.firstStep ? d : o.momentum * buf[i] + (1 - o.dampening) * d;
      d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
    }
    param[i] -= o.lr * d;
  }
}
