// Which epoch's weights are the best: the one whose validation result is best under the model's
// task metric (higher accuracy, lower perplexity). Without a validation split the last epoch is.
import type { TaskMetric } from '../models/task-metric.js';
import { isBetter } from '../models/task-metric.js';
import type { LoopState } from '../train/checkpoint.js';

/** The loop state with `epoch` as the new best, or null when the best stays where it was. */
export function updateBest(metric: TaskMetric, loop: LoopState, epoch: number, valid: { loss: number; accuracy: number } | null): LoopState | null {
  if (valid === null) return { ...loop, bestValidMetric: NaN, bestEpoch: epoch };
  const value = metric.of(valid);
  const best = loop.bestEpoch >= 0 ? loop.bestValidMetric : null;
  return isBetter(metric, value, best) ? { ...loop, bestValidMetric: value, bestEpoch: epoch } : null;
}
