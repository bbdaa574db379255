// `evnn run` (every step of the config, in order, skipping finished ones and resuming an
// interrupted one) and `evnn <step>` (one step; a step it needs must have finished).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { configToYaml, type Config, type StepName } from '../config/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { evalStep } from './evaluate.js';
import type { PipelineOptions, PipelineOutcome, StepOutcome } from './options.js';
import { dependentsOf, findPlannedStep, planRun, type RunPlan, type StepPlan, type TrainingStepPlan } from '../results/run-plan.js';
import { featureFromConfig, prepareFromConfig } from './prepare.js';
import { trainStep } from './train-step.js';

/** Every step the config names, in order: a finished step is skipped, an interrupted one resumes. */
export async function runConfig(cfg: Config, opts: PipelineOptions): Promise<PipelineOutcome> {
  const plan = planRun(cfg, opts.resultsDir);
  if (opts.force) rmSync(plan.runDir, { recursive: true, force: true });
  const o = { ...opts, force: false };
  writeRunConfig(plan);
  const steps: StepOutcome[] = [];
  for (const step of plan.steps) steps.push(await runPlannedStep(plan, step, o));
  return { runDir: plan.runDir, flat: plan.flat, steps };
}

/** One step of the config. With force it is redone, and the steps that use its results are dropped. */
export async function runStep(cfg: Config, name: StepName, opts: PipelineOptions): Promise<PipelineOutcome> {
  const plan = planRun(cfg, opts.resultsDir);
  const step = findPlannedStep(plan, name);
  if (!step && name === 'feature') {
    // Not listed: still the dataset's feature step (an error naming the dataset when it has none).
    await featureFromConfig(cfg, opts);
    return { runDir: plan.runDir, flat: plan.flat, steps: [{ step: 'feature', dir: null, skipped: false }] };
  }
  if (!step) {
    const listed = plan.steps.map((s) => s.name).join(', ');
    throw new Error(
      plan.flat
        ? `this config has no ${name} step: a config without \`steps:\` has one training step, pretrain (add \`steps:\` to run ${name})`
        : `the config lists no ${name} step (its steps: ${listed})`,
    );
  }
  if (opts.force && (step.kind === 'train' || step.kind === 'eval')) {
    for (const s of [step, ...dependentsOf(plan, name)]) {
      if (s.kind === 'train' || s.kind === 'eval') rmSync(s.dir, { recursive: true, force: true });
    }
  }
  writeRunConfig(plan);
  const o = { ...opts, force: step.kind === 'prepare' || step.kind === 'feature' ? opts.force : false };
  return { runDir: plan.runDir, flat: plan.flat, steps: [await runPlannedStep(plan, step, o)] };
}

/** The whole resolved config at the top of a run with steps (a single-step run writes its own). */
function writeRunConfig(plan: RunPlan): void {
  if (plan.flat) return;
  mkdirSync(plan.runDir, { recursive: true });
  writeFileAtomic(join(plan.runDir, 'config.yaml'), configToYaml(plan.cfg));
}

async function runPlannedStep(plan: RunPlan, step: StepPlan, opts: PipelineOptions): Promise<StepOutcome> {
  switch (step.kind) {
    case 'prepare':
      await prepareFromConfig(plan.cfg, opts);
      return { step: 'prepare', dir: null, skipped: false };
    case 'feature':
      await featureFromConfig(plan.cfg, opts);
      return { step: 'feature', dir: null, skipped: false };
    case 'train': {
      const train = await trainStep(plan, step, opts);
      return { step: step.name, dir: step.dir, skipped: train.skipped, train, ...(await stepReport(plan, step, train.skipped, opts)) };
    }
    case 'eval': {
      const r = await evalStep(plan, step, opts);
      return { step: 'eval', dir: step.dir, skipped: r.skipped, eval: r.result };
    }
  }
}

/**
 * A finished training step's report.html (unless the config says `report: false` or the command
 * line `--no-report`): written after training, and for a step that had finished before when it has
 * none. A failure to write it leaves the step's results as they are and is said in the outcome.
 */
async function stepReport(plan: RunPlan, step: TrainingStepPlan, skipped: boolean, opts: PipelineOptions): Promise<Pick<StepOutcome, 'report' | 'reportError'>> {
  if (opts.report === false || plan.cfg.report === false) return {};
  // Loaded on demand: the plotting libraries cost the other commands nothing.
  const { REPORT_FILE, writeRunReport } = await import('../results/report.js');
  const file = join(step.dir, REPORT_FILE);
  if (skipped && existsSync(file)) return { report: file };
  try {
    return { report: await writeRunReport(step.dir, file) };
  } catch (err) {
    return { reportError: (err as Error).message };
  }
}
