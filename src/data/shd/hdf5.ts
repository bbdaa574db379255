// Reading one official SHD file (shd_train.h5 / shd_test.h5) with h5wasm (the HDF5 C library in
// WebAssembly; its Node build opens host files directly): spikes/times and spikes/units are
// PyTables VLArrays (HDF5 variable-length sequences of float seconds and of integer channels),
// labels an integer array, extra/speaker and extra/keys (class names) optional extras. The
// spikes are read in slices of samples, so the WebAssembly heap holds one slice at a time. Every
// layout problem (a missing or mistyped dataset, mismatched lengths, a unit ≥ 700, a label
// outside 0…19, a negative or non-finite time) is a DatasetError naming the file and the path.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import h5wasm, { Dataset, type File as H5File } from 'h5wasm/node';
import { DatasetError } from '../errors.js';
import { PATHS, SHD_CHANNELS, SHD_NUM_CLASSES } from './layout.js';

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
type FloatArray = Float32Array | Float64Array;

/** One sample's spikes as read: seconds and channels. */
export interface ShdSpikes {
  times: FloatArray;
  units: IntArray;
}

export interface ShdFile {
  count: number;
  labels: Int32Array;
  /** null when the file has no extra/speaker */
  speakers: Int32Array | null;
  /** null when the file has no extra/keys */
  keys: string[] | null;
  /** Samples [from, to), checked. */
  read(from: number, to: number): ShdSpikes[];
  close(): void;
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_VLEN = 9;

const isInts = (v: unknown): v is IntArray =>
  v instanceof Int8Array || v instanceof Uint8Array || v instanceof Int16Array || v instanceof Uint16Array ||
  v instanceof Int32Array || v instanceof Uint32Array || v instanceof BigInt64Array || v instanceof BigUint64Array;
const isFloats = (v: unknown): v is FloatArray => v instanceof Float32Array || v instanceof Float64Array;

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether the HDF5 signature is at 0 or at 512·2^k (after a user block), as the library looks for it. */
function hasHdf5Signature(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(SIGNATURE.length);
    for (let at = 0; at + SIGNATURE.length <= size; at = at === 0 ? 512 : at * 2) {
      if (readSync(fd, buf, 0, buf.length, at) === buf.length && buf.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens the .h5 at `path` and checks its layout; errors name `origin` (default: `path`), the
 * file the user gave (an .h5.gz or .h5.zip is read from its decompressed copy).
 */
export async function openShdFile(path: string, origin = path): Promise<ShdFile> {
  const name = basename(origin);
  if (!existsSync(path)) throw new DatasetError(origin, `${name}: ${path} does not exist`);
  await h5wasm.ready;
  if (!hasHdf5Signature(path)) throw new DatasetError(origin, `${name}: not a readable HDF5 file (no HDF5 signature at offset 0, 512, 1024, …)`);
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (err) {
    throw new DatasetError(origin, `${name}: not a readable HDF5 file (${String((err as Error)?.message ?? err)})`, { cause: err });
  }
  if (f.file_id < 0n) throw new DatasetError(origin, `${name}: not a readable HDF5 file (the HDF5 library could not open it)`);
  const fail = (at: string, what: string): never => {
    throw new DatasetError(origin, `${name}: ${at}: ${what}`);
  };
  try {
    const dataset = (at: string, required: boolean): Dataset | null => {
      let d: unknown;
      try {
        d = f.get(at);
      } catch {
        d = null;
      }
      if (d === null || d === undefined) return required ? fail(at, 'missing (not an SHD file?)') : null;
      if (!(d instanceof Dataset)) return fail(at, 'is not a dataset');
      const shape = d.shape;
      if (!shape || shape.length !== 1) fail(at, `has shape [${shape?.join(', ') ?? ''}], expected one dimension`);
      return d;
    };
    const vlenOf = (at: string, base: number, what: string): Dataset => {
      const d = dataset(at, true)!;
      const m = d.metadata;
      if (m.type !== H5T_VLEN || m.vlen_type?.type !== base) fail(at, `is not a variable-length array of ${what} (HDF5 type class ${m.type}${m.vlen_type ? ` of class ${m.vlen_type.type}` : ''})`);
      return d;
    };
    const ints = (at: string, required: boolean): Int32Array | null => {
      const d = dataset(at, required);
      if (d === null) return null;
      if (d.metadata.type !== H5T_INTEGER) fail(at, `is not an integer array (HDF5 type class ${d.metadata.type})`);
      const v = d.value;
      if (!isInts(v)) return fail(at, 'did not read as an integer array');
      return Int32Array.from(v as ArrayLike<number | bigint>, (x) => Number(x));
    };

    const times = vlenOf(PATHS.times, H5T_FLOAT, 'floats (seconds)');
    const units = vlenOf(PATHS.units, H5T_INTEGER, 'integers (channels)');
    const labels = ints(PATHS.labels, true)!;
    const speakers = ints(PATHS.speaker, false);
    let keys: string[] | null = null;
    const k = dataset(PATHS.keys, false);
    if (k !== null) {
      if (k.metadata.type !== H5T_STRING) fail(PATHS.keys, `is not an array of strings (HDF5 type class ${k.metadata.type})`);
      const v = k.value;
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return fail(PATHS.keys, 'did not read as strings');
      keys = v as string[];
      if (keys.length !== SHD_NUM_CLASSES) fail(PATHS.keys, `holds ${keys.length} class names, expected ${SHD_NUM_CLASSES}`);
    }

    const n = labels.length;
    const rows = (d: Dataset): number => d.shape![0];
    if (rows(times) !== n) fail(PATHS.times, `has ${rows(times)} samples but ${PATHS.labels} has ${n}`);
    if (rows(units) !== n) fail(PATHS.units, `has ${rows(units)} samples but ${PATHS.labels} has ${n}`);
    if (speakers !== null && speakers.length !== n) fail(PATHS.speaker, `has ${speakers.length} entries but ${PATHS.labels} has ${n}`);
    labels.forEach((l, i) => {
      if (!(l >= 0 && l < SHD_NUM_CLASSES)) fail(PATHS.labels, `sample ${i} has label ${l}, outside 0…${SHD_NUM_CLASSES - 1}`);
    });

    const read = (from: number, to: number): ShdSpikes[] => {
      if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= n)) throw new RangeError(`${name}: samples [${from}, ${to}) are outside 0…${n}`);
      if (from === to) return [];
      const tv = times.slice([[from, to]]);
      const uv = units.slice([[from, to]]);
      if (!Array.isArray(tv) || !tv.every(isFloats)) return fail(PATHS.times, 'did not read as float arrays');
      if (!Array.isArray(uv) || !uv.every(isInts)) return fail(PATHS.units, 'did not read as integer arrays');
      return tv.map((t, j) => {
        const i = from + j;
        const u = uv[j] as IntArray;
        if (u.length !== t.length) fail(PATHS.units, `sample ${i} has ${u.length} units but ${t.length} times in ${PATHS.times}`);
        for (let e = 0; e < u.length; e++) {
          const c = Number(u[e]);
          if (!(c >= 0 && c < SHD_CHANNELS)) fail(PATHS.units, `sample ${i}, spike ${e}: unit ${c} is outside 0…${SHD_CHANNELS - 1}`);
          if (!(Number.isFinite(t[e]) && t[e] >= 0)) fail(PATHS.times, `sample ${i}, spike ${e}: time ${t[e]} is not a non-negative number of seconds`);
        }
        return { times: t as FloatArray, units: u };
      });
    };
    return { count: n, labels, speakers, keys, read, close: () => f.close() };
  } catch (err) {
    f.close();
    throw err;
  }
}
