// Pipeline steps the CLI calls: prepare → feature → pretrain → retrain → eval, skipping what is done.
export type { PipelineOptions, RunOutcome, EvalOutcome, StepOutcome, PipelineOutcome } from './options.js';
export { runConfig, runStep } from './run.js';
export { evalConfig } from './evaluate.js';
export { prepareFromConfig, prepareDatasetByName, featureFromConfig } from './prepare.js';
export { planRun, type RunPlan, type StepPlan } from '../results/run-plan.js';
