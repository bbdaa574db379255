// A minimal HDF5 file writer for test fixtures, written from the HDF5 File Format Specification
// (version 3.0), because h5wasm writes variable-length *strings* only: its create_dataset has no
// numeric VLEN dtype (hdf5_util.cc create_h5_datatype_from_metadata), and SHD's spikes/times and
// spikes/units are numeric VLEN sequences (PyTables VLArrays). It writes superblock version 2,
// version-2 object headers (lookup3 checksums), compact new-style groups (Link Info, Group Info
// and Link messages), 1-D datasets of fixed-point, floating-point and fixed-length string types
// with contiguous storage, and 1-D VLEN-sequence datasets (datatype class 9, a sequence of the
// base type) whose elements live in one global heap collection each, stored contiguously or, as
// PyTables stores VLArrays, extendible and chunked (one chunk, a version-1 B-tree index). The
// HDF5 library inside h5wasm is the judge of the result: the tests read these files back
// through it. Not written: PyTables' attributes (CLASS, VERSION, TITLE), which readers ignore.

export type H5Type =
  | { class: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  | { class: 'float'; size: 4 | 8 }
  | { class: 'string'; size: number };

export type H5Node =
  | { kind: 'group'; children: Record<string, H5Node> }
  | { kind: 'dataset'; type: H5Type; length: number; data: Uint8Array }
  | { kind: 'vlen'; base: H5Type; rows: readonly Uint8Array[]; counts: readonly number[]; chunked: boolean };

type Num = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

const bytesOf = (a: Num): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function typeOf(a: Num): H5Type {
  if (a instanceof Float32Array) return { class: 'float', size: 4 };
  if (a instanceof Float64Array) return { class: 'float', size: 8 };
  if (a instanceof BigInt64Array) return { class: 'int', size: 8, signed: true };
  const size = a.BYTES_PER_ELEMENT as 1 | 2 | 4;
  return { class: 'int', size, signed: a instanceof Int8Array || a instanceof Int16Array || a instanceof Int32Array };
}

export const group = (children: Record<string, H5Node>): H5Node => ({ kind: 'group', children });
/** A 1-D numeric dataset of the array's type (little-endian). */
export const numeric = (a: Num): H5Node => ({ kind: 'dataset', type: typeOf(a), length: a.length, data: bytesOf(a) });
/** A 1-D dataset of fixed-length, null-padded ASCII strings (numpy's "S<n>"). */
export function strings(values: readonly string[]): H5Node {
  const size = Math.max(1, ...values.map((v) => v.length));
  const data = new Uint8Array(size * values.length);
  values.forEach((v, i) => data.set(Buffer.from(v, 'latin1'), i * size));
  return { kind: 'dataset', type: { class: 'string', size }, length: values.length, data };
}
/**
 * A 1-D VLEN-sequence dataset: row i is rows[i] (all of one type). `chunked` stores it as
 * PyTables stores a VLArray: extendible (maximum size unlimited), in chunks indexed by a
 * version-1 B-tree (here one chunk holding every row).
 */
export function vlen(rows: readonly Num[], o: { base?: H5Type; chunked?: boolean } = {}): H5Node {
  const t = o.base ?? (rows.length > 0 ? typeOf(rows[0]) : { class: 'int', size: 4, signed: true });
  return { kind: 'vlen', base: t, rows: rows.map(bytesOf), counts: rows.map((r) => r.length), chunked: o.chunked ?? false };
}

// ---- lookup3 (Bob Jenkins' hashlittle), the checksum of HDF5's version-2 metadata ----

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function lookup3(k: Uint8Array, initval = 0): number {
  let length = k.length;
  let a = (0xdeadbeef + length + initval) >>> 0;
  let b = a;
  let c = a;
  let o = 0;
  const word = (i: number): number => (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24)) >>> 0;
  while (length > 12) {
    a = (a + word(o)) >>> 0;
    b = (b + word(o + 4)) >>> 0;
    c = (c + word(o + 8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c;
  // The tail: bytes added into a, b, c by position, missing bytes counting as zero.
  const tail = new Uint8Array(12);
  tail.set(k.subarray(o, o + length));
  const w = (i: number): number => (tail[i] | (tail[i + 1] << 8) | (tail[i + 2] << 16) | (tail[i + 3] << 24)) >>> 0;
  a = (a + w(0)) >>> 0;
  b = (b + w(4)) >>> 0;
  c = (c + w(8)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

// ---- encoding ----

const UNDEF = 0xffffffffffffffffn;

class Bytes {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: number | bigint): this {
    const b = BigInt(v);
    for (let i = 0n; i < 8n; i++) this.u8(Number((b >> (8n * i)) & 0xffn));
    return this;
  }
  raw(b: Uint8Array): this { for (const x of b) this.parts.push(x); return this; }
  get length(): number { return this.parts.length; }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

function datatype(t: H5Type): Uint8Array {
  const b = new Bytes();
  if (t.class === 'int') {
    // class 0, version 1; little-endian, zero padding, signed bit 3
    b.u8(0x10 | 0).u8(t.signed ? 0x08 : 0).u8(0).u8(0).u32(t.size).u16(0).u16(t.size * 8);
  } else if (t.class === 'float') {
    const f64 = t.size === 8;
    // class 1, version 1; little-endian, mantissa normalisation "implied msb" (2 << 4), sign bit position
    b.u8(0x10 | 1).u8(0x20).u8(f64 ? 63 : 31).u8(0).u32(t.size);
    b.u16(0).u16(t.size * 8).u8(f64 ? 52 : 23).u8(f64 ? 11 : 8).u8(0).u8(f64 ? 52 : 23).u32(f64 ? 1023 : 127);
  } else {
    // class 3, version 1; null padding (1), ASCII
    b.u8(0x10 | 3).u8(0x01).u8(0).u8(0).u32(t.size);
  }
  return b.bytes();
}

function vlenDatatype(base: H5Type): Uint8Array {
  // class 9, version 1; type 0 = sequence; size of one element on disk: 4 (length) + 8 (heap address) + 4 (index)
  return new Bytes().u8(0x10 | 9).u8(0).u8(0).u8(0).u32(16).raw(datatype(base)).bytes();
}

interface Message { type: number; data: Uint8Array }

function objectHeader(messages: readonly Message[]): Uint8Array {
  const body = new Bytes();
  for (const m of messages) body.u8(m.type).u16(m.data.length).u8(0).raw(m.data);
  const h = new Bytes().raw(Buffer.from('OHDR', 'latin1')).u8(2);
  // flags: the "size of chunk 0" field is 4 bytes (2); no times, no attribute phase change
  h.u8(2).u32(body.length).raw(body.bytes());
  const bytes = h.bytes();
  return new Bytes().raw(bytes).u32(lookup3(bytes)).bytes();
}

const dataspace = (n: number, unlimited = false): Message => {
  const b = new Bytes().u8(2).u8(1).u8(unlimited ? 1 : 0).u8(1).u64(n);
  if (unlimited) b.u64(UNDEF);
  return { type: 0x01, data: b.bytes() };
};

/** B-tree version 1 nodes hold up to 2K children; K for chunk indexes defaults to 32. */
const ISTORE_K = 32;

/** A leaf node of a chunk B-tree (node type 1) over one 1-D chunk of `rows` elements of `elSize` bytes at `chunkAt`. */
function chunkBtree(chunkAt: bigint, rows: number, elSize: number): Uint8Array {
  const b = new Bytes().raw(Buffer.from('TREE', 'latin1')).u8(1).u8(0).u16(1).u64(UNDEF).u64(UNDEF);
  // key 0: the chunk's size, filter mask, offsets (row 0, byte 0); child 0; key 1: the offset past it
  b.u32(rows * elSize).u32(0).u64(0).u64(0);
  b.u64(chunkAt);
  b.u32(0).u32(0).u64(rows).u64(0);
  // The library reads whole nodes: room for 2K children and 2K + 1 keys.
  const keySize = 4 + 4 + 2 * 8;
  const full = 24 + (2 * ISTORE_K + 1) * keySize + 2 * ISTORE_K * 8;
  while (b.length < full) b.u8(0);
  return b.bytes();
}

const chunkedLayout = (btreeAt: bigint, rows: number, elSize: number): Message =>
  ({ type: 0x08, data: new Bytes().u8(3).u8(2).u8(2).u64(btreeAt).u32(rows).u32(elSize).bytes() });
// version 3; allocation late (2), fill written if set (2 << 2), no fill value defined
const fillValue: Message = { type: 0x05, data: new Bytes().u8(3).u8(0x0a).bytes() };
const contiguous = (address: bigint, size: number): Message => ({ type: 0x08, data: new Bytes().u8(3).u8(1).u64(size > 0 ? address : UNDEF).u64(size).bytes() });
const linkInfo: Message = { type: 0x02, data: new Bytes().u8(0).u8(0).u64(UNDEF).u64(UNDEF).bytes() };
const groupInfo: Message = { type: 0x0a, data: new Bytes().u8(0).u8(0).bytes() };
function link(name: string, address: bigint): Message {
  const n = Buffer.from(name, 'utf8');
  if (n.length > 255) throw new RangeError(`link name ${name} is too long for this writer`);
  return { type: 0x06, data: new Bytes().u8(1).u8(0).u8(n.length).raw(n).u64(address).bytes() };
}

/** Global heap collection with one object per row (index i + 1), at least 4096 bytes as the library allocates them. */
function globalHeap(rows: readonly Uint8Array[]): Uint8Array {
  const objects = new Bytes();
  rows.forEach((r, i) => {
    objects.u16(i + 1).u16(1).u32(0).u64(r.length).raw(r);
    for (let pad = r.length; pad % 8 !== 0; pad++) objects.u8(0);
  });
  const used = 16 + objects.length;
  const size = Math.max(4096, used + 16);
  const b = new Bytes().raw(Buffer.from('GCOL', 'latin1')).u8(1).u8(0).u8(0).u8(0).u64(size).raw(objects.bytes());
  // Object 0 is the free space: its size counts its own header.
  b.u16(0).u16(0).u32(0).u64(size - used);
  while (b.length < size) b.u8(0);
  return b.bytes();
}

/** The bytes of an HDF5 file whose root group is `root`. */
export function writeHdf5(root: H5Node): Uint8Array {
  if (root.kind !== 'group') throw new TypeError('writeHdf5: the root must be a group');
  // Pass 1 lays out every block (sizes do not depend on addresses: those are 8 bytes each).
  interface Block { at: bigint; bytes: () => Uint8Array }
  const blocks: Block[] = [];
  let end = 48n; // the superblock
  const place = (size: number, bytes: () => Uint8Array): bigint => {
    const at = end;
    blocks.push({ at, bytes });
    end += BigInt(size);
    return at;
  };
  const headerSize = (messages: Message[]): number => objectHeader(messages).length;

  const layout = (node: H5Node): bigint => {
    if (node.kind === 'group') {
      const names = Object.keys(node.children);
      const addrs = names.map((n) => layout(node.children[n]));
      const msgs = [linkInfo, groupInfo, ...names.map((n, i) => link(n, addrs[i]))];
      return place(headerSize(msgs), () => objectHeader(msgs));
    }
    if (node.kind === 'dataset') {
      if (node.data.length !== node.length * node.type.size) throw new RangeError('writeHdf5: dataset data does not match its length and type');
      const dataAt = node.data.length > 0 ? place(node.data.length, () => node.data) : UNDEF;
      const msgs = [dataspace(node.length), { type: 0x03, data: datatype(node.type) }, fillValue, contiguous(dataAt, node.data.length)];
      return place(headerSize(msgs), () => objectHeader(msgs));
    }
    const heap = globalHeap(node.rows);
    const heapAt = place(heap.length, () => heap);
    const elements = new Bytes();
    node.rows.forEach((r, i) => {
      if (r.length !== node.counts[i] * node.base.size) throw new RangeError('writeHdf5: a VLEN row does not match its base type');
      elements.u32(node.counts[i]).u64(heapAt).u32(i + 1);
    });
    const el = elements.bytes();
    const elAt = el.length > 0 ? place(el.length, () => el) : UNDEF;
    const type = { type: 0x03, data: vlenDatatype(node.base) };
    if (node.chunked && node.rows.length > 0) {
      const tree = chunkBtree(elAt, node.rows.length, 16);
      const treeAt = place(tree.length, () => tree);
      const msgs = [dataspace(node.rows.length, true), type, fillValue, chunkedLayout(treeAt, node.rows.length, 16)];
      return place(headerSize(msgs), () => objectHeader(msgs));
    }
    const msgs = [dataspace(node.rows.length), type, fillValue, contiguous(elAt, el.length)];
    return place(headerSize(msgs), () => objectHeader(msgs));
  };
  const rootAt = layout(root);

  const out = new Uint8Array(Number(end));
  const sb = new Bytes().raw(Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  sb.u8(2).u8(8).u8(8).u8(0).u64(0).u64(UNDEF).u64(end).u64(rootAt);
  const head = sb.bytes();
  out.set(head, 0);
  new DataView(out.buffer).setUint32(head.length, lookup3(head), true);
  for (const b of blocks) out.set(b.bytes(), Number(b.at));
  return out;
}
