// Kernel/stride/padding arguments as PyTorch takes them (an int or an (h, w) pair), checked.

export type Pair = number | readonly [number, number];

/** [h, w] from an int or a pair; every entry an integer >= `min`, named in the error. */
export function pairOf(v: Pair, name: string, owner: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) throw new RangeError(`${owner}: ${name} must be integers >= ${min}, got ${String(v)}`);
  }
  return p;
}

/** ⌊(in + 2·pad − k) / stride⌋ + 1 (PyTorch's floor mode), or 0 when the window does not fit. */
export function outSize(input: number, k: number, stride: number, pad: number): number {
  const span = input + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}
