// The data layer's public surface.
export * from './types.js';
export { DatasetError } from './errors.js';
export { parseIdxImages, parseIdxLabels, MNIST_PIXELS, MNIST_ROWS, MNIST_COLS, MNIST_CLASSES } from './idx.js';
export { encodeImagesArrow, decodeImagesArrow, readImagesArrow, writeImagesArrow } from './arrow-images.js';
export { downloadMnist, sha256Hex } from './mnist-download.js';
export type { DownloadMnistOptions, DownloadedInput } from './mnist-download.js';
export { MNIST_INPUTS, MNIST_MIRRORS, MNIST_SHA256, candidateNames, mnistDataPackageDir } from './mnist-files.js';
export { MNIST_FORMAT_VERSION, mnistDir, metaPath, readMnistMeta, requireMnistMeta } from './mnist-meta.js';
export { splitTrainValid } from './split.js';
export { bitReversalPermutation, randomPermutation, isPermutation, permutationKey, resolvePermutation } from './permutations.js';
export { viewShape, makeBatch } from './views.js';
export { prepareMnist, loadMnistSplit, DEFAULT_VALID_FRACTION, DEFAULT_SPLIT_SEED } from './mnist.js';
export { getDataset, findDataset, datasetNames } from './registry.js';
export type { DatasetModule, DatasetSplits, DatasetMetadata, FeatureExtraction, SplitName } from './registry.js';
export { mnistDataset } from './mnist-dataset.js';
