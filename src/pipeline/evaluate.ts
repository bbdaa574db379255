// Evaluation: the eval step (the last training step's best checkpoint on the test split, written
// to eval/result.json) and `evnn eval`, which evaluates a run's best checkpoint (or a given one) on
// a split and prints it; it writes only when it is the config's eval step.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { createRunLogger } from '../log/logger.js';
import { readEvalResult, writeEvalResult, type EvalResult } from '../results/eval-result.js';
import { loadModelState } from '../train/checkpoint.js';
import { prepareInputs } from './data-source.js';
import { setUpEngine } from './engine.js';
import type { EvalOutcome, PipelineOptions } from './options.js';
import { findPlannedStep, lastTrainingPlan, planRun, type EvalStepPlan, type RunPlan, type TrainingStepPlan } from '../results/run-plan.js';
import { StepOrderError } from './step-errors.js';
import { openTask } from './task.js';
import { finishedSummary, stepFiles, VERSION } from './train-step.js';

export const evalResultFile = (step: EvalStepPlan) => join(step.dir, 'result.json');

/** `evnn eval`: the config's eval step when that is what is asked for, else an evaluation that writes nothing. */
export async function evalConfig(
  cfg: Config,
  opts: PipelineOptions & { split: 'valid' | 'test'; checkpoint?: string },
): Promise<EvalOutcome> {
  const plan = planRun(cfg, opts.resultsDir);
  const step = findPlannedStep(plan, 'eval') as EvalStepPlan | undefined;
  if (step && opts.split === 'test' && opts.checkpoint === undefined) {
    const r = (await evalStep(plan, step, opts, { again: true })).result;
    return { split: r.split, loss: r.loss, accuracy: r.accuracy, metric: r.metric, checkpoint: r.of.checkpoint };
  }
  const source = step?.of ?? lastTrainingPlan(plan)!;
  setUpEngine(source.cfg, opts);
  const checkpoint = opts.checkpoint ?? stepFiles(source.dir).best;
  if (!existsSync(checkpoint)) {
    throw new Error(`no checkpoint at ${checkpoint}: train first with \`evnn run\` or \`evnn ${source.name}\`, or pass --checkpoint FILE`);
  }
  const r = await evaluateCheckpoint(source, checkpoint, opts.split, opts.dataDir);
  return { split: opts.split, loss: r.loss, accuracy: r.accuracy, metric: r.metric, checkpoint };
}

/**
 * The eval step. Skipped when its result.json is for the same training step (same identity),
 * unless `again`; the training step must have finished.
 */
export async function evalStep(
  plan: RunPlan, step: EvalStepPlan, opts: PipelineOptions, o: { again?: boolean } = {},
): Promise<{ result: EvalResult; skipped: boolean }> {
  const file = evalResultFile(step);
  if (!o.again && existsSync(file)) {
    const done = readEvalResult(file);
    if (done.of.hash === step.of.hash) return { result: done, skipped: true };
  }
  const source = finishedSummary(step.of);
  if (!source) throw new StepOrderError('eval', step.of.name, step.of.dir, opts.configFile, `tests ${step.of.name}'s best checkpoint`);
  setUpEngine(step.of.cfg, opts);
  mkdirSync(step.dir, { recursive: true });
  const log = createRunLogger(step.dir, { quiet: opts.quiet });
  const checkpoint = stepFiles(step.of.dir).best;
  const r = await evaluateCheckpoint(step.of, checkpoint, 'test', opts.dataDir);
  const result: EvalResult = {
    config: plan.cfg.name,
    run_id: plan.runId,
    step: 'eval',
    of: { step: step.of.name, hash: step.of.hash, checkpoint, epoch: source.final.best_epoch },
    split: 'test',
    metric: r.metric,
    loss: r.loss,
    accuracy: r.accuracy,
    samples: r.samples,
    wall_time_s: r.seconds,
    evnn_version: VERSION,
    finished_at: new Date().toISOString(),
  };
  writeEvalResult(file, result);
  const value = r.metric.name === 'accuracy' ? `${(100 * r.metric.value).toFixed(2)}%` : r.metric.value.toFixed(2);
  log.info({ event: 'eval', ...result }, `eval: ${step.of.name}'s best checkpoint on test: ${r.metric.name} ${value}`);
  return { result, skipped: false };
}

async function evaluateCheckpoint(source: TrainingStepPlan, checkpoint: string, split: 'valid' | 'test', dataDir: string) {
  const cfg = source.cfg;
  await prepareInputs(cfg, dataDir, () => {});
  const task = openTask(cfg, dataDir);
  const model = task.model;
  model.loadState(loadModelState(checkpoint));
  const r = await task.evaluate(split);
  return {
    loss: r.loss, accuracy: r.accuracy, samples: r.samples, seconds: r.seconds,
    metric: { name: model.taskMetric.name, value: model.taskMetric.of(r) },
  };
}
