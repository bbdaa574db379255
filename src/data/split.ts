// The validation split carved out of the official training set: a seeded permutation decides
// membership, and each part keeps ascending original order so the Arrow files are stable and
// easy to compare.
import { Rng } from '../util/rng.js';
import { MNIST_PIXELS } from './idx.js';

export interface TrainValidIndices {
  train: Int32Array;
  valid: Int32Array;
}

export function checkValidFraction(validFraction: number): void {
  if (!(Number.isFinite(validFraction) && validFraction >= 0 && validFraction < 1)) {
    throw new RangeError(`validFraction must be a number in [0, 1), got ${validFraction}`);
  }
}

export function checkSplitSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new RangeError(`splitSeed must be an integer, got ${seed}`);
}

/** First round((1 − f)·count) entries of Rng(seed).permutation(count) train, the rest validate. */
export function splitTrainValid(count: number, validFraction: number, seed: number): TrainValidIndices {
  checkValidFraction(validFraction);
  checkSplitSeed(seed);
  const trainCount = Math.round((1 - validFraction) * count);
  if (trainCount === 0 && count > 0) {
    throw new RangeError(`validFraction ${validFraction} leaves no training images out of ${count}`);
  }
  const perm = new Rng(seed).permutation(count);
  return { train: perm.slice(0, trainCount).sort(), valid: perm.slice(trainCount).sort() };
}

/** 1 for each of `count` samples that splitTrainValid puts in valid, 0 for train. */
export function validMask(count: number, validFraction: number, seed: number): Uint8Array {
  const mask = new Uint8Array(count);
  for (const i of splitTrainValid(count, validFraction, seed).valid) mask[i] = 1;
  return mask;
}

/** Copies the chosen images (and labels) into new contiguous arrays. */
export function gatherImages(labels: Int8Array, pixels: Uint8Array, indices: Int32Array): { labels: Int8Array; pixels: Uint8Array } {
  const outLabels = new Int8Array(indices.length);
  const outPixels = new Uint8Array(indices.length * MNIST_PIXELS);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    outLabels[i] = labels[src];
    outPixels.set(pixels.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
  }
  return { labels: outLabels, pixels: outPixels };
}
