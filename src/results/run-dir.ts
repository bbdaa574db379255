// Where a run lives: results/<config-name>/seed<seed>-<config hash>/. The id is a function of
// the config, so running the same config again finds (and resumes or skips) its run. A config
// with `steps:` keeps each step in a directory of its own inside the run:
// results/<config-name>/<run-id>/<step>/; a single-step config writes into the run directory.
import { join } from 'node:path';
import { configHash, type Config, type StepName } from '../config/index.js';

export function runIdFor(cfg: Config): string {
  return `seed${cfg.seed}-${configHash(cfg)}`;
}

export function runDirFor(resultsDir: string, cfg: Config): string {
  return join(resultsDir, cfg.name, runIdFor(cfg));
}

export function stepDirFor(resultsDir: string, cfg: Config, step: StepName): string {
  return cfg.steps ? join(runDirFor(resultsDir, cfg), step) : runDirFor(resultsDir, cfg);
}
