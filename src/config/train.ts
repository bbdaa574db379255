// The `train:` section: optimizer (with parameter groups), schedule, clipping, epochs, batches.
import { z } from 'zod';
import { spikeRegularizationSchema } from './snn.js';

const lr = z.number().gt(0);
const beta = z.number().min(0).lt(1);

const adamBase = {
  lr,
  betas: z.tuple([beta, beta]).default([0.9, 0.999]),
  eps: z.number().gt(0).default(1e-8),
};

export const optimizerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('adam'), ...adamBase, weight_decay: z.number().min(0).default(0) }),
  z.strictObject({ type: z.literal('adamw'), ...adamBase, weight_decay: z.number().min(0).default(0.01) }),
  z.strictObject({
    type: z.literal('sgd'),
    lr,
    momentum: z.number().min(0).lt(1).default(0),
    dampening: z.number().min(0).max(1).default(0),
    nesterov: z.boolean().default(false),
    weight_decay: z.number().min(0).default(0),
  }),
]);

export const paramGroupSchema = z.strictObject({
  /** A JavaScript regular expression tested against parameter names; the first matching group wins. */
  match: z.string().refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  ),
  lr_scale: z.number().min(0).default(1),
  weight_decay: z.number().min(0).optional(),
});

export const scheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant') }),
  z.strictObject({ type: z.literal('step'), step_size: z.int().min(1), gamma: z.number().gt(0).max(1) }),
  /** constant until epoch `start`, then cosine annealing to 0 at the last epoch (EvNN's LM: CosineAnnealingLR from scheduler_start) */
  z.strictObject({ type: z.literal('cosine'), start: z.int().min(0) }),
  /** ReduceLROnPlateau on the validation loss (PyTorch's, mode min; DeltaRNN's speech training: factor 0.8, patience 4, min_lr 3e-4) */
  z.strictObject({
    type: z.literal('plateau'),
    factor: z.number().gt(0).lt(1).default(0.8),
    patience: z.int().min(0).default(4),
    threshold: z.number().min(0).lt(1).default(1e-4),
    min_lr: z.number().min(0).default(3e-4),
  }),
]);

/** EvNN's sMNIST regularisers: constant × (mean of o − target)² and constant × mean((c − target)²). */
const regulariser = (target: number) =>
  z.strictObject({ constant: z.number().min(0).default(1), target: z.number().default(target) });

export const trainSchema = z.strictObject({
  epochs: z.int().min(1),
  batch_size: z.int().min(1),
  eval_batch_size: z.int().min(1).default(1000),
  optimizer: optimizerSchema,
  param_groups: z.array(paramGroupSchema).default([]),
  grad_clip: z.number().min(0).default(0),
  schedule: scheduleSchema.default({ type: 'constant' }),
  checkpoint_every: z.int().min(1).default(1),
  /** Learning-rate multiplier for EGRU thresholds (parameters named …thr); param_groups match first. Absent = 1. */
  thr_lr_scale: z.number().min(0).optional(),
  /** language models: the BPTT segment length (required there) */
  bptt: z.int().min(2).optional(),
  /** language models: AWD-style random segment lengths in training (absent = true, as EvNN) */
  variable_bptt: z.boolean().optional(),
  /** language models: the test split's batch size (absent = eval_batch_size; EvNN tests at 1) */
  test_batch_size: z.int().min(1).optional(),
  /** EGRU activity regulariser on the last layer's events (EvNN default target 0.05). */
  activity_regularization: regulariser(0.05).optional(),
  /** EGRU voltage regulariser on the last layer's internal state c (EvNN default target −0.9). */
  voltage_regularization: regulariser(-0.9).optional(),
  /** spiking classifiers: the S3GD reference's spike-count regulariser on every LIF layer (absent = off) */
  spike_regularization: spikeRegularizationSchema.optional(),
});

export type TrainConfig = z.infer<typeof trainSchema>;
export type OptimizerConfig = z.infer<typeof optimizerSchema>;
export type ParamGroupConfig = z.infer<typeof paramGroupSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
