// Reader and writer for the safetensors format (8-byte little-endian header length, a JSON header
// of name -> {dtype, shape, data_offsets} plus optional "__metadata__" strings, then the raw
// little-endian tensor bytes). Hand-written because the format is tiny and the npm packages for
// it are unmaintained; checkpoints written here load with PyTorch's safetensors.torch.load_file.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

export type SafeDType = 'F32' | 'F64' | 'I32' | 'I64' | 'I8' | 'U8';
export type SafeArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: SafeArray;
}

export class SafetensorsError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

const BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, I8: 1, U8: 1 };

function dtypeOf(a: SafeArray): SafeDType {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Float64Array) return 'F64';
  if (a instanceof Int32Array) return 'I32';
  if (a instanceof BigInt64Array) return 'I64';
  if (a instanceof Int8Array) return 'I8';
  return 'U8';
}

function view(dtype: SafeDType, bytes: Uint8Array): SafeArray {
  // Copy into a fresh aligned buffer: offsets inside the file need not be aligned.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  switch (dtype) {
    case 'F32': return new Float32Array(copy.buffer);
    case 'F64': return new Float64Array(copy.buffer);
    case 'I32': return new Int32Array(copy.buffer);
    case 'I64': return new BigInt64Array(copy.buffer);
    case 'I8': return new Int8Array(copy.buffer);
    case 'U8': return copy;
  }
}

/** Serialises tensors (in insertion order) and string metadata into safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, { shape: readonly number[]; data: SafeArray }>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(`safetensors: tensor ${name} has ${t.data.length} elements but shape [${t.shape.join(', ')}]`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to an 8-byte boundary so tensor data is aligned for readers.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [len, headerBytes, ...chunks];
}

export function writeSafetensors(
  file: string,
  tensors: Record<string, { shape: readonly number[]; data: SafeArray }>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(file: string, buf: Uint8Array): SafetensorsFile {
  if (buf.byteLength < 8) throw new SafetensorsError(file, `truncated: ${buf.byteLength} bytes, too short for a header`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > buf.byteLength) throw new SafetensorsError(file, `truncated: header of ${n} bytes but the file has ${buf.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError(file, 'the header is not valid JSON (not a safetensors file?)');
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e.dtype || !(e.dtype in BYTES) || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new SafetensorsError(file, `tensor ${name}: unsupported or malformed entry ${JSON.stringify(entry)}`);
    }
    const dtype = e.dtype as SafeDType;
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      throw new SafetensorsError(file, `tensor ${name}: ${end - begin} bytes do not match shape [${e.shape.join(', ')}] of ${dtype}`);
    }
    if (dataStart + end > buf.byteLength) {
      throw new SafetensorsError(file, `truncated: tensor ${name} ends at byte ${dataStart + end} but the file has ${buf.byteLength}`);
    }
    tensors.set(name, { dtype, shape: e.shape, data: view(dtype, buf.subarray(dataStart + begin, dataStart + end)) });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Uint8Array;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new SafetensorsError(file, `cannot be read: ${(err as Error).message}`);
  }
  return decodeSafetensors(file, buf);
}
