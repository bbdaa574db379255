// The `model:` section. rnn is a union on `type` so further layer types slot in.
import { z } from 'zod';

export const gruSchema = z.strictObject({
  type: z.literal('gru'),
  hidden_size: z.int().min(1),
  num_layers: z.int().min(1).default(1),
});

export const rnnSchema = z.discriminatedUnion('type', [gruSchema]);

export const modelSchema = z.strictObject({
  type: z.literal('sequence-classifier').default('sequence-classifier'),
  rnn: rnnSchema,
  readout: z.enum(['last']).default('last'),
});

export type ModelConfig = z.infer<typeof modelSchema>;
export type RnnConfig = z.infer<typeof rnnSchema>;
