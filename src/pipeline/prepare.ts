// `evnn prepare`: builds the Arrow dataset a config (or a dataset name) needs.
import type { Config } from '../config/index.js';
import { prepareMnist, resolvePermutation } from '../data/index.js';
import { prepareData } from './data-source.js';
import type { PipelineOptions } from './options.js';

const say = (quiet: boolean) => (m: string) => {
  if (!quiet) process.stderr.write(`${m}\n`);
};

export async function prepareFromConfig(cfg: Config, opts: PipelineOptions): Promise<void> {
  await prepareData(cfg, opts.dataDir, opts.force, say(opts.quiet));
  // Records the permutation a psMNIST config uses in meta.json.
  resolvePermutation(opts.dataDir, cfg.data.view, { permutation: cfg.data.permutation, seed: cfg.data.permutation_seed });
}

export async function prepareDatasetByName(
  name: string,
  opts: PipelineOptions & { source?: string; validFraction?: number; splitSeed?: number },
): Promise<void> {
  if (name !== 'mnist') throw new Error(`unknown dataset "${name}" (available: mnist)`);
  await prepareMnist({
    dataDir: opts.dataDir, source: opts.source, validFraction: opts.validFraction, splitSeed: opts.splitSeed, force: opts.force,
    log: say(opts.quiet),
  });
}
