// A sweep's record on disk: results/<name>/sweeps/<id>/sweep.json (the SweepPlan of sweep-plan.ts)
// beside its points/ folder. Read by `evnn sweep` and by the table, which aggregates a sweep.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SweepPlan } from './sweep-plan.js';

export const SWEEP_FILE = 'sweep.json';
export const POINTS_DIR = 'points';

export function readSweepFile(path: string): SweepPlan {
  const file = statSync(path).isDirectory() ? join(path, SWEEP_FILE) : path;
  let plan: SweepPlan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as SweepPlan;
  } catch (err) {
    throw new Error(`${file}: not a readable sweep file (${(err as Error).message})`);
  }
  if (!plan || typeof plan !== 'object' || typeof plan.id !== 'string' || !Array.isArray(plan.points) || typeof plan.dir !== 'string') {
    throw new Error(`${file}: not a sweep file (no id and points)`);
  }
  return plan;
}

/** Whether a path is a sweep: its directory (holding sweep.json) or a sweep.json file. */
export function isSweepPath(path: string): boolean {
  if (!existsSync(path)) return false;
  if (statSync(path).isDirectory()) return existsSync(join(path, SWEEP_FILE));
  return basename(path) === SWEEP_FILE || (path.endsWith('.json') && existsSync(join(dirname(path), POINTS_DIR)));
}
