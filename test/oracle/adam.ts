// Oracle for one torch.optim.Adam / AdamW step on one parameter, in place (step is 1-based):
//   Adam:  g = g + wd·p                 AdamW: p = p·(1 − lr·wd)
//   m = β1·m + (1 − β1)·g ;  v = β2·v + (1 − β2)·g²
//   p = p − (lr / (1 − β1^step)) · m / (√v / √(1 − β2^step) + eps)
import type { AdamOptions } from '../../src/native/addon.js';

// The same option names as the engine's (src/native/addon.ts), so a test passes one object to both.
export type AdamHyper = AdamOptions;

export function adamStep(param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, o: AdamHyper): void {
  if (!Number.isInteger(o.step) || o.step < 1) throw new RangeError(`adamStep: step must be an integer >= 1, got ${o.step}`);
  const bc1 = 1 - Math.pow(o.beta1, o.step);
  const bc2 = 1 - Math.pow(o.beta2, o.step);
  for (let i = 0; i < param.length; i++) {
    let g = grad[i];
    if (o.decoupled) param[i] *= 1 - o.lr * o.weightDecay;
    else g += o.weightDecay * param[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    param[i] -= (o.lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps);
  }
}
