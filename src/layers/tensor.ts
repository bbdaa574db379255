// The library's tensor: a flat float32 buffer with a shape. Engine tensors are time-major
// [T, N, C]; layers that accept batch-first input convert at the boundary.
export interface Tensor {
  data: Float32Array;
  shape: readonly number[];
}

export function tensor(data: Float32Array, shape: readonly number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new RangeError(`tensor: data has ${data.length} elements but shape [${shape.join(', ')}] needs ${count}`);
  }
  return { data, shape: [...shape] };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks a tensor argument's rank and (where given) its sizes, naming the argument on error. */
export function expectShape(name: string, t: Tensor, expected: readonly (number | null)[]): void {
  if (!(t.data instanceof Float32Array)) throw new TypeError(`${name} must hold a Float32Array`);
  if (t.shape.length !== expected.length) {
    throw new RangeError(`${name} must have ${expected.length} dimensions, got shape [${t.shape.join(', ')}]`);
  }
  expected.forEach((size, i) => {
    if (size !== null && t.shape[i] !== size) {
      throw new RangeError(`${name} has shape [${t.shape.join(', ')}], expected dimension ${i} to be ${size}`);
    }
  });
  if (numel(t.shape) !== t.data.length) {
    throw new RangeError(`${name} has ${t.data.length} elements but shape [${t.shape.join(', ')}]`);
  }
}

/** [N, T, C] <-> [T, N, C] transpose (its own inverse with the first two sizes swapped). */
export function swapFirstTwo(t: Tensor): Tensor {
  const [a, b, c] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      out.set(t.data.subarray((i * b + j) * c, (i * b + j + 1) * c), (j * a + i) * c);
    }
  }
  return { data: out, shape: [b, a, c] };
}

/**
 * Binary spike events of a batch, compactly: row r = b·T + t (sample b, time step t) holds the
 * channels index[offsets[r] .. offsets[r+1]), ascending and without repeats (duplicate events in a
 * bin count once). Every event has the value 1. This is what event datasets serve and what the
 * LIF layers read, so a batch never becomes a dense [B, T, C] array.
 */
export interface SpikeEvents {
  /** samples */
  B: number;
  /** time steps */
  T: number;
  /** channels (the first layer's input size) */
  C: number;
  /** B·T + 1 row starts */
  offsets: Int32Array;
  /** channel of each event */
  index: Int32Array;
}
