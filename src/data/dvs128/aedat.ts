// Reading AEDAT 3.1 files (iniVation's specification, as libcaer writes them): a text header of
// lines that start with '#' and end with CRLF, opened by `#!AER-DAT3.1` and closed by
// `#!END-HEADER`, then event packets. A packet is a 28-byte little-endian header
//   0 eventType int16 · 2 eventSource int16 · 4 eventSize int32 · 8 eventTSOffset int32 ·
//   12 eventTSOverflow int32 · 16 eventCapacity int32 · 20 eventNumber int32 · 24 eventValid int32
// followed by eventCapacity events of eventSize bytes, of which the first eventNumber are in use
// (files are written with capacity = number; readers skip capacity · size as libcaer does).
// Polarity events (eventType 1) are 8 bytes: a 32-bit data word (bit 0 valid, bit 1 polarity,
// bits 2-16 y, bits 17-31 x; origin top left) and a 31-bit timestamp in µs, extended to 64 bits
// with the packet's overflow counter: t = eventTSOverflow · 2^31 + timestamp. Other packet types
// are skipped; invalid events (bit 0 clear) are dropped, as the specification says.
import { basename } from 'node:path';
import { DatasetError } from '../errors.js';
import { DVS128_HEIGHT, DVS128_WIDTH } from './layout.js';

export const VERSION_LINE = '#!AER-DAT3.1';
export const END_LINE = '#!END-HEADER';
export const PACKET_HEADER_BYTES = 28;
export const POLARITY_EVENT = 1;
export const POLARITY_EVENT_BYTES = 8;
export const POLARITY_TS_OFFSET = 4;
export const TS_OVERFLOW_SHIFT = 2 ** 31;

/** The valid polarity events of a file, in file order. */
export interface AedatEvents {
  x: Int16Array;
  y: Int16Array;
  p: Int8Array;
  /** µs, the full 64-bit timestamp as a float64 (exact below 2^53 µs, 285 years) */
  t: Float64Array;
}

export interface AedatHeader {
  /** The header lines without CRLF, version line first, end line last. */
  lines: string[];
  /** Byte offset of the first packet. */
  end: number;
}

type Fail = (offset: number, what: string) => never;

function failer(file: string): Fail {
  const name = file.includes(':') ? file : basename(file);
  return (offset, what) => {
    throw new DatasetError(file, `${name}: ${what} at byte offset ${offset}`);
  };
}

const latin1 = (bytes: Uint8Array, from: number, to: number): string => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');

/** The header of an AEDAT 3.1 file; `file` names it in errors (a path, or archive:member). */
export function readAedatHeader(bytes: Uint8Array, file: string, fail: Fail = failer(file)): AedatHeader {
  const lines: string[] = [];
  let o = 0;
  for (;;) {
    if (o >= bytes.length) fail(o, `the header ends without an ${END_LINE} line (truncated, or not an AEDAT 3.1 file)`);
    if (bytes[o] !== 0x23) fail(o, `a header line does not start with '#' before ${END_LINE} (not an AEDAT 3.1 file?)`);
    let e = o;
    while (e + 1 < bytes.length && !(bytes[e] === 0x0d && bytes[e + 1] === 0x0a)) e++;
    if (e + 1 >= bytes.length) fail(o, `the header line has no CRLF ending (truncated, or not an AEDAT 3.1 file)`);
    const line = latin1(bytes, o, e);
    if (lines.length === 0 && line !== VERSION_LINE) {
      const m = /^#!AER-DAT(\d+\.\d+)$/.exec(line);
      fail(o, m ? `AEDAT version ${m[1]}, not 3.1` : `the first line is ${JSON.stringify(line.slice(0, 40))}, not ${VERSION_LINE} (not an AEDAT 3.1 file)`);
    }
    const format = /^#Format: ?(.*)$/.exec(line);
    if (format && format[1].trim() !== 'RAW') fail(o, `packet format ${JSON.stringify(format[1].trim())} is not supported (only RAW)`);
    lines.push(line);
    o = e + 2;
    if (line === END_LINE) return { lines, end: o };
  }
}

interface PacketHeader {
  type: number;
  size: number;
  tsOffset: number;
  overflow: number;
  capacity: number;
  number: number;
  valid: number;
}

function packetHeader(v: DataView, o: number, fail: Fail): PacketHeader {
  const h: PacketHeader = {
    type: v.getInt16(o, true),
    size: v.getInt32(o + 4, true),
    tsOffset: v.getInt32(o + 8, true),
    overflow: v.getInt32(o + 12, true),
    capacity: v.getInt32(o + 16, true),
    number: v.getInt32(o + 20, true),
    valid: v.getInt32(o + 24, true),
  };
  if (h.type < 0) fail(o, `damaged packet header: eventType ${h.type}`);
  if (h.size <= 0) fail(o, `damaged packet header: eventSize ${h.size}`);
  if (h.overflow < 0) fail(o, `damaged packet header: eventTSOverflow ${h.overflow}`);
  if (h.capacity < 0 || h.number < 0 || h.number > h.capacity) fail(o, `damaged packet header: eventNumber ${h.number} with eventCapacity ${h.capacity}`);
  if (h.valid < 0 || h.valid > h.number) fail(o, `damaged packet header: eventValid ${h.valid} with eventNumber ${h.number}`);
  if (h.tsOffset < 0 || h.tsOffset + 4 > h.size) fail(o, `damaged packet header: eventTSOffset ${h.tsOffset} with eventSize ${h.size}`);
  return h;
}

/** Walks the packets, calling `polarity` for each polarity packet's event bytes [from, to). */
function walkPackets(bytes: Uint8Array, start: number, fail: Fail, polarity: (h: PacketHeader, from: number) => void): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = start;
  while (o < bytes.length) {
    if (bytes.length - o < PACKET_HEADER_BYTES) fail(o, `truncated packet: ${bytes.length - o} bytes left for a ${PACKET_HEADER_BYTES}-byte packet header`);
    const h = packetHeader(v, o, fail);
    const body = h.capacity * h.size;
    if (bytes.length - o - PACKET_HEADER_BYTES < body) {
      fail(o, `truncated packet: its ${h.capacity} events of ${h.size} bytes need ${body} bytes, ${bytes.length - o - PACKET_HEADER_BYTES} are left`);
    }
    if (h.type === POLARITY_EVENT) {
      if (h.size !== POLARITY_EVENT_BYTES) fail(o, `event size mismatch: a polarity packet with eventSize ${h.size}, polarity events are ${POLARITY_EVENT_BYTES} bytes`);
      if (h.tsOffset !== POLARITY_TS_OFFSET) fail(o, `damaged packet header: a polarity packet with eventTSOffset ${h.tsOffset}, not ${POLARITY_TS_OFFSET}`);
      polarity(h, o + PACKET_HEADER_BYTES);
    }
    o += PACKET_HEADER_BYTES + body;
  }
}

/** The valid polarity events of an AEDAT 3.1 file; `file` names it in errors (a path, or archive:member). */
export function decodeAedat31(bytes: Uint8Array, file: string): AedatEvents {
  const fail = failer(file);
  const { end } = readAedatHeader(bytes, file, fail);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // First pass: check every event and count the valid ones, so the arrays are allocated once.
  let count = 0;
  walkPackets(bytes, end, fail, (h, from) => {
    for (let k = 0, e = from; k < h.number; k++, e += POLARITY_EVENT_BYTES) {
      const data = v.getUint32(e, true);
      if ((data & 1) === 0) continue;
      const x = data >>> 17;
      const y = (data >>> 2) & 0x7fff;
      if (x >= DVS128_WIDTH || y >= DVS128_HEIGHT) fail(e, `the polarity event has x ${x}, y ${y}, outside the ${DVS128_WIDTH}×${DVS128_HEIGHT} sensor`);
      if (v.getInt32(e + 4, true) < 0) fail(e, `the polarity event has a negative timestamp ${v.getInt32(e + 4, true)}`);
      count++;
    }
  });
  const out: AedatEvents = { x: new Int16Array(count), y: new Int16Array(count), p: new Int8Array(count), t: new Float64Array(count) };
  let i = 0;
  walkPackets(bytes, end, fail, (h, from) => {
    const base = h.overflow * TS_OVERFLOW_SHIFT;
    for (let k = 0, e = from; k < h.number; k++, e += POLARITY_EVENT_BYTES) {
      const data = v.getUint32(e, true);
      if ((data & 1) === 0) continue;
      out.x[i] = data >>> 17;
      out.y[i] = (data >>> 2) & 0x7fff;
      out.p[i] = (data >>> 1) & 1;
      out.t[i] = base + v.getInt32(e + 4, true);
      i++;
    }
  });
  return out;
}
