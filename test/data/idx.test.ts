import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { parseIdxImages, parseIdxLabels } from '../../src/data/idx.js';
import { idxImages, idxLabels, pixelValue } from './fixtures.js';

function errorOf(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError, nothing was thrown');
}

describe('idx parsing', () => {
  it('reads 20 synthetic images and labels', () => {
    const images = parseIdxImages(idxImages(20), 'train-images-idx3-ubyte');
    expect(images.count).toBe(20);
    expect(images.pixels.length).toBe(20 * 784);
    expect(images.pixels[0]).toBe(pixelValue(0, 0));
    expect(images.pixels[5 * 784 + 300]).toBe(pixelValue(5, 300));
    expect(images.pixels[19 * 784 + 783]).toBe(pixelValue(19, 783));
    const labels = parseIdxLabels(idxLabels(20), 'train-labels-idx1-ubyte');
    expect(Array.from(labels.subarray(0, 5))).toEqual([0, 3, 6, 9, 2]);
  });

  it('names the file and the sizes when images are truncated', () => {
    const bytes = idxImages(20).subarray(0, 1000);
    const err = errorOf(() => parseIdxImages(bytes, 'train-images-idx3-ubyte', '/x/train-images-idx3-ubyte'));
    expect(err.message).toBe('train-images-idx3-ubyte: truncated: header says 20 images of 28x28 (15696 bytes) but the file has 1000 bytes');
    expect(err.file).toBe('/x/train-images-idx3-ubyte');
  });

  it('says the sizes refer to the decompressed content of a .gz input', () => {
    const err = errorOf(() => parseIdxImages(idxImages(2).subarray(0, 100), 'train-images-idx3-ubyte.gz'));
    expect(err.message).toBe('train-images-idx3-ubyte.gz: truncated: header says 2 images of 28x28 (1584 bytes) but the decompressed file has 100 bytes');
  });

  it('rejects a file shorter than the header', () => {
    expect(() => parseIdxLabels(idxLabels(3).subarray(0, 5), 'l')).toThrow('l: truncated: the file has 5 bytes, fewer than the 8-byte idx1 header');
  });

  it('rejects extra data after the last image', () => {
    const long = new Uint8Array(idxImages(2).length + 3);
    long.set(idxImages(2));
    expect(() => parseIdxImages(long, 'i')).toThrow('i: wrong size: header says 2 images of 28x28 (1584 bytes) but the file has 1587 bytes (extra data after the last image)');
  });

  it('rejects a wrong magic number and recognises a swapped file', () => {
    expect(() => parseIdxImages(idxLabels(3), 'train-images-idx3-ubyte')).toThrow(
      'train-images-idx3-ubyte: wrong magic number 0x00000801, expected 0x00000803 for idx3 images (that is an idx1 labels file)',
    );
    expect(() => parseIdxLabels(idxLabels(3, 0, { magic: 0x12345678 }), 'lab')).toThrow(
      'lab: wrong magic number 0x12345678, expected 0x00000801 for idx1 labels',
    );
  });

  it('rejects images that are not 28x28', () => {
    expect(() => parseIdxImages(idxImages(2, 0, { rows: 32, cols: 32 }), 'img')).toThrow('img: images are 32x32, expected 28x28');
  });

  it('rejects labels outside 0..9', () => {
    const bytes = idxLabels(4);
    bytes[8 + 2] = 12;
    expect(() => parseIdxLabels(bytes, 'lab')).toThrow('lab: label 12 at index 2 is outside 0..9');
  });
});
