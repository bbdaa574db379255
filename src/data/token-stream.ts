// Batching of a language-model token stream as EvNN's benchmarks/lm/data.py does it: `batchify`
// cuts the stream into `batchSize` contiguous columns (column b holds tokens b·steps …
// (b+1)·steps − 1, the remainder that does not fill a row is dropped) laid out time-major
// [steps, batchSize]; `segment` takes rows start … start+T−1 as input and the rows one step later
// as target, with T = min(seqLen, steps − 1 − start), so segments are consumed in order and a
// recurrent state carries from one to the next (no shuffling).

/** A batchified stream: `data[t * batchSize + b]` is token `b * steps + t` of the stream. */
export interface BatchedTokens {
  data: Int32Array;
  steps: number;
  batchSize: number;
}

/** One BPTT segment, both [T, N] time-major: `target` is `input` shifted one step ahead. */
export interface TokenSegment {
  input: Int32Array;
  target: Int32Array;
  steps: number;
  batchSize: number;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
}

/** EvNN's `batchify`: `data[:nb·bsz].view(bsz, nb).t()`. */
export function batchify(tokens: Int32Array, batchSize: number): BatchedTokens {
  positiveInt('batchSize', batchSize);
  const steps = Math.floor(tokens.length / batchSize);
  const data = new Int32Array(steps * batchSize);
  for (let b = 0; b < batchSize; b++) {
    const column = b * steps;
    for (let t = 0; t < steps; t++) data[t * batchSize + b] = tokens[column + t];
  }
  return { data, steps, batchSize };
}

/** EvNN's `get_batch(source, start, seqLen)` (time-major): input rows start…start+T−1, target
 * rows start+1…start+T, T = min(seqLen, steps − 1 − start). */
export function segment(batched: BatchedTokens, start: number, seqLen: number): TokenSegment {
  positiveInt('seqLen', seqLen);
  const { steps, batchSize: N } = batched;
  if (!Number.isInteger(start) || start < 0 || start > steps - 2) {
    throw new RangeError(`segment start must be an integer in 0..${steps - 2} (a stream of ${steps} steps), got ${start}`);
  }
  const T = Math.min(seqLen, steps - 1 - start);
  return {
    input: batched.data.slice(start * N, (start + T) * N),
    target: batched.data.slice((start + 1) * N, (start + 1 + T) * N),
    steps: T,
    batchSize: N,
  };
}

/** Starts of the fixed-length segments EvNN's evaluation loop visits: 0, seqLen, 2·seqLen, … below
 * steps − 1. */
export function segmentStarts(steps: number, seqLen: number): number[] {
  positiveInt('seqLen', seqLen);
  const starts: number[] = [];
  for (let i = 0; i < steps - 1; i += seqLen) starts.push(i);
  return starts;
}
