// Sequence views of MNIST images and the batch builder that runs every training step: it
// writes the engine's time-major [T, N, C] float32 layout directly, pixel values ÷ 255.
import { MNIST_PIXELS } from './idx.js';
import type { MnistBatch, MnistSplit, SequenceView } from './types.js';

const VIEWS: Readonly<Record<SequenceView, { T: number; C: number }>> = {
  smnist: { T: MNIST_PIXELS, C: 1 },
  'smnist-rows': { T: 28, C: 28 },
  psmnist: { T: MNIST_PIXELS, C: 1 },
};

export function checkView(view: string): asserts view is SequenceView {
  if (!Object.prototype.hasOwnProperty.call(VIEWS, view)) {
    throw new RangeError(`unknown view "${view}" (expected ${Object.keys(VIEWS).join(', ')})`);
  }
}

/** Sequence length T and channels per step C of a view. */
export function viewShape(view: SequenceView): { T: number; C: number } {
  checkView(view);
  return { ...VIEWS[view] };
}

/** byte → byte/255 as float32 (identical to float32 division, since 53 ≥ 2·24 + 2 bits). */
const SCALE = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

function checkPermutationArg(view: SequenceView, permutation: Int32Array | null): void {
  if (view === 'psmnist') {
    if (permutation === null) throw new TypeError('makeBatch: view psmnist needs a permutation (see resolvePermutation)');
    if (permutation.length !== MNIST_PIXELS) throw new RangeError(`makeBatch: permutation has ${permutation.length} entries, expected ${MNIST_PIXELS}`);
    for (let i = 0; i < MNIST_PIXELS; i++) {
      const v = permutation[i];
      if (v < 0 || v >= MNIST_PIXELS) throw new RangeError(`makeBatch: permutation[${i}] = ${v} is outside 0..${MNIST_PIXELS - 1}`);
    }
  } else if (permutation !== null) {
    throw new TypeError(`makeBatch: view ${view} reads pixels in order; only psmnist takes a permutation`);
  }
}

/** Builds x [T, N, C] (x[(t·N + n)·C + c] = pixel (t·C + c) of sample n, through the permutation
 * for psmnist) and labels [N] for the given sample indices. `out` buffers are reused when given. */
export function makeBatch(
  split: MnistSplit,
  indices: Int32Array,
  view: SequenceView,
  permutation: Int32Array | null,
  out?: MnistBatch,
): MnistBatch {
  const { T, C } = viewShape(view);
  checkPermutationArg(view, permutation);
  const N = indices.length;
  const x = out?.x ?? new Float32Array(T * N * C);
  const labels = out?.labels ?? new Int32Array(N);
  if (x.length !== T * N * C) throw new RangeError(`makeBatch: out.x has ${x.length} values, expected T·N·C = ${T}·${N}·${C} = ${T * N * C}`);
  if (labels.length !== N) throw new RangeError(`makeBatch: out.labels has ${labels.length} values, expected ${N}`);
  const { pixels, count } = split;
  const srcLabels = split.labels;
  if (pixels.length !== count * MNIST_PIXELS || srcLabels.length !== count) {
    throw new RangeError(`makeBatch: split of ${count} samples has ${srcLabels.length} labels and ${pixels.length} pixels (expected ${count * MNIST_PIXELS})`);
  }
  const bases = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const idx = indices[n];
    if (idx < 0 || idx >= count) throw new RangeError(`makeBatch: sample index ${idx} (position ${n}) is outside 0..${count - 1}`);
    labels[n] = srcLabels[idx];
    bases[n] = idx * MNIST_PIXELS;
  }
  // Step-major loop: x is written contiguously, and the N source images are read as N forward
  // streams (their current cache lines stay resident across steps).
  let dst = 0;
  if (C === 1) {
    for (let t = 0; t < T; t++) {
      const k = permutation === null ? t : permutation[t];
      for (let n = 0; n < N; n++) x[dst++] = SCALE[pixels[bases[n] + k]];
    }
  } else {
    for (let t = 0; t < T; t++) {
      const k0 = t * C;
      for (let n = 0; n < N; n++) {
        const base = bases[n];
        if (permutation === null) {
          for (let c = 0; c < C; c++) x[dst++] = SCALE[pixels[base + k0 + c]];
        } else {
          for (let c = 0; c < C; c++) x[dst++] = SCALE[pixels[base + permutation[k0 + c]]];
        }
      }
    }
  }
  return { x, labels };
}
