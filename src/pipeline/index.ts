// Pipeline steps the CLI calls: prepare → pretrain (train, validate, test) and eval.
import type { Config } from '../config/index.js';
import { prepareFromConfig } from './prepare.js';
import { pretrainConfig } from './pretrain.js';
import type { PipelineOptions, RunOutcome } from './options.js';

export type { PipelineOptions, RunOutcome, EvalOutcome } from './options.js';
export { pretrainConfig } from './pretrain.js';
export { evalConfig } from './evaluate.js';
export { prepareFromConfig, prepareDatasetByName } from './prepare.js';

/** Every step the config names, skipping finished ones (a prepared dataset, a finished run). */
export async function runConfig(cfg: Config, opts: PipelineOptions): Promise<RunOutcome> {
  await prepareFromConfig(cfg, { ...opts, force: false });
  return pretrainConfig(cfg, opts);
}
