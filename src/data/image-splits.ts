// The three split files of a prepared image dataset (MNIST, Fashion-MNIST): the validation split
// carved out of train by (valid fraction, seed) and the three written as images Arrow, then one
// loaded back and checked against meta.json's row count.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readImagesArrow, writeImagesArrow } from './arrow-images.js';
import { DatasetError } from './errors.js';
import { gatherImages, splitTrainValid } from './split.js';
import type { MnistSplit, MnistSplitName } from './types.js';

export const IMAGE_SPLIT_FILES: Readonly<Record<MnistSplitName, string>> = { train: 'train.arrow', valid: 'valid.arrow', test: 'test.arrow' };

interface Images {
  labels: Int8Array;
  pixels: Uint8Array;
}

/**
 * Splits `train` into train and valid, then writes train, valid and test into `dir`. `metaFile` is
 * removed first: the directory stops counting as prepared before any split file changes.
 */
export function writeImageSplits(
  dir: string, metaFile: string, train: Images, test: Images, validFraction: number, splitSeed: number, log: (m: string) => void,
): Record<MnistSplitName, number> {
  const parts = splitTrainValid(train.labels.length, validFraction, splitSeed);
  const tr = gatherImages(train.labels, train.pixels, parts.train);
  const va = gatherImages(train.labels, train.pixels, parts.valid);
  rmSync(metaFile, { force: true });
  const f = IMAGE_SPLIT_FILES;
  log(`writing ${f.train} (${parts.train.length} images), ${f.valid} (${parts.valid.length}), ${f.test} (${test.labels.length})`);
  writeImagesArrow(join(dir, f.train), tr.labels, tr.pixels);
  writeImagesArrow(join(dir, f.valid), va.labels, va.pixels);
  writeImagesArrow(join(dir, f.test), test.labels, test.pixels);
  return { train: parts.train.length, valid: parts.valid.length, test: test.labels.length };
}

/** One split of the prepared dataset in `dir` (its meta read after the split name is checked). */
export function loadImageSplit(
  dir: string, meta: () => { files: Record<MnistSplitName, string>; sizes: Record<MnistSplitName, number> }, split: MnistSplitName,
): MnistSplit {
  if (split !== 'train' && split !== 'valid' && split !== 'test') throw new RangeError(`unknown split "${String(split)}" (expected train, valid or test)`);
  const m = meta();
  const path = join(dir, m.files[split]);
  const data = readImagesArrow(path);
  if (data.count !== m.sizes[split]) {
    throw new DatasetError(path, `${m.files[split]}: has ${data.count} rows but meta.json says ${m.sizes[split]}; re-prepare with --force`);
  }
  return data;
}
