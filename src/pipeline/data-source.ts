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

export function openData(cfg: Config, dataDir: string): DataSources {
  return getDataset(cfg.data.dataset).open(dataDir, cfg.data);
}
