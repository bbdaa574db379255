// summary.json: the run's final numbers, next to the paper's when the config names one.
import { writeJsonAtomic } from '../util/atomic.js';

export interface Summary {
  config: string;
  run_id: string;
  status: 'finished' | 'stopped-nonfinite';
  final: {
    test_accuracy: number | null;
    test_loss: number | null;
    best_valid_accuracy: number | null;
    /** 0-based epoch of the checkpoint that was tested. */
    best_epoch: number;
  };
  paper: { metric: string; value: number } | null;
  epochs_run: number;
  /** Seconds spent in training and evaluation passes (summed over resumed sessions). */
  wall_time_s: number;
  train_samples_per_s: number;
  backend: { device: 'cpu'; gemm: string; simd: string; threads: number };
  evnn_version: string;
  finished_at: string;
}

export function writeSummary(file: string, s: Summary): void {
  writeJsonAtomic(file, s);
}
