// `evnn prepare` and `evnn feature`: build the Arrow dataset a config (or a dataset name) needs,
// through the dataset registry.
import type { Config } from '../config/index.js';
import { getDataset } from '../data/registry.js';
import { prepareData } from './data-source.js';
import type { PipelineOptions } from './options.js';

export const say = (quiet: boolean) => (m: string) => {
  if (!quiet) process.stderr.write(`${m}\n`);
};

export async function prepareFromConfig(cfg: Config, opts: PipelineOptions): Promise<void> {
  await prepareData(cfg, opts.dataDir, opts.force, say(opts.quiet));
}

export async function prepareDatasetByName(
  name: string,
  opts: PipelineOptions & { source?: string; validFraction?: number; splitSeed?: number; allowOtherVocab?: boolean },
): Promise<void> {
  await getDataset(name).prepareByName({
    dataDir: opts.dataDir, source: opts.source, validFraction: opts.validFraction, splitSeed: opts.splitSeed, allowOtherVocab: opts.allowOtherVocab,
    force: opts.force, log: say(opts.quiet),
  });
}

/** The feature-extraction step of a dataset that has one (prepares the dataset first). */
export async function featureFromConfig(cfg: Config, opts: PipelineOptions): Promise<void> {
  const dataset = getDataset(cfg.data.dataset);
  if (!dataset.feature) {
    throw new Error(`the ${dataset.name} dataset has no feature-extraction step (\`evnn feature\` is for datasets that have one, such as speech)`);
  }
  await prepareData(cfg, opts.dataDir, false, say(opts.quiet));
  await dataset.feature.run({ dataDir: opts.dataDir, data: cfg.data, force: opts.force, log: say(opts.quiet) });
}
