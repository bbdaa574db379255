// What the CLI passes to pipeline steps, and what they return.
import type { StepName } from '../config/index.js';
import type { EvalResult } from '../results/eval-result.js';
import type { Summary } from '../results/summary.js';

export interface PipelineOptions {
  dataDir: string;
  resultsDir: string;
  /**
   * run: start the whole run afresh; a single step: redo that step (and drop the steps that use
   * its results); prepare: rebuild the dataset.
   */
  force: boolean;
  quiet: boolean;
  /** Overrides the config's thread count. */
  threads?: number;
  /** The config file as the user named it, for messages that say which command to run. */
  configFile?: string;
  /** false: no report.html after a training step (`--no-report`); absent or true: the config's `report` decides. */
  report?: boolean;
}

/** A training step's outcome. */
export interface RunOutcome {
  /** The step's directory (the run directory of a single-step config). */
  runDir: string;
  summary: Summary;
  /** true when the step had already finished and nothing was recomputed */
  skipped: boolean;
}

export interface EvalOutcome {
  split: string;
  loss: number;
  accuracy: number;
  metric: { name: 'accuracy' | 'perplexity'; value: number };
  checkpoint: string;
}

export interface StepOutcome {
  step: StepName;
  /** The step's directory; null for data steps (their files are under the data directory). */
  dir: string | null;
  skipped: boolean;
  train?: RunOutcome;
  eval?: EvalResult;
  /** A training step's report.html, when one was written (or was there already). */
  report?: string;
  /** Why the report could not be written (the step's results stand; `evnn report <dir>` retries). */
  reportError?: string;
}

export interface PipelineOutcome {
  runDir: string;
  /** A config without `steps:`: its one training step is the run directory. */
  flat: boolean;
  steps: StepOutcome[];
}
