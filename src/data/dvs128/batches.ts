// Serving a prepared DVS128 Gesture split as EvNN's frames: a sample is one 1.7 s slice of one
// gesture (frames.ts), so the source counts every slice of every gesture. A batch of N samples is
// x = [T = 68, N, 1, S, S] (time-major, one merged channel, S = frame_size) of scaled, optionally
// augmented (augment.ts), pooled and merged counts, and the gestures' labels. Augmentation is
// drawn per (seed, epoch, gesture row, slice), so a resumed run sees the same frames.
import type { Batch, BatchSource } from '../batch-source.js';
import type { EventSplit } from '../events/event-arrow.js';
import { sampleOrder } from '../events/event-splits.js';
import { applyWarp, augmentRng, buildWarp, sampleAugment } from './augment.js';
import { PLANE, poolMerge, SliceCounter, sliceCount, timeReader } from './frames.js';
import { DVS128_WIDTH, FRAMES_PER_SLICE, SLICE_US } from './layout.js';

export interface FrameSourceOptions {
  /** S: the side of the pooled frame; must divide 128. */
  frameSize: number;
  /** What the counts are divided by (EvNN: 19 for its training data, 18.5 for its test data). */
  scale: number;
  /** Apply EvNN's training augmentation. */
  augment: boolean;
  /** Seeds the augmentation (with the epoch and the sample). */
  seed: number;
  /** Serve a seeded subset of this many slices (data.limit), in split order; absent = all. */
  limit?: number;
  /** Seeds the subset (data.split_seed). */
  limitSeed?: number;
}

/** What batch() takes beyond the indices: the epoch (and optionally another seed) of the augmentation. */
export interface FrameBatchKey {
  epoch: number;
  seed?: number;
}

export class GestureFrameSource implements BatchSource {
  readonly count: number;
  /** Per sample: the gesture row and its slice. */
  readonly rows: Int32Array;
  readonly slices: Int32Array;
  /** Per sample: the slice's start in µs (the gesture's first event + slice · 1.7 s). */
  readonly starts: Float64Array;
  private readonly counter = new SliceCounter();
  private readonly warped = [new Float32Array(PLANE), new Float32Array(PLANE)];

  constructor(private readonly split: EventSplit, private readonly o: FrameSourceOptions) {
    if (!(Number.isInteger(o.frameSize) && o.frameSize >= 1 && DVS128_WIDTH % o.frameSize === 0)) {
      throw new RangeError(`frame_size must be a divisor of ${DVS128_WIDTH} (EvNN max-pools by 128 / frame_size), got ${o.frameSize}`);
    }
    const rows: number[] = [];
    const slices: number[] = [];
    const starts: number[] = [];
    for (let r = 0; r < split.count; r++) {
      const s = split.sample(r);
      const n = s.x.length;
      if (n === 0) continue;
      const time = timeReader(s.t);
      const first = time(0);
      const k = sliceCount(n, first, time(n - 1));
      for (let j = 0; j < k; j++) {
        rows.push(r);
        slices.push(j);
        starts.push(first + j * SLICE_US);
      }
    }
    const pick = sampleOrder(rows.length, o.limit, o.limitSeed ?? 0);
    this.rows = Int32Array.from(pick, (i) => rows[i]);
    this.slices = Int32Array.from(pick, (i) => slices[i]);
    this.starts = Float64Array.from(pick, (i) => starts[i]);
    this.count = pick.length;
  }

  batch(indices: Int32Array, key: FrameBatchKey = { epoch: 0 }): Batch {
    const S = this.o.frameSize;
    const N = indices.length;
    const T = FRAMES_PER_SLICE;
    const frame = S * S;
    const x = new Float32Array(T * N * frame);
    const labels = new Int32Array(N);
    const scale = 1 / this.o.scale;
    const { counts, planeEvents } = this.counter;
    for (let n = 0; n < N; n++) {
      const i = indices[n];
      if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`batch index ${i} is outside 0…${this.count - 1}`);
      const row = this.rows[i];
      labels[n] = this.split.labels[row];
      this.counter.count(this.split.sample(row), this.starts[i]);
      const warp = this.o.augment ? buildWarp(sampleAugment(augmentRng(key.seed ?? this.o.seed, key.epoch, row, this.slices[i]))) : null;
      for (let t = 0; t < T; t++) {
        const planes: (Float32Array | null)[] = [0, 1].map((p) => {
          const plane = 2 * t + p;
          if (planeEvents[plane] === 0) return null; // an empty plane stays empty through every map
          if (warp === null) return counts.subarray(plane * PLANE, (plane + 1) * PLANE);
          applyWarp(warp, counts, this.warped[p], plane * PLANE);
          return this.warped[p];
        });
        if (planes[0] === null && planes[1] === null) continue;
        poolMerge(planes[0], planes[1], S, scale, x, (t * N + n) * frame);
      }
    }
    return { x: { data: x, shape: [T, N, 1, S, S] }, labels };
  }
}
