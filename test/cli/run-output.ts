// Readers of what a CLI run leaves under <results>/<name>/<run>/<step>/ (summary.json, log.jsonl,
// metrics.arrow, checkpoints), for the end-to-end tests that compare runs with each other.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { expect } from 'vitest';

export const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** A step's log.jsonl, one object a line. */
export const logOf = (dir: string) => readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** A step's metrics.arrow as columns. */
export function metrics(stepDir: string) {
  const t = tableFromIPC(readFileSync(join(stepDir, 'metrics.arrow')));
  return {
    epoch: Array.from(t.getChild('epoch')!.toArray() as Int32Array),
    split: t.getChild('split')!.toArray() as string[],
    loss: Array.from(t.getChild('loss')!.toArray() as Float64Array),
    accuracy: Array.from(t.getChild('accuracy')!.toArray() as Float64Array),
  };
}

/** The run directory of a config with steps: exactly one under <results>/<name>/. */
export function onlyRunDir(results: string, name: string): string {
  const runs = readdirSync(join(results, name));
  expect(runs).toHaveLength(1);
  return join(results, name, runs[0]);
}
