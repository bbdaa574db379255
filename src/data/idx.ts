// Parser for the idx format of the official MNIST files (big-endian header, then raw unsigned
// bytes). Every check names the file and says what is wrong, since a truncated download or a
// labels file passed as images is the common failure.
import { DatasetError } from './errors.js';

export const IDX_LABELS_MAGIC = 0x00000801; // idx1, unsigned byte
export const IDX_IMAGES_MAGIC = 0x00000803; // idx3, unsigned byte
export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
export const MNIST_CLASSES = 10;

export interface IdxImages {
  count: number;
  /** count × 784 bytes, row-major per image (a view of the input, not a copy). */
  pixels: Uint8Array;
}

/** For a gzipped input the sizes refer to its decompressed content. */
const fileHas = (name: string, n: number): string => `${name.endsWith('.gz') ? 'the decompressed file' : 'the file'} has ${n} bytes`;

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function magicHint(magic: number): string {
  if (magic === IDX_LABELS_MAGIC) return ' (that is an idx1 labels file)';
  if (magic === IDX_IMAGES_MAGIC) return ' (that is an idx3 images file)';
  if (magic >>> 16 === 0x1f8b) return ' (the file looks gzip-compressed but was not decompressed)';
  return '';
}

/** Parses an idx3 images file of 28×28 images. `name` prefixes messages; `file` is the path. */
export function parseIdxImages(bytes: Uint8Array, name: string, file: string = name): IdxImages {
  const fail = (what: string): never => {
    throw new DatasetError(file, `${name}: ${what}`);
  };
  const headerShort = (): never => fail(`truncated: ${fileHas(name, bytes.byteLength)}, fewer than the 16-byte idx3 header`);
  if (bytes.byteLength < 4) headerShort();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_IMAGES_MAGIC) {
    fail(`wrong magic number ${hex(magic)}, expected ${hex(IDX_IMAGES_MAGIC)} for idx3 images${magicHint(magic)}`);
  }
  if (bytes.byteLength < 16) headerShort();
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  if (rows !== MNIST_ROWS || cols !== MNIST_COLS) fail(`images are ${rows}x${cols}, expected ${MNIST_ROWS}x${MNIST_COLS}`);
  const expected = 16 + count * rows * cols;
  const header = `header says ${count} images of ${rows}x${cols} (${expected} bytes) but ${fileHas(name, bytes.byteLength)}`;
  if (bytes.byteLength < expected) fail(`truncated: ${header}`);
  if (bytes.byteLength > expected) fail(`wrong size: ${header} (extra data after the last image)`);
  return { count, pixels: bytes.subarray(16, expected) };
}

/** Parses an idx1 labels file; every label must be a class 0..9. */
export function parseIdxLabels(bytes: Uint8Array, name: string, file: string = name): Int8Array {
  const fail = (what: string): never => {
    throw new DatasetError(file, `${name}: ${what}`);
  };
  const headerShort = (): never => fail(`truncated: ${fileHas(name, bytes.byteLength)}, fewer than the 8-byte idx1 header`);
  if (bytes.byteLength < 4) headerShort();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_LABELS_MAGIC) {
    fail(`wrong magic number ${hex(magic)}, expected ${hex(IDX_LABELS_MAGIC)} for idx1 labels${magicHint(magic)}`);
  }
  if (bytes.byteLength < 8) headerShort();
  const count = view.getUint32(4);
  const expected = 8 + count;
  const header = `header says ${count} labels (${expected} bytes) but ${fileHas(name, bytes.byteLength)}`;
  if (bytes.byteLength < expected) fail(`truncated: ${header}`);
  if (bytes.byteLength > expected) fail(`wrong size: ${header} (extra data after the last label)`);
  const raw = bytes.subarray(8, expected);
  for (let i = 0; i < count; i++) {
    if (raw[i] >= MNIST_CLASSES) fail(`label ${raw[i]} at index ${i} is outside 0..${MNIST_CLASSES - 1}`);
  }
  return new Int8Array(raw.buffer, raw.byteOffset, count);
}

/** Images and labels of one official split must describe the same number of samples. */
export function checkSameCount(imagesName: string, imageCount: number, labelsName: string, labelCount: number, labelsFile: string): void {
  if (imageCount !== labelCount) {
    throw new DatasetError(
      labelsFile,
      `${labelsName}: has ${labelCount} labels but ${imagesName} has ${imageCount} images; the two files do not belong together`,
    );
  }
}
