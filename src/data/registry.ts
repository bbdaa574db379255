// The dataset registry: one module per dataset, each with its preparation, the Arrow schema of its
// prepared splits, the sequence views a config may ask for, its metadata (number of classes or
// vocabulary) and, for datasets that have one (speech), a feature-extraction step. The pipeline
// and `evnn prepare <name>` reach datasets only through here; a new dataset is a module beside
// mnist-dataset.ts (or lm-corpus.ts for a language-model corpus) added to DATASETS below.
import type { DatasetModule } from './dataset-module.js';
import { dvs128Dataset } from './dvs128-dataset.js';
import { fmnistDataset } from './fmnist-dataset.js';
import { gscv2Dataset } from './gscv2-dataset.js';
import { ptbDataset, wikitext2Dataset } from './lm-corpus.js';
import { mnistDataset } from './mnist-dataset.js';
import { nmnistDataset } from './nmnist-dataset.js';
import { shdDataset } from './shd-dataset.js';

export type {
  DataConfig, DatasetMetadata, DatasetModule, DatasetSplits, FeatureExtraction, PrepareByNameOptions, PrepareForConfigOptions, SplitName,
} from './dataset-module.js';

const DATASETS: readonly DatasetModule[] = [mnistDataset, ptbDataset, wikitext2Dataset, gscv2Dataset, fmnistDataset, nmnistDataset, shdDataset, dvs128Dataset];

/** Names of the registered datasets, in registration order. */
export function datasetNames(): [string, ...string[]] {
  return DATASETS.map((d) => d.name) as [string, ...string[]];
}

export function findDataset(name: string): DatasetModule | undefined {
  return DATASETS.find((d) => d.name === name);
}

/** The dataset module of `name`; an unknown name is an error listing the known ones. */
export function getDataset(name: string): DatasetModule {
  const d = findDataset(name);
  if (!d) throw new Error(`unknown dataset "${name}" (known datasets: ${datasetNames().join(', ')})`);
  return d;
}
