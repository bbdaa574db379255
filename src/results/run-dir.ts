// Where a run lives: results/<config-name>/seed<seed>-<config hash>/. The id is a function of
// the config, so running the same config again finds (and resumes or skips) its run.
import { join } from 'node:path';
import { configHash, type Config } from '../config/index.js';

export function runIdFor(cfg: Config): string {
  return `seed${cfg.seed}-${configHash(cfg)}`;
}

export function runDirFor(resultsDir: string, cfg: Config): string {
  return join(resultsDir, cfg.name, runIdFor(cfg));
}
