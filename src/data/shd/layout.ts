// Names and places of the Spiking Heidelberg Digits (Cramer et al. 2020): the official HDF5 files
// (shd_train.h5, shd_test.h5; distributed gzipped and zipped), the zips' download location and
// MD5s as tonic pins them (tonic/datasets/hsd.py), tonic's event conventions, the reference's
// time grid, and where evnn keeps what it prepares under <dataDir>/shd/.
import { join } from 'node:path';

export const SHD = 'shd';
export const SHD_TITLE = 'SHD';

export const SHD_INPUTS = ['train', 'test'] as const;
export type ShdInput = (typeof SHD_INPUTS)[number];

export const h5Name = (input: ShdInput): string => `shd_${input}.h5`;
/** The official archive names: tonic downloads the zips; the site also serves .h5.gz. */
export const zipName = (input: ShdInput): string => `${h5Name(input)}.zip`;
export const gzName = (input: ShdInput): string => `${h5Name(input)}.gz`;

export const SHD_DOWNLOAD_BASE = 'https://zenkelab.org/datasets/';
/** MD5 of shd_train.h5.zip and shd_test.h5.zip (tonic/datasets/hsd.py). */
export const SHD_ZIP_MD5: Readonly<Record<ShdInput, string>> = {
  train: 'f3252aeb598ac776c1b526422d90eecb',
  test: '1503a5064faa34311c398fb0a1ed0a6f',
};

/** tonic's sensor_size (700 channels, 1 row, 1 polarity) and ordering; x = unit, y = 0, p = 1. */
export const SHD_CHANNELS = 700;
export const SHD_SENSOR: [number, number, number] = [SHD_CHANNELS, 1, 1];
export const SHD_ORDERING = 'txp';
export const SHD_NUM_CLASSES = 20;
/** The reference's time grid: 500 steps of 2 ms. */
export const SHD_STEPS = 500;
export const SHD_DT_MS = 2;

/** The HDF5 datasets read (PyTables VLArrays for the spikes). */
export const PATHS = {
  times: 'spikes/times',
  units: 'spikes/units',
  labels: 'labels',
  speaker: 'extra/speaker',
  keys: 'extra/keys',
} as const;

export const shdDir = (dataDir: string): string => join(dataDir, SHD);
export const shdDownloadDir = (dataDir: string): string => join(shdDir(dataDir), 'download');
/** Decompressed .h5 files while they are read (removed afterwards). */
export const shdWorkDir = (dataDir: string): string => join(shdDir(dataDir), 'unpacked');
