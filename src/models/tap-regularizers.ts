// Regularisers on a layer's taps, computed by the engine: EvNN's sMNIST activity term
// constant·(mean(o) − target)² ('mean-target' on tap o) and voltage term
// constant·mean((c − target)²) ('mean-square' on tap c). Only their gradients are used: they
// join the differentiated loss, while the reported loss is the cross-entropy alone, as in EvNN.
import { native } from '../native/addon.js';

export interface TapRegularizer {
  tap: string;
  kind: 'mean-target' | 'mean-square';
  constant: number;
  target: number;
}

/** Adds each active term's gradient into grads[tap] (made as zeros when absent). Returns the terms' values. */
export function addTapRegularizers(
  terms: readonly TapRegularizer[], taps: Readonly<Record<string, Float32Array>>, grads: Record<string, Float32Array>,
): number[] {
  return terms.filter((t) => t.constant > 0).map((t) => {
    const x = taps[t.tap];
    if (!x) throw new Error(`regulariser: the layer returned no '${t.tap}' tap`);
    const grad = (grads[t.tap] ??= new Float32Array(x.length));
    const args = { x, grad, n: x.length, constant: t.constant, target: t.target };
    return (t.kind === 'mean-target' ? native().regularizeMeanTarget(args) : native().regularizeMeanSquare(args)).stats.value;
  });
}
