// The official idx inputs of Fashion-MNIST, from a folder (gzipped or not, under MNIST's naming)
// or downloaded from the official location with the published MD5s. Everything is parsed and
// checked here, before prepare writes anything; errors name the file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { joinUrl } from '../http.js';
import { checkSameCount, parseIdxImages, parseIdxLabels } from '../idx.js';
import { sha256Hex } from '../mnist-download.js';
import { gunzipIfNeeded, isGzip, locateInput, MNIST_INPUTS } from '../mnist-files.js';
import type { MnistInputName } from '../types.js';
import { downloadVerifiedFile } from './download.js';
import { FMNIST_BASE_URL, FMNIST_MD5 } from './files.js';
import type { ImageSet } from './npm-source.js';

export interface IdxFashionMnist {
  train: ImageSet;
  test: ImageSet;
  files: Record<MnistInputName, string>;
  sha256: Record<MnistInputName, string>;
  /** All four inputs gzipped and matching the published MD5s (null when some are not gzipped). */
  officialMd5: boolean | null;
}

interface RawInput {
  file: string;
  /** as stored (possibly gzip) */
  stored: Uint8Array;
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const baseName = (file: string): string => file.split(/[\\/]/).pop() ?? file;

function readStored(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${baseName(path)}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses the four inputs (decompressing gzip by its magic) into train and test image sets; whether
 * they are official is judged against the published MD5s, whatever a download was checked with. */
function parseInputs(raw: Record<MnistInputName, RawInput>): IdxFashionMnist {
  const bytes = {} as Record<MnistInputName, Uint8Array>;
  const files = {} as Record<MnistInputName, string>;
  const sha256 = {} as Record<MnistInputName, string>;
  for (const input of MNIST_INPUTS) {
    const { file, stored } = raw[input];
    files[input] = file;
    bytes[input] = gunzipIfNeeded(stored, baseName(file), file);
    sha256[input] = sha256Hex(bytes[input]);
  }
  const name = (i: MnistInputName): string => baseName(files[i]);
  const images = (i: MnistInputName) => parseIdxImages(bytes[i], name(i), files[i]);
  const labels = (i: MnistInputName) => parseIdxLabels(bytes[i], name(i), files[i]);
  const trainImages = images('train-images-idx3-ubyte');
  const trainLabels = labels('train-labels-idx1-ubyte');
  checkSameCount(name('train-images-idx3-ubyte'), trainImages.count, name('train-labels-idx1-ubyte'), trainLabels.length, files['train-labels-idx1-ubyte']);
  const testImages = images('t10k-images-idx3-ubyte');
  const testLabels = labels('t10k-labels-idx1-ubyte');
  checkSameCount(name('t10k-images-idx3-ubyte'), testImages.count, name('t10k-labels-idx1-ubyte'), testLabels.length, files['t10k-labels-idx1-ubyte']);
  if (trainImages.count === 0) throw new DatasetError(files['train-images-idx3-ubyte'], `${name('train-images-idx3-ubyte')}: contains no images`);
  const allGz = MNIST_INPUTS.every((i) => isGzip(raw[i].stored));
  const officialMd5 = allGz ? MNIST_INPUTS.every((i) => md5(raw[i].stored) === FMNIST_MD5[i]) : null;
  return {
    train: { labels: trainLabels, pixels: trainImages.pixels },
    test: { labels: testLabels, pixels: testImages.pixels },
    files,
    sha256,
    officialMd5,
  };
}

/** The four idx files in `dir`, plain or .gz, official or dotted names. */
export function readIdxFolder(dir: string): IdxFashionMnist {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DatasetError(dir, `Fashion-MNIST source directory ${dir} does not exist or is not a directory`);
  const raw = {} as Record<MnistInputName, RawInput>;
  for (const input of MNIST_INPUTS) {
    const file = locateInput(dir, input);
    raw[input] = { file, stored: readStored(file) };
  }
  return parseInputs(raw);
}

export interface DownloadFashionMnistOptions {
  /** Where the .gz files are kept (`<dataDir>/fmnist/raw`). */
  targetDir: string;
  /** Default: the official location. */
  baseUrl?: string;
  /** Expected MD5 of each .gz file. Default: the published ones (tests inject their own). */
  md5?: Readonly<Record<MnistInputName, string>>;
  log: (m: string) => void;
}

/** Downloads (or reuses the verified copies of) the four .gz files, then parses them. */
export async function downloadIdx(o: DownloadFashionMnistOptions): Promise<IdxFashionMnist> {
  const base = o.baseUrl ?? FMNIST_BASE_URL;
  const md5s = o.md5 ?? FMNIST_MD5;
  const raw = {} as Record<MnistInputName, RawInput>;
  for (const input of MNIST_INPUTS) {
    const target = join(o.targetDir, `${input}.gz`);
    await downloadVerifiedFile({ url: joinUrl(base, `${input}.gz`), target, expected: { algorithm: 'md5', hex: md5s[input] }, log: o.log });
    raw[input] = { file: target, stored: readStored(target) };
  }
  return parseInputs(raw);
}
