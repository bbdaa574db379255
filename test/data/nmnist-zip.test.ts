// The random-access zip reader N-MNIST's Train.zip/Test.zip (and SHD's .h5.zip) go through:
// members listed from the central directory, stored and deflated members read one at a time in
// any order, and damage (a flipped byte, a cut archive) named with the archive and the member.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { ZipReader } from '../../src/data/events/zip-reader.js';
import { tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let file: string;
const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251);
const small = Uint8Array.from([1, 2, 3, 4, 5]);
beforeEach(() => {
  tmp = tempDir();
  file = join(tmp.dir, 'Train.zip');
  writeFileSync(file, zipSync({ 'Train/0/a.bin': [small, { level: 0 }], 'Train/1/b.bin': [big, { level: 9 }], 'Train/empty.bin': [new Uint8Array(0), { level: 0 }] }));
});
afterEach(() => tmp.cleanup());

describe('ZipReader', () => {
  it('lists the members and reads stored and deflated ones in any order', () => {
    const z = new ZipReader(file);
    expect(z.members.map((m) => [m.name, m.method, m.size])).toEqual([['Train/0/a.bin', 0, 5], ['Train/1/b.bin', 8, 70_000], ['Train/empty.bin', 0, 0]]);
    expect(Array.from(z.extract(z.members[1]))).toEqual(Array.from(big));
    expect(Array.from(z.extract(z.members[0]))).toEqual(Array.from(small));
    expect(z.extract(z.members[2]).length).toBe(0);
    z.close();
  });

  it('names the member whose bytes do not match its CRC-32', () => {
    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from(small));
    bytes[at + 2] ^= 0xff;
    writeFileSync(file, bytes);
    const z = new ZipReader(file);
    expect(() => z.extract(z.members[0])).toThrow(DatasetError);
    expect(() => z.extract(z.members[0])).toThrow(/^Train\.zip: Train\/0\/a\.bin: CRC-32 [0-9a-f]+ does not match the directory's [0-9a-f]+ \(damaged archive\)$/);
    z.close();
  });

  it('names a cut archive and a file that is not one', () => {
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect(() => new ZipReader(file)).toThrow(/^Train\.zip: damaged zip archive: no end-of-central-directory record/);
    expect(() => new ZipReader(join(tmp.dir, 'none.zip'))).toThrow(/none\.zip: cannot open the zip archive/);
  });

  it('reads ZIP64 sizes and offsets', () => {
    // One stored member whose sizes and offset live only in ZIP64 extra fields, and a ZIP64 end record.
    const name = Buffer.from('Test/7/z.bin');
    const data = Buffer.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
    const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
    const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
    const crc = crc32(data) >>> 0;
    const local = Buffer.concat([u32(0x04034b50), u16(45), u16(0), u16(0), u16(0), u16(0), u32(crc), u32(0xffffffff), u32(0xffffffff), u16(name.length), u16(20), name, u16(1), u16(16), u64(data.length), u64(data.length), data]);
    const central = Buffer.concat([
      u32(0x02014b50), u16(45), u16(45), u16(0), u16(0), u16(0), u16(0), u32(crc), u32(0xffffffff), u32(0xffffffff), u16(name.length), u16(28), u16(0), u16(0), u16(0), u32(0), u32(0xffffffff),
      name, u16(1), u16(24), u64(data.length), u64(data.length), u64(0),
    ]);
    const cdAt = local.length;
    const eocd64At = cdAt + central.length;
    const eocd64 = Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(1), u64(1), u64(central.length), u64(cdAt)]);
    const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(eocd64At), u32(1)]);
    const eocd = Buffer.concat([u32(0x06054b50), u16(0xffff), u16(0xffff), u16(0xffff), u16(0xffff), u32(0xffffffff), u32(0xffffffff), u16(0)]);
    writeFileSync(file, Buffer.concat([local, central, eocd64, locator, eocd]));
    const z = new ZipReader(file);
    expect(z.members.map((m) => [m.name, m.size, m.headerOffset])).toEqual([['Test/7/z.bin', 10, 0]]);
    expect(Array.from(z.extract(z.members[0]))).toEqual(Array.from(data));
    z.close();
  });
});
