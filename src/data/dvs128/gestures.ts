// Cutting a recording into its labelled gestures: the events with start ≤ t < end of each row of
// the labels CSV (the convention of the DvsGesture loaders), in file order, with t made relative to
// the gesture's start (so every gesture's clock starts at 0 µs; the absolute start is the CSV's).
import { endianness } from 'node:os';
import type { EventRow } from '../events/event-arrow.js';
import type { AedatEvents } from './aedat.js';
import type { GestureLabel, RecordingName } from './labels.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** The rows of one recording, one per label, in the CSV's order. */
export function cutGestures(ev: AedatEvents, labels: readonly GestureLabel[], rec: RecordingName): EventRow[] {
  return labels.map((g) => {
    const t = ev.t;
    let n = 0;
    for (let i = 0; i < t.length; i++) if (t[i] >= g.startUs && t[i] < g.endUs) n++;
    const row: EventRow = {
      label: g.label,
      extra: { user: rec.user, lighting: rec.lighting },
      x: new Int16Array(n), y: new Int16Array(n), p: new Int8Array(n), t: new BigInt64Array(n),
    };
    // Relative times are below a gesture's length (seconds), far under 2^31 µs: on little-endian
    // hosts they go into the low words of the int64 buffer rather than one BigInt per event.
    const low = LITTLE_ENDIAN ? new Int32Array(row.t.buffer, row.t.byteOffset, 2 * n) : null;
    let k = 0;
    for (let i = 0; i < t.length; i++) {
      if (!(t[i] >= g.startUs && t[i] < g.endUs)) continue;
      row.x[k] = ev.x[i];
      row.y[k] = ev.y[i];
      row.p[k] = ev.p[i];
      const rel = t[i] - g.startUs;
      if (low !== null && rel <= 0x7fffffff) low[2 * k] = rel;
      else row.t[k] = BigInt(rel);
      k++;
    }
    return row;
  });
}
