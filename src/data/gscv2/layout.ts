// Names and places of Google Speech Commands v2: the two official archives (their URLs and pinned
// SHA-256), the folders inside them, and where evnn keeps what it prepares under <dataDir>/gscv2/.
import { join } from 'node:path';
import { GSC_CLASSES } from './clips.js';

/** The two inputs, by the name of their folder (and of their archive without `.tar.gz`). */
export const GSC_MAIN = 'speech_commands_v0.02';
export const GSC_TEST = 'speech_commands_test_set_v0.02';
export const GSC_INPUTS = [GSC_MAIN, GSC_TEST] as const;
export type GscInput = (typeof GSC_INPUTS)[number];

export const archiveName = (input: GscInput): string => `${input}.tar.gz`;

export const GSC_DOWNLOAD_BASE = 'https://storage.googleapis.com/download.tensorflow.org/data/';

/** SHA-256 of the official archives (tensorflow_datasets' url_checksums/speech_commands.txt). */
export const GSC_SHA256: Readonly<Record<GscInput, string>> = {
  [GSC_MAIN]: 'af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58',
  [GSC_TEST]: 'cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df',
};

/** Their sizes in bytes (same source), for the progress shown before the server says. */
export const GSC_ARCHIVE_BYTES: Readonly<Record<GscInput, number>> = {
  [GSC_MAIN]: 2_428_923_189,
  [GSC_TEST]: 112_563_277,
};

export const BACKGROUND_NOISE = '_background_noise_';
export const VALIDATION_LIST = 'validation_list.txt';
export const TESTING_LIST = 'testing_list.txt';

/** The ten command words: the classes that are neither silence nor unknown. */
export const COMMAND_WORDS: readonly string[] = GSC_CLASSES.slice(2);

export const META_FILE = 'meta.json';
export const CLIPS_FILE = 'clips.arrow';

export const gscv2Dir = (dataDir: string): string => join(dataDir, 'gscv2');
/** Archives extracted by evnn: <dataDir>/gscv2/audio/<archive name>/. */
export const audioDir = (dataDir: string): string => join(gscv2Dir(dataDir), 'audio');
/** Generated silence clips (never written into the user's source). */
export const SILENCE_DIR = 'silence';
export const silenceDir = (dataDir: string): string => join(gscv2Dir(dataDir), SILENCE_DIR);
/** Downloaded archives. */
export const downloadDir = (dataDir: string): string => join(gscv2Dir(dataDir), 'download');
export const clipsPath = (dataDir: string): string => join(gscv2Dir(dataDir), CLIPS_FILE);
export const metaPath = (dataDir: string): string => join(gscv2Dir(dataDir), META_FILE);
