// Turns the config's data section into batch sources over the prepared Arrow files, through the
// dataset registry (src/data/registry.ts).
import type { Config } from '../config/index.js';
import { getDataset, type DatasetSplits } from '../data/registry.js';

export type { SplitName } from '../data/registry.js';
export type DataSources = DatasetSplits;

/** Prepares (or reuses) the dataset the config names. */
export async function prepareData(cfg: Config, dataDir: string, force: boolean, log: (m: string) => void): Promise<void> {
  await getDataset(cfg.data.dataset).prepare({ dataDir, data: cfg.data, force, log });
}

/**
 * What a training or evaluation step needs before it opens the splits: the prepared dataset and,
 * for a dataset with one, its features (each reused when done, redone when stale).
 */
export async function prepareInputs(cfg: Config, dataDir: string, log: (m: string) => void): Promise<void> {
  await prepareData(cfg, dataDir, false, log);
  await getDataset(cfg.data.dataset).feature?.run({ dataDir, data: cfg.data, force: false, log });
}

export function openData(cfg: Config, dataDir: string): DataSources {
  return getDataset(cfg.data.dataset).open(dataDir, cfg.data);
}
