// A point's state as its run directory tells it (any backend): finished when every training step's
// summary.json says finished after all its epochs (and the eval step, when the config lists one,
// wrote its result.json); failed when a step stopped on a non-finite loss; stopped when the run
// directory exists otherwise; not started when it does not.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { planRun } from '../results/run-plan.js';
import { readSummary, type Summary } from '../results/summary.js';
import type { SweepPlan, SweepPoint } from '../results/sweep-plan.js';

export interface RunDirState {
  state: 'finished' | 'failed' | 'stopped' | 'not started';
  /** "test accuracy 97.10%, best valid 97.50%", "retrain stopped after 2/5 epochs", ... */
  detail?: string;
  /** the run's log.jsonl of the step that stopped or failed */
  log?: string;
}

const metricText = (name: string, v: number) => (name === 'accuracy' ? `${(100 * v).toFixed(2)}%` : v.toFixed(2));

/** What a finished step's summary says: the test metric and the best validation one. */
export function summaryDetail(s: Summary): string {
  const parts: string[] = [];
  if (s.metric.value !== null) parts.push(`test ${s.metric.name} ${metricText(s.metric.name, s.metric.value)}`);
  if (s.metric.best_valid !== null) parts.push(`best valid ${metricText(s.metric.name, s.metric.best_valid)}`);
  return parts.join(', ');
}

export function runDirState(plan: Pick<SweepPlan, 'resultsDir'>, point: Pick<SweepPoint, 'configFile' | 'runDir'>): RunDirState {
  if (!existsSync(point.runDir)) return { state: 'not started' };
  const run = planRun(loadConfig(point.configFile), plan.resultsDir);
  let last: Summary | undefined;
  for (const step of run.steps) {
    const where = run.flat ? '' : `${step.name} `;
    if (step.kind === 'train') {
      const file = join(step.dir, 'summary.json');
      const log = join(step.dir, 'log.jsonl');
      if (!existsSync(file)) return { state: 'stopped', detail: existsSync(step.dir) ? `${where}interrupted` : `${where}not started`, log };
      let s: Summary;
      try {
        s = readSummary(file);
      } catch (err) {
        return { state: 'stopped', detail: (err as Error).message, log };
      }
      if (s.status === 'stopped-nonfinite') return { state: 'failed', detail: `${where}stopped: non-finite loss after ${s.epochs_run}/${step.cfg.train.epochs} epochs`, log };
      if (s.epochs_run < step.cfg.train.epochs) return { state: 'stopped', detail: `${where}stopped after ${s.epochs_run}/${step.cfg.train.epochs} epochs`, log };
      last = s;
    } else if (step.kind === 'eval') {
      if (!existsSync(join(step.dir, 'result.json'))) return { state: 'stopped', detail: 'eval not done' };
    }
  }
  return { state: 'finished', detail: last ? summaryDetail(last) : undefined };
}
