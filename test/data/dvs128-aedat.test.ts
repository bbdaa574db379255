// The AEDAT 3.1 reader on files written here: bit fields, the 64-bit timestamp from the packet's
// overflow counter (a wrap), skipped non-polarity packets and invalid events, and damaged files
// reported with the file name and the byte offset.
import { describe, expect, it } from 'vitest';
import { decodeAedat31, PACKET_HEADER_BYTES, readAedatHeader } from '../../src/data/dvs128/aedat.js';
import {
  aedatHeader, AEDAT_HEADER_LINES, encodeAedat31, packet, polarityPacket, polarityRecords, specialPacket, type RawPolarityEvent,
} from '../../src/data/dvs128/fixture-writer.js';
import { DatasetError } from '../../src/data/errors.js';

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const plain = (d: ReturnType<typeof decodeAedat31>): RawPolarityEvent[] => Array.from(d.x, (x, i) => ({ x, y: d.y[i], p: d.p[i], t: d.t[i] }));

function thrown(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('decodeAedat31', () => {
  it('reads x (bits 17-31), y (bits 2-16), polarity (bit 1) and the µs timestamp', () => {
    const ev: RawPolarityEvent[] = [
      { x: 127, y: 0, p: 1, t: 10 },
      { x: 0, y: 127, p: 0, t: 11 },
      { x: 64, y: 33, p: 1, t: 0x7fffffff },
    ];
    const got = decodeAedat31(encodeAedat31(ev, { specialPackets: false }), 'a.aedat');
    expect(plain(got)).toEqual(ev);
  });

  it('extends timestamps with the packet overflow counter: t = overflow · 2^31 + ts (a wrap)', () => {
    const W = 2 ** 31;
    const ev: RawPolarityEvent[] = [
      { x: 1, y: 2, p: 1, t: W - 5 },
      { x: 3, y: 4, p: 0, t: W - 1 },
      { x: 5, y: 6, p: 1, t: W },
      { x: 7, y: 8, p: 0, t: W + 123 },
      { x: 9, y: 10, p: 1, t: 3 * W + 7 },
    ];
    const bytes = encodeAedat31(ev, { specialPackets: false });
    const got = decodeAedat31(bytes, 'wrap.aedat');
    expect(Array.from(got.t)).toEqual(ev.map((e) => e.t));
    // The writer really split the packets at the wrap: three polarity packets with overflow 0, 1, 3.
    const header = readAedatHeader(bytes, 'wrap.aedat');
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    const overflows: number[] = [];
    for (let o = header.end; o < bytes.length; o += PACKET_HEADER_BYTES + v.getInt32(o + 16, true) * 8) overflows.push(v.getInt32(o + 12, true));
    expect(overflows).toEqual([0, 1, 3]);
  });

  it('skips non-polarity packets by their size and invalid events, even ones outside the sensor', () => {
    const a: RawPolarityEvent[] = [{ x: 5, y: 5, p: 1, t: 100 }, { x: 300, y: 400, p: 1, t: 101, valid: false }, { x: 6, y: 7, p: 0, t: 102 }];
    const odd = packet({ type: 2, size: 40, capacity: 3 }, new Uint8Array(120).fill(0xff)); // a frame-like packet, 40-byte events
    const bytes = concat(aedatHeader(), specialPacket(3), polarityPacket(a), odd, polarityPacket([{ x: 1, y: 1, p: 1, t: 200 }]));
    expect(plain(decodeAedat31(bytes, 'mixed.aedat'))).toEqual([a[0], a[2], { x: 1, y: 1, p: 1, t: 200 }]);
  });

  it('reads only eventNumber events of a packet whose capacity is larger', () => {
    const recs = polarityRecords([{ x: 1, y: 1, p: 1, t: 1 }, { x: 2, y: 2, p: 1, t: 2 }, { x: 999, y: 999, p: 1, t: 3 }]);
    const bytes = concat(aedatHeader(), packet({ type: 1, size: 8, capacity: 3, number: 2 }, recs));
    expect(plain(decodeAedat31(bytes, 'cap.aedat')).map((e) => e.x)).toEqual([1, 2]);
  });

  it('accepts a file with no packets', () => {
    expect(decodeAedat31(aedatHeader(), 'empty.aedat').x.length).toBe(0);
  });
});

describe('damaged AEDAT files', () => {
  const good = encodeAedat31([{ x: 1, y: 2, p: 1, t: 5 }, { x: 3, y: 4, p: 0, t: 6 }], { specialPackets: false });
  const headerEnd = aedatHeader().length;

  it('another version line names the version and offset 0', () => {
    const e = thrown(() => decodeAedat31(aedatHeader(['#!AER-DAT2.0', ...AEDAT_HEADER_LINES.slice(1)]), '/x/user01_led.aedat'));
    expect(e.message).toMatch(/^user01_led\.aedat: AEDAT version 2\.0, not 3\.1 at byte offset 0$/);
    expect(e.file).toBe('/x/user01_led.aedat');
  });

  it('a header without #!END-HEADER, or with a line not starting with #, names the offset', () => {
    const noEnd = aedatHeader(AEDAT_HEADER_LINES.slice(0, -1));
    expect(thrown(() => decodeAedat31(noEnd, 'a.aedat')).message).toBe(`a.aedat: the header ends without an #!END-HEADER line (truncated, or not an AEDAT 3.1 file) at byte offset ${noEnd.length}`);
    const bad = concat(aedatHeader(AEDAT_HEADER_LINES.slice(0, 2)), new Uint8Array(Buffer.from('Source 1: DVS128\r\n#!END-HEADER\r\n')));
    expect(thrown(() => decodeAedat31(bad, 'a.aedat')).message).toMatch(new RegExp(`does not start with '#'.* at byte offset ${aedatHeader(AEDAT_HEADER_LINES.slice(0, 2)).length}$`));
    expect(thrown(() => decodeAedat31(new Uint8Array(Buffer.from('\x00\x01binary')), 'b.aedat')).message).toMatch(/at byte offset 0$/);
  });

  it('a truncated packet (header or events) names the packet offset', () => {
    expect(thrown(() => decodeAedat31(good.subarray(0, headerEnd + 10), 'a.aedat')).message).toBe(`a.aedat: truncated packet: 10 bytes left for a 28-byte packet header at byte offset ${headerEnd}`);
    expect(thrown(() => decodeAedat31(good.subarray(0, good.length - 3), 'a.aedat')).message).toMatch(new RegExp(`^a\\.aedat: truncated packet: .* at byte offset ${headerEnd}$`));
  });

  it('a polarity packet whose event size is not 8 is a size mismatch', () => {
    const bytes = concat(aedatHeader(), packet({ type: 1, size: 12, tsOffset: 4, capacity: 1 }, new Uint8Array(12)));
    expect(thrown(() => decodeAedat31(bytes, 'a.aedat')).message).toBe(`a.aedat: event size mismatch: a polarity packet with eventSize 12, polarity events are 8 bytes at byte offset ${headerEnd}`);
  });

  it('an event outside 128×128 names the event offset', () => {
    const second = polarityPacket([{ x: 1, y: 1, p: 1, t: 1 }, { x: 128, y: 3, p: 1, t: 2 }]);
    const bytes = concat(aedatHeader(), specialPacket(1), second);
    const at = headerEnd + specialPacket(1).length + PACKET_HEADER_BYTES + 8;
    expect(thrown(() => decodeAedat31(bytes, 'arc.tar.gz:DvsGesture/user01_led.aedat')).message).toBe(`arc.tar.gz:DvsGesture/user01_led.aedat: the polarity event has x 128, y 3, outside the 128×128 sensor at byte offset ${at}`);
  });

  it('impossible packet header fields are damage', () => {
    const bytes = concat(aedatHeader(), packet({ type: 1, size: 8, capacity: 1, number: 2 }, new Uint8Array(8)));
    expect(thrown(() => decodeAedat31(bytes, 'a.aedat')).message).toMatch(/damaged packet header: eventNumber 2 with eventCapacity 1 at byte offset/);
  });
});
