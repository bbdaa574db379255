// The model's task metric selects the best checkpoint: higher accuracy, lower perplexity.
import { describe, expect, it } from 'vitest';
import { accuracyMetric, isBetter, perplexityMetric, type TaskMetric } from '../../src/models/task-metric.js';
import { updateBest } from '../../src/pipeline/best.js';
import type { LoopState } from '../../src/train/checkpoint.js';

/** The epoch updateBest ends on over a sequence of validation results. */
function bestEpoch(metric: TaskMetric, valid: ({ loss: number; accuracy: number } | null)[]): LoopState {
  let loop: LoopState = { epochsDone: 0, bestValidMetric: NaN, bestEpoch: -1 };
  valid.forEach((v, epoch) => {
    loop = { ...(updateBest(metric, loop, epoch, v) ?? loop), epochsDone: epoch + 1 };
  });
  return loop;
}

// Epoch 1 has the lowest loss, epoch 2 the highest accuracy.
const epochs = [
  { loss: 0.9, accuracy: 0.6 },
  { loss: 0.4, accuracy: 0.7 },
  { loss: 0.5, accuracy: 0.8 },
  { loss: 0.6, accuracy: 0.75 },
];

describe('task metrics', () => {
  it('accuracy is the fraction correct; perplexity the exponential of the mean cross-entropy', () => {
    expect(accuracyMetric.of({ loss: 2, accuracy: 0.25 })).toBe(0.25);
    expect(perplexityMetric.of({ loss: Math.log(120), accuracy: 0.25 })).toBeCloseTo(120, 10);
    expect([accuracyMetric.higherIsBetter, perplexityMetric.higherIsBetter]).toEqual([true, false]);
  });

  it('a higher-is-better metric keeps the highest, a lower-is-better one the lowest; ties keep the earlier epoch', () => {
    expect(bestEpoch(accuracyMetric, epochs)).toMatchObject({ bestEpoch: 2, bestValidMetric: 0.8 });
    const ppl = bestEpoch(perplexityMetric, epochs);
    expect(ppl.bestEpoch).toBe(1);
    expect(ppl.bestValidMetric).toBeCloseTo(Math.exp(0.4), 12);
    expect(bestEpoch(perplexityMetric, [{ loss: 1, accuracy: 0 }, { loss: 1, accuracy: 0 }]).bestEpoch).toBe(0);
  });

  it('a NaN result never becomes the best; the first finite one does', () => {
    expect(bestEpoch(perplexityMetric, [{ loss: NaN, accuracy: 0 }, { loss: 3, accuracy: 0.1 }, { loss: NaN, accuracy: 0 }]).bestEpoch).toBe(1);
    expect(isBetter(perplexityMetric, 5, null)).toBe(true);
    expect(isBetter(perplexityMetric, NaN, null)).toBe(false);
  });

  it('without a validation split the last epoch is the best', () => {
    expect(bestEpoch(perplexityMetric, [null, null, null])).toMatchObject({ bestEpoch: 2 });
  });
});
