// `evnn eval`: evaluates a run's best checkpoint (or a given one) on a split. Writes nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { runDirFor } from '../results/run-dir.js';
import { loadModelState } from '../train/checkpoint.js';
import { evaluate } from '../train/loop.js';
import { openData, prepareData } from './data-source.js';
import { setUpEngine } from './engine.js';
import { buildModel } from './model-from-config.js';
import type { EvalOutcome, PipelineOptions } from './options.js';

export async function evalConfig(
  cfg: Config,
  opts: PipelineOptions & { split: 'valid' | 'test'; checkpoint?: string },
): Promise<EvalOutcome> {
  setUpEngine(cfg, opts);
  const checkpoint = opts.checkpoint ?? join(runDirFor(opts.resultsDir, cfg), 'best.safetensors');
  if (!existsSync(checkpoint)) {
    throw new Error(`no checkpoint at ${checkpoint}: train first with \`evnn run\` or \`evnn pretrain\`, or pass --checkpoint FILE`);
  }
  await prepareData(cfg, opts.dataDir, false, () => {});
  const data = openData(cfg, opts.dataDir);
  const model = buildModel(cfg, data.inputSize, data.numClasses);
  model.loadState(loadModelState(checkpoint));
  const r = await evaluate(model, data.split(opts.split), cfg.train.eval_batch_size);
  return { split: opts.split, loss: r.loss, accuracy: r.accuracy, checkpoint };
}
