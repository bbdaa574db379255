// Small synthetic MNIST-format inputs written at test time (never committed): idx files with a
// known pixel pattern, source directories in the official or dotted naming, gzipped or not.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const PIXELS = 784;

/** Pixel k of synthetic image i in split `salt` (any byte value can occur). */
export const pixelValue = (i: number, k: number, salt = 0): number => (i * 31 + k * 7 + salt * 101) % 256;
export const labelValue = (i: number, salt = 0): number => (i * 3 + salt) % 10;

export function idxImages(count: number, salt = 0, opts: { magic?: number; rows?: number; cols?: number } = {}): Uint8Array {
  const rows = opts.rows ?? 28;
  const cols = opts.cols ?? 28;
  const out = new Uint8Array(16 + count * rows * cols);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.magic ?? 0x803);
  v.setUint32(4, count);
  v.setUint32(8, rows);
  v.setUint32(12, cols);
  for (let i = 0; i < count; i++) for (let k = 0; k < rows * cols; k++) out[16 + i * rows * cols + k] = pixelValue(i, k, salt);
  return out;
}

export function idxLabels(count: number, salt = 0, opts: { magic?: number } = {}): Uint8Array {
  const out = new Uint8Array(8 + count);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.magic ?? 0x801);
  v.setUint32(4, count);
  for (let i = 0; i < count; i++) out[8 + i] = labelValue(i, salt);
  return out;
}

export const TRAIN_SALT = 0;
export const TEST_SALT = 1;

export interface SourceDirOptions {
  trainCount?: number;
  testCount?: number;
  gzip?: boolean;
  dotted?: boolean;
  /** Replace a file's content (by canonical name) after generation. */
  replace?: Partial<Record<string, Uint8Array>>;
}

/** Writes the four idx files into `dir`; returns the canonical name → file name used. */
export function writeSourceDir(dir: string, o: SourceDirOptions = {}): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const trainCount = o.trainCount ?? 20;
  const testCount = o.testCount ?? 10;
  const contents: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': idxImages(trainCount, TRAIN_SALT),
    'train-labels-idx1-ubyte': idxLabels(trainCount, TRAIN_SALT),
    't10k-images-idx3-ubyte': idxImages(testCount, TEST_SALT),
    't10k-labels-idx1-ubyte': idxLabels(testCount, TEST_SALT),
    ...o.replace,
  };
  const names: Record<string, string> = {};
  for (const [canonical, bytes] of Object.entries(contents)) {
    let name = o.dotted ? canonical.replace(/-(idx\d)-ubyte$/, '.$1-ubyte') : canonical;
    let data = bytes as Uint8Array;
    if (o.gzip) {
      name += '.gz';
      data = gzipSync(data);
    }
    writeFileSync(join(dir, name), data);
    names[canonical] = name;
  }
  return names;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'evnn-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
