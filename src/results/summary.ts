// summary.json: a training step's final numbers, headed by the model's task metric on the test
// split, next to the paper's when the config names one.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';

const fraction = z.number().min(0).max(1);

export const summarySchema = z.object({
  config: z.string(),
  run_id: z.string(),
  /** The step of a config with `steps:` (absent for a single-step config). */
  step: z.string().optional(),
  status: z.enum(['finished', 'stopped-nonfinite']),
  /**
   * The headline: the model's task metric (accuracy for classifiers, perplexity for language
   * models) on the test split, and on the validation split at the best epoch, which it selected.
   */
  metric: z.object({
    name: z.enum(['accuracy', 'perplexity']),
    value: z.number().min(0).nullable(),
    best_valid: z.number().min(0).nullable(),
  }),
  final: z.object({
    test_accuracy: fraction.nullable(),
    test_loss: z.number().nullable(),
    best_valid_accuracy: fraction.nullable(),
    /** 0-based epoch of the checkpoint that was tested (-1 before any epoch finished). */
    best_epoch: z.int().min(-1),
  }),
  /** The event rate of every event-emitting layer on the test split, by layer (language models). */
  test_activity: z.record(z.string(), fraction).optional(),
  /**
   * Each sparse layer's figures on the test pass, by layer (delta networks: the fractions of zero
   * Δx, Δh and of both, the reference's SP_T_DX/DH/DV, and the forward MACs per test sequence).
   */
  test_sparsity: z.record(z.string(), z.object({
    family: z.string(),
    activity: fraction.optional(),
    /** spiking layers: the fraction of neuron-steps in S3GD's band (the active set) */
    active_fraction: fraction.optional(),
    delta_x_zero: fraction.optional(),
    delta_h_zero: fraction.optional(),
    delta_zero: fraction.optional(),
    macs_forward: z.number().min(0).optional(),
    macs_forward_dense: z.number().min(0).optional(),
  })).optional(),
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

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Summaries written before task metrics had no `metric`: every model then was a classifier. */
function withMetric(json: unknown): unknown {
  if (!isMapping(json) || json.metric !== undefined || !isMapping(json.final)) return json;
  const { test_accuracy, best_valid_accuracy } = json.final;
  return { ...json, metric: { name: 'accuracy', value: test_accuracy ?? null, best_valid: best_valid_accuracy ?? null } };
}

/** Reads a summary.json back, naming the file and the field when it is damaged or foreign. */
export function readSummary(file: string): Summary {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a readable summary (${(err as Error).message})`);
  }
  const r = summarySchema.safeParse(withMetric(json));
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`${file}: not a valid summary (${first.path.join('.') || '(root)'}: ${first.message})`);
  }
  return r.data;
}
