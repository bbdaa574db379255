// The `model.snn:` section of a spiking classifier (model.type spiking-classifier): feed-forward
// LIF layers and a leaky readout, as in the S3GD reference (npvoid/SparseSpikingBackprop). Time
// constants are in ms; the time step is the dataset's (data.dt_ms), so β = exp(−dt/τ).
import { z } from 'zod';

export const snnSchema = z.strictObject({
  /** widths of the LIF layers (the reference: two of 200) */
  hidden_sizes: z.array(z.int().min(1)).min(1).default([200, 200]),
  /** membrane time constant in ms (β = exp(−dt/τ_mem)) */
  tau_mem_ms: z.number().positive().default(10),
  /** readout time constant in ms (β_r = exp(−dt/τ_readout)) */
  tau_readout_ms: z.number().positive().default(10),
  /** firing threshold ϑ */
  threshold: z.number().positive().default(1),
  /** S3GD band: a neuron-step is active iff b_th < v < 2ϑ − b_th (the paper's B_th = 1 − b_th) */
  b_th: z.number().min(0).default(0.8),
  /** s3gd: the sparse backward over the active set; dense: BPTT through every neuron-step (the baseline) */
  backward: z.enum(['s3gd', 'dense']).default('s3gd'),
  /** how the readout's time course becomes logits: max (Fashion-MNIST, N-MNIST), sum (SHD), mean, last */
  readout: z.enum(['max', 'sum', 'mean', 'last']).default('max'),
  /** normal: N(0, 20·(1−β)/√fan_in) (the reference's Fashion-MNIST init); uniform: U(±1/√fan_in) (N-MNIST, SHD) */
  init: z.enum(['normal', 'uniform']).default('normal'),
});

export type SnnConfig = z.infer<typeof snnSchema>;

/** The reference's spike-count regulariser on every hidden layer (train.spike_regularization). */
export const spikeRegularizationSchema = z.strictObject({
  lambda_up: z.number().min(0).default(0.06),
  f_up: z.number().min(0).default(1),
  p_up: z.number().positive().default(1),
  lambda_low: z.number().min(0).default(100),
  f_low: z.number().min(0).default(1e-3),
});

export type SpikeRegularizationConfig = z.infer<typeof spikeRegularizationSchema>;
