import { describe, expect, it } from 'vitest';
import { binEvents, roundHalfEven, type EventStream } from '../../src/data/events/spike-batches.js';
import type { SpikeEvents } from '../../src/layers/tensor.js';

const stream = (channel: number[], tUs: number[]): EventStream => ({ channel: Int32Array.from(channel), tUs: Float64Array.from(tUs) });

/** Row r's channels as a plain array. */
function row(e: SpikeEvents, b: number, t: number): number[] {
  const r = b * e.T + t;
  return Array.from(e.index.subarray(e.offsets[r], e.offsets[r + 1]));
}

/** A dense oracle written independently: a set per (b, t) from floor-free numpy-style rounding. */
function oracle(samples: EventStream[], T: number, dtUs: number): Set<number>[] {
  const rows = Array.from({ length: samples.length * T }, () => new Set<number>());
  samples.forEach((s, b) => {
    for (let i = 0; i < s.channel.length; i++) {
      const q = s.tUs[i] / dtUs;
      const lo = Math.floor(q);
      const frac = q - lo;
      const step = frac > 0.5 ? lo + 1 : frac < 0.5 ? lo : lo % 2 === 0 ? lo : lo + 1;
      if (s.tUs[i] >= 0 && step < T) rows[b * T + step].add(s.channel[i]);
    }
  });
  return rows;
}

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour as numpy.round does', () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, -0.5, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 4, -0, -2]);
    expect([0.49, 0.51, 2.4999, 2.5001, 7].map(roundHalfEven)).toEqual([0, 1, 2, 3, 7]);
  });
});

describe('binEvents', () => {
  it('bins to round(t/dt) with halves to even, drops t<0 and steps ≥ T', () => {
    // dt = 1000 µs, T = 4: 1500 → 2, 2500 → 2, 499 → 0, 500 → 0, 501 → 1, 3499 → 3, 3500 → 4 (dropped), -1 dropped
    const e = binEvents([stream([0, 1, 2, 3, 4, 5, 6, 7], [1500, 2500, 499, 500, 501, 3499, 3500, -1])], { T: 4, dtUs: 1000, C: 8 });
    expect(e.B).toBe(1);
    expect(e.T).toBe(4);
    expect(e.C).toBe(8);
    expect(e.offsets.length).toBe(5);
    expect(row(e, 0, 0)).toEqual([2, 3]);
    expect(row(e, 0, 1)).toEqual([4]);
    expect(row(e, 0, 2)).toEqual([0, 1]);
    expect(row(e, 0, 3)).toEqual([5]);
    expect(e.index.length).toBe(6);
  });

  it('counts duplicates in one (step, channel) once and sorts channels ascending', () => {
    const e = binEvents([stream([5, 3, 5, 3, 9, 5], [10, 20, 30, 900, 40, 1100])], { T: 3, dtUs: 1000, C: 10 });
    expect(row(e, 0, 0)).toEqual([3, 5, 9]);
    expect(row(e, 0, 1)).toEqual([3, 5]);
    expect(row(e, 0, 2)).toEqual([]);
  });

  it('lays rows out as b·T + t over several samples, including empty ones', () => {
    const e = binEvents([stream([1], [0]), stream([], []), stream([2, 0], [2000, 2000])], { T: 3, dtUs: 1000, C: 3 });
    expect(e.B).toBe(3);
    expect(Array.from(e.offsets)).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 3]);
    expect(row(e, 2, 2)).toEqual([0, 2]);
    const none = binEvents([], { T: 5, dtUs: 1, C: 1 });
    expect(none.B).toBe(0);
    expect(Array.from(none.offsets)).toEqual([0]);
  });

  it('matches a dense oracle on random streams with a non-integer step', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const T = 37;
    const C = 23;
    const dtUs = 2000;
    const samples = Array.from({ length: 9 }, () => {
      const n = Math.floor(rand() * 400);
      // times on a 500 µs grid hit exact halves of the 2 ms step often; some fall past T·dt or below 0
      return stream(
        Array.from({ length: n }, () => Math.floor(rand() * C)),
        Array.from({ length: n }, () => (rand() < 0.5 ? Math.floor(rand() * 170) * 500 - 1000 : rand() * 80_000)),
      );
    });
    const e = binEvents(samples, { T, dtUs, C });
    const want = oracle(samples, T, dtUs);
    for (let b = 0; b < samples.length; b++) {
      for (let t = 0; t < T; t++) expect(row(e, b, t)).toEqual([...want[b * T + t]].sort((x, y) => x - y));
    }
    expect(e.offsets[e.B * T]).toBe(e.index.length);
  });

  it('rejects channels outside [0, C) naming the sample', () => {
    expect(() => binEvents([stream([0], [0]), stream([1, 4], [0, 99_999_999])], { T: 2, dtUs: 1000, C: 4 })).toThrow(
      'binEvents: sample 1 has channel 4 at event 1, outside [0, 4)',
    );
    expect(() => binEvents([stream([-1], [0])], { T: 2, dtUs: 1000, C: 4, ids: [731] })).toThrow('sample 731 has channel -1');
  });

  it('rejects mismatched arrays, non-finite times and bad options', () => {
    expect(() => binEvents([{ channel: new Int32Array(2), tUs: new Float64Array(1) }], { T: 2, dtUs: 1, C: 1 })).toThrow(
      'sample 0 has 2 channels but 1 times',
    );
    expect(() => binEvents([stream([0], [NaN])], { T: 2, dtUs: 1, C: 1 })).toThrow('sample 0 has time NaN at event 0');
    expect(() => binEvents([], { T: 0, dtUs: 1, C: 1 })).toThrow('T must be a positive integer');
    expect(() => binEvents([], { T: 1, dtUs: 0, C: 1 })).toThrow('dtUs must be a positive number');
    expect(() => binEvents([], { T: 1, dtUs: 1, C: 1.5 })).toThrow('C must be a positive integer');
  });
});
