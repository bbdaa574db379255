// The data a sweep's points need, prepared once before any point runs, so that points running in
// parallel do not race on the datasets folder: each distinct data section's prepare step (and the
// feature step of a dataset that has one).
import { canonicalJson } from '../util/canonical.js';
import { loadConfig } from '../config/index.js';
import { findDataset } from '../data/registry.js';
import { featureFromConfig, prepareFromConfig } from '../pipeline/index.js';
import type { SweepPlan, SweepPoint } from '../results/sweep-plan.js';

export async function prepareSweepData(plan: SweepPlan, points: readonly SweepPoint[], o: { quiet: boolean }): Promise<void> {
  const done = new Set<string>();
  for (const p of points) {
    const cfg = loadConfig(p.configFile);
    const key = canonicalJson(cfg.data);
    if (done.has(key)) continue;
    done.add(key);
    const opts = { dataDir: plan.dataDir, resultsDir: plan.resultsDir, force: false, quiet: o.quiet };
    if (findDataset(cfg.data.dataset)?.feature) await featureFromConfig(cfg, opts);
    else await prepareFromConfig(cfg, opts);
  }
}
