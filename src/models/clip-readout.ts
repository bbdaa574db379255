// A keyword spotter's decision for a whole clip from its per-frame logits (DeltaRNN's metric): the
// class of the last frame whose argmax is not silence, or silence when every frame's argmax is.
// Padded frames are trained as silence, so they do not move the decision.

/** logits [T, N, K] time-major → the class of each of the N clips. Ties go to the lower class (argmax). */
export function clipPredictions(logits: Float32Array, T: number, N: number, K: number, silence: number): Int32Array {
  const out = new Int32Array(N).fill(silence);
  for (let n = 0; n < N; n++) {
    for (let t = T - 1; t >= 0; t--) {
      const row = (t * N + n) * K;
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[row + k] > logits[row + best]) best = k;
      if (best !== silence) {
        out[n] = best;
        break;
      }
    }
  }
  return out;
}
