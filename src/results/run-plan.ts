// What a run consists of: its directory, and each step with its directory, its config and its
// identity. A config without `steps:` is one training step (pretrain) in the run directory itself.
import { join } from 'node:path';
import {
  isTrainingStepConfig, stepConfig, stepHash, stepsOf, type Config, type StepName, type TrainingStepName,
} from '../config/index.js';
import { runDirFor, runIdFor } from './run-dir.js';

export interface TrainingStepPlan {
  kind: 'train';
  name: TrainingStepName;
  dir: string;
  /** The step's sections as a single-step config. */
  cfg: Config;
  /** Identity of the step (written into its checkpoints). */
  hash: string;
  /** The step whose best checkpoint this one starts from, and the parameter-name map. */
  from?: { step: TrainingStepPlan; map: Record<string, string> };
}

export interface EvalStepPlan {
  kind: 'eval';
  name: 'eval';
  dir: string;
  /** The training step whose best checkpoint is tested. */
  of: TrainingStepPlan;
}

export interface DataStepPlan {
  kind: 'prepare' | 'feature';
  name: 'prepare' | 'feature';
}

export type StepPlan = TrainingStepPlan | EvalStepPlan | DataStepPlan;

export interface RunPlan {
  cfg: Config;
  runDir: string;
  runId: string;
  /** No `steps:` in the config: the one training step writes into the run directory. */
  flat: boolean;
  steps: StepPlan[];
}

export function planRun(cfg: Config, resultsDir: string): RunPlan {
  const runDir = runDirFor(resultsDir, cfg);
  const flat = cfg.steps === undefined;
  const steps: StepPlan[] = [];
  const trained = new Map<string, TrainingStepPlan>();
  let last: TrainingStepPlan | undefined;
  for (const s of stepsOf(cfg)) {
    if (isTrainingStepConfig(s)) {
      const from = s.init_from ? { step: trained.get(s.init_from.step)!, map: s.init_from.map } : undefined;
      const p: TrainingStepPlan = { kind: 'train', name: s.name, dir: flat ? runDir : join(runDir, s.name), cfg: stepConfig(cfg, s), hash: stepHash(cfg, s.name), from };
      trained.set(s.name, p);
      steps.push(p);
      last = p;
    } else if (s.name === 'eval') {
      // Validation guarantees a training step before eval.
      steps.push({ kind: 'eval', name: 'eval', dir: join(runDir, 'eval'), of: last! });
    } else {
      steps.push({ kind: s.name, name: s.name });
    }
  }
  return { cfg, runDir, runId: runIdFor(cfg), flat, steps };
}

export function findPlannedStep(plan: RunPlan, name: StepName): StepPlan | undefined {
  return plan.steps.find((s) => s.name === name);
}

/** Steps that use `name`'s results, directly or through others (they are stale once it reruns). */
export function dependentsOf(plan: RunPlan, name: StepName): StepPlan[] {
  const out: StepPlan[] = [];
  const stale = new Set<string>([name]);
  for (const s of plan.steps) {
    const uses = s.kind === 'train' ? s.from?.step.name : s.kind === 'eval' ? s.of.name : undefined;
    if (uses !== undefined && stale.has(uses)) {
      stale.add(s.name);
      out.push(s);
    }
  }
  return out;
}

/** The last training step of the run (what `evnn eval` tests). */
export function lastTrainingPlan(plan: RunPlan): TrainingStepPlan | undefined {
  return [...plan.steps].reverse().find((s): s is TrainingStepPlan => s.kind === 'train');
}
