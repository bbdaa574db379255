// Writing small DVS128 Gesture distributions in the official format, for the tests and for the
// quick config's fixture (scripts/make-dvs128-fixture.mjs): AEDAT 3.1 files written from scratch
// (header, polarity packets split at every timestamp-overflow boundary, special-event packets,
// invalid events), labels CSVs, trials lists and gesture_mapping.csv. The gestures are synthetic
// but class-dependent: a disc whose leading edge fires ON and trailing edge OFF events moves in
// the direction 2π·label/11 (it restarts its path every 1.2 s), over background noise, so a model
// can learn the classes from the motion.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../util/rng.js';
import { END_LINE, PACKET_HEADER_BYTES, POLARITY_EVENT, POLARITY_EVENT_BYTES, TS_OVERFLOW_SHIFT, VERSION_LINE } from './aedat.js';
import { DVS128_CLASSES, DVS128_LIGHTINGS, GESTURE_MAPPING, TEST_LIST, TRAIN_LIST } from './layout.js';

export interface RawPolarityEvent {
  x: number;
  y: number;
  p: number;
  /** µs on the recording's clock (may exceed 2^31: the writer splits packets at the overflow) */
  t: number;
  /** false writes the validity bit clear (readers must skip it) */
  valid?: boolean;
}

/** The standard header lines (each gets CRLF). */
export const AEDAT_HEADER_LINES = [VERSION_LINE, '#Format: RAW', '#Source 1: DVS128', '#Start-Time: 2016-06-01 10:00:00 (TZ+0000)', END_LINE];

export function aedatHeader(lines: readonly string[] = AEDAT_HEADER_LINES): Uint8Array {
  return new Uint8Array(Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1'));
}

export interface PacketFields {
  type: number;
  source?: number;
  size: number;
  tsOffset?: number;
  overflow?: number;
  capacity: number;
  number?: number;
  valid?: number;
}

/** A packet: the 28-byte header with `f`'s fields, then `body`. */
export function packet(f: PacketFields, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(PACKET_HEADER_BYTES + body.length);
  const v = new DataView(out.buffer);
  v.setInt16(0, f.type, true);
  v.setInt16(2, f.source ?? 1, true);
  v.setInt32(4, f.size, true);
  v.setInt32(8, f.tsOffset ?? 4, true);
  v.setInt32(12, f.overflow ?? 0, true);
  v.setInt32(16, f.capacity, true);
  v.setInt32(20, f.number ?? f.capacity, true);
  v.setInt32(24, f.valid ?? f.number ?? f.capacity, true);
  out.set(body, PACKET_HEADER_BYTES);
  return out;
}

/** The 8-byte polarity event records of `events` (timestamps taken modulo 2^31). */
export function polarityRecords(events: readonly RawPolarityEvent[]): Uint8Array {
  const out = new Uint8Array(events.length * POLARITY_EVENT_BYTES);
  const v = new DataView(out.buffer);
  events.forEach((e, i) => {
    const data = ((e.x << 17) | (e.y << 2) | ((e.p & 1) << 1) | (e.valid === false ? 0 : 1)) >>> 0;
    v.setUint32(i * 8, data, true);
    v.setInt32(i * 8 + 4, e.t % TS_OVERFLOW_SHIFT, true);
  });
  return out;
}

/** A polarity packet of events that share one overflow value. */
export function polarityPacket(events: readonly RawPolarityEvent[]): Uint8Array {
  const overflow = events.length > 0 ? Math.floor(events[0].t / TS_OVERFLOW_SHIFT) : 0;
  const valid = events.filter((e) => e.valid !== false).length;
  return packet({ type: POLARITY_EVENT, size: POLARITY_EVENT_BYTES, overflow, capacity: events.length, valid }, polarityRecords(events));
}

/** A non-polarity packet (type 0, special events: 8 bytes each) that readers must skip. */
export function specialPacket(count: number, overflow = 0): Uint8Array {
  const body = new Uint8Array(count * 8);
  const v = new DataView(body.buffer);
  for (let i = 0; i < count; i++) {
    v.setUint32(i * 8, 0x01 | (7 << 1), true); // a valid special event of some type
    v.setInt32(i * 8 + 4, 1000 * i, true);
  }
  return packet({ type: 0, size: 8, overflow, capacity: count }, body);
}

export interface EncodeOptions {
  /** Events per polarity packet (default 512). */
  packetEvents?: number;
  /** Write a special-event packet first and after every 4th polarity packet (default true). */
  specialPackets?: boolean;
  headerLines?: readonly string[];
}

/** A whole AEDAT 3.1 file of `events` (in time order), packets never straddling an overflow. */
export function encodeAedat31(events: readonly RawPolarityEvent[], o: EncodeOptions = {}): Uint8Array {
  const per = o.packetEvents ?? 512;
  const special = o.specialPackets ?? true;
  const parts: Uint8Array[] = [aedatHeader(o.headerLines)];
  if (special) parts.push(specialPacket(2));
  let from = 0;
  let packets = 0;
  while (from < events.length) {
    const overflow = Math.floor(events[from].t / TS_OVERFLOW_SHIFT);
    let to = from;
    while (to < events.length && to - from < per && Math.floor(events[to].t / TS_OVERFLOW_SHIFT) === overflow) to++;
    parts.push(polarityPacket(events.slice(from, to)));
    packets++;
    if (special && packets % 4 === 0) parts.push(specialPacket(1, overflow));
    from = to;
  }
  return new Uint8Array(Buffer.concat(parts));
}

export interface SyntheticGestureOptions {
  /** µs */
  durationUs: number;
  /** mean gesture events per ms */
  eventsPerMs: number;
}

/**
 * The events of a synthetic gesture of class `label` starting at `startUs`: a disc of radius 10
 * moving at 60 px/s in the direction 2π·label/11 from a seeded start; the points of its rim
 * ahead of the motion fire ON (p = 1), those behind OFF (p = 0).
 */
export function syntheticGesture(label: number, startUs: number, o: SyntheticGestureOptions, rng: Rng): RawPolarityEvent[] {
  const angle = (2 * Math.PI * label) / DVS128_CLASSES.length;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const speed = 60e-6; // px per µs
  const period = 1_200_000;
  const cx0 = 64 - dx * 36 + (rng.uniform() - 0.5) * 10;
  const cy0 = 64 - dy * 36 + (rng.uniform() - 0.5) * 10;
  const out: RawPolarityEvent[] = [];
  for (let ms = 0; ms * 1000 < o.durationUs; ms++) {
    const k = Math.floor(o.eventsPerMs * (0.5 + rng.uniform()));
    for (let i = 0; i < k; i++) {
      const tRel = ms * 1000 + rng.int(1000);
      if (tRel >= o.durationUs) continue;
      const travel = speed * (tRel % period);
      const phi = 2 * Math.PI * rng.uniform();
      const nx = Math.cos(phi);
      const ny = Math.sin(phi);
      const x = Math.round(cx0 + dx * travel + 10 * nx);
      const y = Math.round(cy0 + dy * travel + 10 * ny);
      if (x < 0 || x > 127 || y < 0 || y > 127) continue;
      out.push({ x, y, p: nx * dx + ny * dy > 0 ? 1 : 0, t: startUs + tRel });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Uniform noise events in [fromUs, toUs). */
export function noiseEvents(fromUs: number, toUs: number, perMs: number, rng: Rng): RawPolarityEvent[] {
  const n = Math.floor(((toUs - fromUs) / 1000) * perMs);
  const out: RawPolarityEvent[] = [];
  for (let i = 0; i < n; i++) out.push({ x: rng.int(128), y: rng.int(128), p: rng.int(2), t: fromUs + rng.int(Math.max(1, toUs - fromUs)) });
  return out.sort((a, b) => a.t - b.t);
}

export interface DvsFixtureOptions {
  trainUsers: readonly number[];
  testUsers: readonly number[];
  /** Lighting conditions recorded per user (official names). */
  lightings: readonly string[];
  seed: number;
  /** Length of each gesture (µs). */
  gestureUs: number;
  eventsPerMs: number;
  noisePerMs: number;
  /** Events per polarity packet. */
  packetEvents?: number;
  /** The recording (stem) whose clock starts 1.5 s before 2^31 µs, so its timestamps wrap. */
  wrapStem?: string;
  /** Write gesture_mapping.csv (default true). */
  mapping?: boolean;
  /** Add invalid events (validity bit clear, coordinates outside the sensor) among the valid ones (default true). */
  invalidEvents?: boolean;
}

export interface FixtureGesture {
  label: number;
  startUs: number;
  endUs: number;
}

export interface FixtureRecording {
  stem: string;
  user: number;
  lighting: string;
  split: 'train' | 'test';
  gestures: FixtureGesture[];
  /** Every valid event of the file, in time order. */
  events: RawPolarityEvent[];
}

const GAP_US = 400_000;

/** Writes a DvsGesture folder into `dir` (created); returns what it holds. */
export function writeDvsGestureFolder(dir: string, o: DvsFixtureOptions): FixtureRecording[] {
  const unknown = o.lightings.find((l) => !DVS128_LIGHTINGS.includes(l));
  if (unknown !== undefined) throw new RangeError(`unknown lighting ${JSON.stringify(unknown)} (the official ones: ${DVS128_LIGHTINGS.join(', ')})`);
  mkdirSync(dir, { recursive: true });
  const recs: FixtureRecording[] = [];
  const users = [...o.trainUsers.map((u) => ({ u, split: 'train' as const })), ...o.testUsers.map((u) => ({ u, split: 'test' as const }))];
  for (const { u, split } of users) {
    for (const lighting of o.lightings) {
      const stem = `user${String(u).padStart(2, '0')}_${lighting}`;
      const rng = new Rng(o.seed, u, lighting.length, lighting.charCodeAt(0));
      const order = rng.permutation(DVS128_CLASSES.length);
      let t = stem === o.wrapStem ? TS_OVERFLOW_SHIFT - 1_500_000 : 1_000_000 + rng.int(1_000_000);
      const events: RawPolarityEvent[] = [];
      const gestures: FixtureGesture[] = [];
      for (const label of order) {
        events.push(...noiseEvents(t, t + GAP_US, o.noisePerMs, rng));
        t += GAP_US;
        const startUs = t;
        const endUs = t + o.gestureUs;
        events.push(...syntheticGesture(label, startUs, { durationUs: o.gestureUs, eventsPerMs: o.eventsPerMs }, rng), ...noiseEvents(startUs, endUs, o.noisePerMs, rng));
        // Events exactly at both ends: the gesture holds the one at its start, not the one at its end.
        events.push({ x: 1, y: 2, p: 1, t: startUs }, { x: 3, y: 4, p: 0, t: endUs });
        gestures.push({ label, startUs, endUs });
        t = endUs;
      }
      events.push(...noiseEvents(t, t + GAP_US, o.noisePerMs, rng));
      events.sort((a, b) => a.t - b.t);
      const written: RawPolarityEvent[] = [];
      for (const e of events) {
        if (o.invalidEvents !== false && rng.uniform() < 0.01) written.push({ x: 200, y: 300, p: 1, t: e.t, valid: false }); // outside the sensor: must be skipped, not refused
        written.push(e);
      }
      writeFileSync(join(dir, `${stem}.aedat`), encodeAedat31(written, { packetEvents: o.packetEvents }));
      writeFileSync(join(dir, `${stem}_labels.csv`), ['class,startTime_usec,endTime_usec', ...gestures.map((g) => `${g.label + 1},${g.startUs},${g.endUs}`), ''].join('\r\n'));
      recs.push({ stem, user: u, lighting, split, gestures, events });
    }
  }
  const list = (s: 'train' | 'test'): string => recs.filter((r) => r.split === s).map((r) => `${r.stem}.aedat`).join('\n') + '\n';
  writeFileSync(join(dir, TRAIN_LIST), list('train'));
  writeFileSync(join(dir, TEST_LIST), list('test'));
  if (o.mapping !== false) writeFileSync(join(dir, GESTURE_MAPPING), ['action,label', ...DVS128_CLASSES.map((c, i) => `${c},${i + 1}`), ''].join('\n'));
  return recs;
}
