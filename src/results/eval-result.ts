// result.json of an eval step: the last training step's best checkpoint on the test split.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';

export const evalResultSchema = z.object({
  config: z.string(),
  run_id: z.string(),
  step: z.literal('eval'),
  /** The training step whose best checkpoint was evaluated, and that step's identity (hash). */
  of: z.object({ step: z.string(), hash: z.string(), checkpoint: z.string(), epoch: z.int().min(-1) }),
  split: z.enum(['valid', 'test']),
  metric: z.object({ name: z.enum(['accuracy', 'perplexity']), value: z.number().min(0) }),
  loss: z.number(),
  accuracy: z.number().min(0).max(1),
  samples: z.int().min(0),
  wall_time_s: z.number().min(0),
  evnn_version: z.string(),
  finished_at: z.string(),
});

export type EvalResult = z.infer<typeof evalResultSchema>;

export function writeEvalResult(file: string, r: EvalResult): void {
  writeJsonAtomic(file, r);
}

/** Reads result.json back, naming the file and the field when it is damaged or foreign. */
export function readEvalResult(file: string): EvalResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a readable eval result (${(err as Error).message})`);
  }
  const r = evalResultSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`${file}: not a valid eval result (${first.path.join('.') || '(root)'}: ${first.message})`);
  }
  return r.data;
}
