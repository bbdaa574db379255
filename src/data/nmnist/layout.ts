// Names and places of N-MNIST (Orchard et al. 2015): the official Train/Test folders or zips,
// the archives' download locations and MD5s as tonic pins them (tonic/datasets/nmnist.py), the
// sensor, and where evnn keeps what it prepares under <dataDir>/nmnist/.
import { join } from 'node:path';

export const NMNIST = 'nmnist';
export const NMNIST_TITLE = 'N-MNIST';

/** The two official inputs, by their folder name (and their archive's, without `.zip`). */
export const NMNIST_INPUTS = ['Train', 'Test'] as const;
export type NmnistInput = (typeof NMNIST_INPUTS)[number];

/** The official archives on Mendeley Data (dataset 468j46mzdv), as tonic downloads them. */
export const NMNIST_URLS: Readonly<Record<NmnistInput, string>> = {
  Train: 'https://data.mendeley.com/public-files/datasets/468j46mzdv/files/39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded',
  Test: 'https://data.mendeley.com/public-files/datasets/468j46mzdv/files/05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded',
};
/** MD5 of Train.zip and Test.zip (tonic pins the same values for its older Dropbox links). */
export const NMNIST_MD5: Readonly<Record<NmnistInput, string>> = {
  Train: '20959b8e626244a1b502305a9e6e2031',
  Test: '69ca8762b2fe404d9b9bad1103e97832',
};

/** tonic's class names. */
export const NMNIST_CLASSES: readonly string[] = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];

export const NMNIST_WIDTH = 34;
export const NMNIST_HEIGHT = 34;
/** tonic's sensor_size (W, H, P) and event ordering. */
export const NMNIST_SENSOR: [number, number, number] = [NMNIST_WIDTH, NMNIST_HEIGHT, 2];
export const NMNIST_ORDERING = 'xytp';
/** Inputs of the model: both polarities merged, channel = x + 34·y (the reference's units % 1156). */
export const NMNIST_CHANNELS = NMNIST_WIDTH * NMNIST_HEIGHT;
/** The reference's time grid: 300 steps of 1 ms. */
export const NMNIST_STEPS = 300;
export const NMNIST_DT_MS = 1;

export const nmnistDir = (dataDir: string): string => join(dataDir, NMNIST);
export const nmnistDownloadDir = (dataDir: string): string => join(nmnistDir(dataDir), 'download');
export const archiveName = (input: NmnistInput): string => `${input}.zip`;
