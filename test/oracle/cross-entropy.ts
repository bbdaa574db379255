// Oracle for softmax cross-entropy averaged over rows:
//   loss = (1/N) Σ_n [ log Σ_k exp(logit_nk) − logit_n,label_n ]
//   dL/dlogit_nk = (softmax_nk − [k = label_n]) / N
// `correct` counts rows whose first arg-max equals the label.
export interface CrossEntropyOut {
  loss: number;
  dlogits: Float64Array;
  correct: number;
}

export function softmaxCrossEntropy(logits: Float64Array, labels: ArrayLike<number>, N: number, K: number): CrossEntropyOut {
  const dlogits = new Float64Array(N * K);
  let total = 0;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    const label = labels[n];
    if (!Number.isInteger(label) || label < 0 || label >= K) throw new RangeError(`label ${label} of row ${n} is outside [0, ${K})`);
    const row = logits.subarray(n * K, (n + 1) * K);
    let max = -Infinity;
    let argmax = 0;
    for (let k = 0; k < K; k++) {
      if (row[k] > max) {
        max = row[k];
        argmax = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(row[k] - max);
    const logSumExp = max + Math.log(sum);
    total += logSumExp - row[label];
    for (let k = 0; k < K; k++) dlogits[n * K + k] = (Math.exp(row[k] - logSumExp) - (k === label ? 1 : 0)) / N;
    if (argmax === label) correct++;
  }
  return { loss: total / N, dlogits, correct };
}
