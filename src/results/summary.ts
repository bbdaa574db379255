// summary.json: the run's final numbers, next to the paper's when the config names one.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';

const fraction = z.number().min(0).max(1);

export const summarySchema = z.object({
  config: z.string(),
  run_id: z.string(),
  status: z.enum(['finished', 'stopped-nonfinite']),
  final: z.object({
    test_accuracy: fraction.nullable(),
    test_loss: z.number().nullable(),
    best_valid_accuracy: fraction.nullable(),
    /** 0-based epoch of the checkpoint that was tested (-1 before any epoch finished). */
    best_epoch: z.int().min(-1),
  }),
  paper: z.object({ metric: z.string(), value: z.number() }).nullable(),
  epochs_run: z.int().min(0),
  /** Seconds spent in training and evaluation passes (summed over resumed sessions). */
  wall_time_s: z.number().min(0),
  train_samples_per_s: z.number().min(0),
  backend: z.object({ device: z.literal('cpu'), gemm: z.string(), simd: z.string(), threads: z.int().min(1) }),
  evnn_version: z.string(),
  /** ISO 8601 time the summary was written. */
  finished_at: z.string(),
});

export type Summary = z.infer<typeof summarySchema>;

/** Writes summary.json atomically (temp file + rename): a reader sees the old file or the new one. */
export function writeSummary(file: string, s: Summary): void {
  writeJsonAtomic(file, s);
}

/** Reads a summary.json back, naming the file and the field when it is damaged or foreign. */
export function readSummary(file: string): Summary {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a readable summary (${(err as Error).message})`);
  }
  const r = summarySchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`${file}: not a valid summary (${first.path.join('.') || '(root)'}: ${first.message})`);
  }
  return r.data;
}
