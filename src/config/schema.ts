// The whole experiment config. Every object is strict: an unknown key is an error, so a typo
// is reported instead of silently falling back to a default.
import { z } from 'zod';
import { dataSchema } from './data.js';
import { modelSchema } from './model.js';
import { slurmSchema } from './slurm.js';
import { stepSchema, type StepConfig } from './steps.js';
import { trainSchema } from './train.js';

const FRACTIONS = new Set(['test_accuracy', 'test_error']);

export const paperSchema = z
  .strictObject({
    metric: z.enum(['test_accuracy', 'test_error', 'test_perplexity']),
    value: z.number(),
    source: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    // A percentage written as 98.3 would compare against a fraction and look like a 97-point gap.
    if (FRACTIONS.has(p.metric) && !(p.value >= 0 && p.value <= 1)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a fraction in [0, 1] for ${p.metric} (0.983 for 98.3%), got ${p.value}` });
    } else if (p.metric === 'test_perplexity' && !(p.value > 0)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be > 0 for test_perplexity, got ${p.value}` });
    }
  });

/** Names a run directory, so it is restricted to characters that are safe in paths. */
export const nameSchema = z.string().regex(/^[A-Za-z0-9._-]+$/, 'must contain only letters, digits, ".", "_" and "-"');

export const configSchema = z.strictObject({
  /** Defaults to the config file's basename (filled in by loadConfig). */
  name: nameSchema,
  description: z.string().optional(),
  seed: z.int().min(0).default(0),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** 0 = all cores. Part of the config hash: the thread count changes float summation order. */
  threads: z.int().min(0).default(0),
  data: dataSchema,
  model: modelSchema,
  train: trainSchema,
  /**
   * The run's pipeline steps (prepare, feature, pretrain, retrain, eval). Absent: one training
   * step (pretrain) whose files sit in the run directory itself, as before steps existed.
   */
  steps: z.array(stepSchema).min(1).optional(),
  paper: paperSchema.optional(),
  /**
   * Whether each finished training step writes report.html (absent: true). Not part of the run's
   * identity: it changes what is written about the numbers, not the numbers.
   */
  report: z.boolean().optional(),
  /**
   * What `evnn sweep --backend slurm` asks for per array task (account, partition, time, memory,
   * CPUs, GPUs); flags override it. Not part of the run's identity: where and how long a run is
   * scheduled does not change its numbers.
   */
  slurm: slurmSchema.optional(),
});

/** A validated config; its steps (when given) are resolved: every training step has complete sections. */
export type Config = Omit<z.infer<typeof configSchema>, 'steps'> & { steps?: StepConfig[] };
export type PaperConfig = z.infer<typeof paperSchema>;
