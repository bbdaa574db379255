// Random access to the members of a zip file on disk (N-MNIST's Train.zip holds 60 000 small .bin
// files; SHD's shd_train.h5.zip one large .h5): the central directory is read once, and each
// member is read and inflated on its own when asked for, so the archive never sits in memory
// whole and members come out in any order the caller needs. Stored and deflated members, ZIP64
// sizes and offsets; each member's CRC-32 is checked. A damaged archive is a DatasetError
// naming it (and the member).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { inflateSync } from 'fflate';
import { DatasetError } from '../errors.js';

export interface ZipMember {
  /** The path inside the archive, forward slashes. */
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the member's local header. */
  headerOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32 = 0xffffffff;

export class ZipReader {
  readonly members: readonly ZipMember[];
  private fd: number | null;
  private readonly size: number;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'r');
    } catch (err) {
      throw new DatasetError(file, `${file}: cannot open the zip archive: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.size = fstatSync(this.fd).size;
      this.members = this.readDirectory();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private fail(what: string): never {
    throw new DatasetError(this.file, `${basename(this.file)}: damaged zip archive: ${what}`);
  }

  private read(at: number, length: number): Buffer {
    if (this.fd === null) throw new Error(`ZipReader: ${this.file} is closed`);
    if (at < 0 || at + length > this.size) this.fail(`${length} bytes at offset ${at} run past the end of the ${this.size}-byte file (truncated?)`);
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, at + got);
      if (n === 0) this.fail(`unexpected end of file at offset ${at + got}`);
      got += n;
    }
    return buf;
  }

  private readDirectory(): ZipMember[] {
    // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
    const tailLength = Math.min(this.size, 22 + 0xffff);
    const tail = this.read(this.size - tailLength, tailLength);
    let e = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { e = i; break; }
    if (e < 0) this.fail('no end-of-central-directory record (not a zip file, or truncated)');
    const eocdAt = this.size - tailLength + e;
    let entries = tail.readUInt16LE(e + 10);
    let cdSize = tail.readUInt32LE(e + 12);
    let cdOffset = tail.readUInt32LE(e + 16);
    if (entries === 0xffff || cdSize === U32 || cdOffset === U32) {
      const loc = this.read(eocdAt - 20, 20);
      if (loc.readUInt32LE(0) !== EOCD64_LOCATOR) this.fail('ZIP64 sizes without a ZIP64 locator');
      const at = Number(loc.readBigUInt64LE(8));
      const rec = this.read(at, 56);
      if (rec.readUInt32LE(0) !== EOCD64) this.fail(`no ZIP64 end-of-central-directory record at offset ${at}`);
      entries = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    const cd = this.read(cdOffset, cdSize);
    const out: ZipMember[] = [];
    let p = 0;
    for (let k = 0; k < entries; k++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) this.fail(`central directory entry ${k} at offset ${cdOffset + p} is not a central directory header`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      let headerOffset = cd.readUInt32LE(p + 42);
      const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
      const name = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1').replace(/\\/g, '/');
      // ZIP64 extra field: the 64-bit values of the fields stored as 0xffffffff, in this order.
      let x = p + 46 + nameLength;
      const extraEnd = x + extraLength;
      while (x + 4 <= extraEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (size === U32) { size = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (compressedSize === U32) { compressedSize = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (headerOffset === U32) headerOffset = Number(cd.readBigUInt64LE(q));
        }
        x += 4 + len;
      }
      if (flags & 0x1) this.fail(`${name} is encrypted`);
      out.push({ name, method, crc, compressedSize, size, headerOffset });
      p = extraEnd + commentLength;
    }
    return out;
  }

  /** A member's bytes, inflated and CRC-checked. */
  extract(m: ZipMember): Uint8Array {
    const where = `${basename(this.file)}: ${m.name}`;
    const head = this.read(m.headerOffset, 30);
    if (head.readUInt32LE(0) !== LOCAL) this.fail(`${m.name}: no local header at offset ${m.headerOffset}`);
    const dataAt = m.headerOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    const raw = this.read(dataAt, m.compressedSize);
    let data: Uint8Array;
    if (m.method === 0) data = raw;
    else if (m.method === 8) {
      try {
        data = inflateSync(raw, { out: new Uint8Array(m.size) });
      } catch (err) {
        throw new DatasetError(this.file, `${where}: cannot inflate the member: ${(err as Error).message}`, { cause: err });
      }
    } else throw new DatasetError(this.file, `${where}: compression method ${m.method} is not supported (only stored and deflated)`);
    if (data.length !== m.size) throw new DatasetError(this.file, `${where}: inflated to ${data.length} bytes, the directory says ${m.size}`);
    const crc = crc32(data) >>> 0;
    if (crc !== m.crc) throw new DatasetError(this.file, `${where}: CRC-32 ${crc.toString(16)} does not match the directory's ${m.crc.toString(16)} (damaged archive)`);
    return data;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
