// What the CLI passes to pipeline steps, and what they return.
import type { Summary } from '../results/summary.js';

export interface PipelineOptions {
  dataDir: string;
  resultsDir: string;
  /** run/pretrain: start afresh even if a run directory exists; prepare: rebuild the dataset. */
  force: boolean;
  quiet: boolean;
  /** Overrides the config's thread count. */
  threads?: number;
}

export interface RunOutcome {
  runDir: string;
  summary: Summary;
  /** true when the run had already finished and nothing was recomputed */
  skipped: boolean;
}

export interface EvalOutcome {
  split: string;
  loss: number;
  accuracy: number;
  checkpoint: string;
}
