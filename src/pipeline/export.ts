// `evnn export`: the best checkpoint of a config's (last) training step as a plain safetensors
// file under the reference code's state_dict names — for a language model EvNN's, the tied decoder
// weight under decoder.decoder.weight as well as embeddings.weight — loadable with
// safetensors.torch.load_file into the reference model. No evnn metadata is kept.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { writeSafetensors } from '../io/safetensors.js';
import { loadModelState } from '../train/checkpoint.js';
import { prepareData } from './data-source.js';
import { setUpEngine } from './engine.js';
import type { PipelineOptions } from './options.js';
import { lastTrainingPlan, planRun } from '../results/run-plan.js';
import { openTask } from './task.js';

export interface ExportOutcome {
  from: string;
  file: string;
  tensors: string[];
}

export async function exportConfig(cfg: Config, opts: PipelineOptions & { out: string; checkpoint?: string }): Promise<ExportOutcome> {
  setUpEngine(cfg, opts);
  const step = lastTrainingPlan(planRun(cfg, opts.resultsDir));
  if (!step) throw new Error('the config has no training step to export');
  const from = opts.checkpoint ?? join(step.dir, 'best.safetensors');
  if (!existsSync(from)) throw new Error(`no checkpoint at ${from}: train first with \`evnn run\`, or pass --checkpoint FILE`);
  await prepareData(step.cfg, opts.dataDir, false, () => {});
  const { model } = openTask(step.cfg, opts.dataDir);
  // Loading through the model checks every name and shape (and that a tied copy agrees).
  model.loadState(loadModelState(from));
  const state = model.state();
  writeSafetensors(opts.out, state);
  return { from, file: opts.out, tensors: Object.keys(state) };
}
