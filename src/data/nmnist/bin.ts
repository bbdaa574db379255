// Decoding one N-MNIST .bin file: 5-byte (40-bit) events, big-endian bit fields
//   byte 0: x (8 bits) · byte 1: y (8 bits) · byte 2 bit 7: polarity ·
//   byte 2 bits 6-0, bytes 3-4: timestamp (23 bits, µs)
// as Orchard's reader, tonic (tonic/io.py read_mnist_file) and the S3GD reference's converter
// read them. An event with y = 240 is a timestamp-overflow marker, handled as tonic does: it is
// dropped, and every event after it has 2^13 µs added to its timestamp (one 2^13 per marker so
// far; tonic's constant, which is not the 23-bit field's 2^23 wrap). Events keep file order.
import { endianness } from 'node:os';
import { basename } from 'node:path';
import { DatasetError } from '../errors.js';
import type { EventSample } from '../events/event-arrow.js';
import { NMNIST_HEIGHT, NMNIST_WIDTH } from './layout.js';

export const EVENT_BYTES = 5;
export const OVERFLOW_Y = 240;
export const OVERFLOW_INCREMENT_US = 2 ** 13;
const LITTLE_ENDIAN = endianness() === 'LE';

/** The events of a .bin file; `file` names it in errors (a path, or archive:member). */
export function decodeNmnistBin(bytes: Uint8Array, file: string): EventSample {
  const name = file.includes(':') ? file : basename(file);
  const whole = bytes.length - (bytes.length % EVENT_BYTES);
  if (whole !== bytes.length) {
    throw new DatasetError(file, `${name}: ${bytes.length} bytes is not a whole number of ${EVENT_BYTES}-byte events: a partial event starts at byte offset ${whole} (truncated?)`);
  }
  let count = 0;
  for (let o = 0; o < whole; o += EVENT_BYTES) {
    const x = bytes[o];
    const y = bytes[o + 1];
    if (y === OVERFLOW_Y) continue;
    if (x >= NMNIST_WIDTH || y >= NMNIST_HEIGHT) {
      throw new DatasetError(file, `${name}: the event at byte offset ${o} has x ${x}, y ${y}, outside the ${NMNIST_WIDTH}×${NMNIST_HEIGHT} sensor (not an N-MNIST file?)`);
    }
    count++;
  }
  const out: EventSample = { x: new Int16Array(count), y: new Int16Array(count), t: new BigInt64Array(count), p: new Int8Array(count) };
  // Timestamps stay far below 2^31 µs, so they are written as the low 32-bit words of the int64
  // buffer (little-endian hosts), not as one BigInt per event.
  const low = LITTLE_ENDIAN ? new Int32Array(out.t.buffer, out.t.byteOffset, count * 2) : null;
  let added = 0;
  let k = 0;
  for (let o = 0; o < whole; o += EVENT_BYTES) {
    const y = bytes[o + 1];
    if (y === OVERFLOW_Y) {
      added += OVERFLOW_INCREMENT_US;
      continue;
    }
    const b2 = bytes[o + 2];
    out.x[k] = bytes[o];
    out.y[k] = y;
    out.p[k] = b2 >> 7;
    const t = (((b2 & 0x7f) << 16) | (bytes[o + 3] << 8) | bytes[o + 4]) + added;
    if (low !== null && t <= 0x7fffffff) low[2 * k] = t;
    else out.t[k] = BigInt(t);
    k++;
  }
  return out;
}
