import { describe, expect, it } from 'vitest';
import { learningRate } from '../../src/train/schedule.js';
import { epochOrder, slices } from '../../src/train/batches.js';

describe('schedule and batching', () => {
  it('step schedule multiplies by gamma every step_size epochs', () => {
    const s = { type: 'step' as const, stepSize: 2, gamma: 0.5 };
    expect([0, 1, 2, 3, 4].map((e) => learningRate(0.1, s, e))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    expect(learningRate(0.1, { type: 'constant' }, 9)).toBe(0.1);
  });

  it('cosine schedule: constant through epoch start, then CosineAnnealingLR to 0 at the last epoch', () => {
    const s = { type: 'cosine' as const, start: 2, epochs: 6 };
    // T_max = 4: after k steps lr = 0.1·(1 + cos(πk/4))/2
    const lr = [0, 1, 2, 3, 4, 5].map((e) => learningRate(0.1, s, e));
    expect(lr.slice(0, 3)).toEqual([0.1, 0.1, 0.1]);
    expect(lr[3]).toBeCloseTo(0.1 * (1 + Math.SQRT1_2) / 2, 12);
    expect(lr[4]).toBeCloseTo(0.05, 12);
    expect(lr[5]).toBeCloseTo(0.1 * (1 - Math.SQRT1_2) / 2, 12);
  });

  it('epoch order depends only on seed and epoch; slices cover it once', () => {
    expect(epochOrder(50, 1, 3)).toEqual(epochOrder(50, 1, 3));
    expect(epochOrder(50, 1, 3)).not.toEqual(epochOrder(50, 1, 4));
    const parts = [...slices(epochOrder(10, 0, 0), 4)];
    expect(parts.map((p) => p.length)).toEqual([4, 4, 2]);
    expect(parts.flatMap((p) => [...p]).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
