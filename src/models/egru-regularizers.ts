// The gradients of EvNN's sMNIST regularisers on the last EGRU layer:
//   activity: constant · (mean(o) − target)²        → dL/do_i = 2·constant·(mean(o) − target)/n
//   voltage:  constant · mean((c − target)²)         → dL/dc_i = 2·constant·(c_i − target)/n
// (n = T·N·H). Only their gradients are needed: they join the differentiated loss, while the
// reported loss is the cross-entropy alone, as in EvNN.
export interface Regularizer {
  constant: number;
  target: number;
}

export interface RegularizerTerms {
  /** gradients into o and c, or null where the term is off */
  dO: Float32Array | null;
  dC: Float32Array | null;
}

/** o may be null when the activity term is off (the forward then keeps no o). */
export function egruRegularizers(
  o: Float32Array | null, c: Float32Array, activity: Regularizer | undefined, voltage: Regularizer | undefined,
): RegularizerTerms {
  const n = c.length;
  let dO: Float32Array | null = null;
  let dC: Float32Array | null = null;
  if (activity && activity.constant > 0) {
    if (!o) throw new Error('egruRegularizers: the activity term needs the events o');
    let sum = 0;
    for (let i = 0; i < n; i++) sum += o[i];
    const gap = sum / n - activity.target;
    dO = new Float32Array(n).fill((2 * activity.constant * gap) / n);
  }
  if (voltage && voltage.constant > 0) {
    dC = new Float32Array(n);
    const scale = (2 * voltage.constant) / n;
    for (let i = 0; i < n; i++) dC[i] = scale * (c[i] - voltage.target);
  }
  return { dO, dC };
}
