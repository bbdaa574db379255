// The figure a model is judged by: it selects the best checkpoint (on the validation split) and
// heads the summary (on the test split). Classifiers are judged by accuracy (higher is better),
// language models by perplexity, the exponential of the mean token cross-entropy (lower is better).

export interface TaskMetric {
  readonly name: 'accuracy' | 'perplexity';
  readonly higherIsBetter: boolean;
  /** The metric of an evaluation pass (loss: mean cross-entropy; accuracy: fraction correct). */
  of(r: { loss: number; accuracy: number }): number;
}

export const accuracyMetric: TaskMetric = {
  name: 'accuracy',
  higherIsBetter: true,
  of: (r) => r.accuracy,
};

export const perplexityMetric: TaskMetric = {
  name: 'perplexity',
  higherIsBetter: false,
  of: (r) => Math.exp(r.loss),
};

/**
 * Whether `candidate` beats `best` under the metric. A NaN candidate never does; anything beats
 * "no best yet" (null). Ties keep the earlier epoch.
 */
export function isBetter(metric: TaskMetric, candidate: number, best: number | null): boolean {
  if (Number.isNaN(candidate)) return false;
  if (best === null || Number.isNaN(best)) return true;
  return metric.higherIsBetter ? candidate > best : candidate < best;
}
