// The whole experiment config. Every object is strict: an unknown key is an error, so a typo
// is reported instead of silently falling back to a default.
import { z } from 'zod';
import { dataSchema } from './data.js';
import { modelSchema } from './model.js';
import { trainSchema } from './train.js';

export const paperSchema = z.strictObject({
  metric: z.enum(['test_accuracy', 'test_error', 'test_perplexity']),
  value: z.number(),
  source: z.string().optional(),
});

export const configSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must contain only letters, digits, ".", "_" and "-"'),
  description: z.string().optional(),
  seed: z.int().min(0).default(0),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** 0 = all cores. Part of the config hash: the thread count changes float summation order. */
  threads: z.int().min(0).default(0),
  data: dataSchema,
  model: modelSchema,
  train: trainSchema,
  paper: paperSchema.optional(),
});

export type Config = z.infer<typeof configSchema>;
