// The `model:` section. rnn is a union on `type`, one entry per family of src/layers/families.ts;
// a family's own fields are its cell's options in snake_case (EvNN's and PyTorch's spelling).
import { z } from 'zod';
import { EGRU_DEFAULTS } from '../layers/egru-cell.js';
import { FAMILIES } from '../layers/families.js';

const stackFields = {
  hidden_size: z.int().min(1),
  num_layers: z.int().min(1).default(1),
  /** dropout between layers (nn.GRU/nn.LSTM's dropout); optional, so existing configs keep their identity */
  dropout: z.number().min(0).lt(1).optional(),
};

/** AWD's WeightDrop, as EvNN's LM baselines use it: rows of weight_hh dropped in training (optional: absent = off). */
const weightDrop = { dropconnect: z.number().min(0).lt(1).optional() };

export const gruSchema = z.strictObject({ type: z.literal('gru'), ...stackFields, ...weightDrop });

/** PyTorch nn.LSTM. */
export const lstmSchema = z.strictObject({ type: z.literal('lstm'), ...stackFields, ...weightDrop });

/** EGRU with EvNN's option names and defaults (evnn_pytorch.EGRU). */
export const egruSchema = z.strictObject({
  type: z.literal('egru'),
  ...stackFields,
  /** mean of the Beta(3μ/(1−μ), 3) threshold initialisation */
  thr_mean: z.number().gt(0).lt(1).default(EGRU_DEFAULTS.thrMean),
  /** γ of the surrogate γ·max(0, 1 − ε|v|) */
  dampening_factor: z.number().min(0).default(EGRU_DEFAULTS.dampeningFactor),
  /** ε of the surrogate (support |v| < 1/ε) */
  pseudo_derivative_support: z.number().gt(0).default(EGRU_DEFAULTS.pseudoDerivativeSupport),
  zoneout: z.number().min(0).lt(1).default(EGRU_DEFAULTS.zoneout),
  /** DropConnect on recurrent_kernel */
  dropconnect: z.number().min(0).lt(1).default(EGRU_DEFAULTS.dropconnect),
  /** EvNN's per-layer gradient clipping (L2 norm of each layer's gradients); 0 = off */
  grad_clip: z.number().min(0).default(EGRU_DEFAULTS.gradClip),
  weight_init_gain: z.number().gt(0).default(EGRU_DEFAULTS.weightInitGain),
});

export const rnnSchema = z.discriminatedUnion('type', [gruSchema, lstmSchema, egruSchema]);

const rate = z.number().min(0).lt(1);

export const modelSchema = z
  .strictObject({
    /**
     * sequence-classifier: a stack read out by a linear layer at the last step (sMNIST);
     * language-model: EvNN's LM (embedding, stack, decoder tied to the embedding; perplexity).
     */
    type: z.enum(['sequence-classifier', 'language-model']).default('sequence-classifier'),
    rnn: rnnSchema,
    readout: z.enum(['last']).default('last'),
    /**
     * Read out the EGRU's output trace (0.9·tr + 0.1·y) at the last step instead of y (EvNN's
     * --use-output-trace). Optional rather than defaulted: a GRU config resolves as before, so its
     * run identity (hash) does not move.
     */
    use_output_trace: z.boolean().optional(),
    // language-model only (EvNN's LM script options); optional, so classifier configs keep their identity.
    /** embedding width; the last recurrent layer has this width (the decoder is tied to the embedding) */
    emb_dim: z.int().min(1).optional(),
    /** whole vocabulary rows dropped in training (EvNN's dropout_words; absent = 0) */
    dropout_words: rate.optional(),
    /** dropout on the embedded input (EvNN's dropout_emb; absent = 0) */
    dropout_emb: rate.optional(),
    /** dropout on the last layer's output (EvNN hard-codes 0.5; absent = 0.5) */
    dropout_output: rate.optional(),
    /**
     * what one mask element covers for the embedding, between-layer and output dropout: evnn (per
     * step and unit, shared across the batch, as EvNN's code; absent = evnn), locked (per sample
     * and unit, shared across a segment's steps, as AWD-LSTM), element (per step, sample and unit)
     */
    dropout_mode: z.enum(['evnn', 'locked', 'element']).optional(),
  })
  .superRefine((m, ctx) => {
    const lmFields = ['emb_dim', 'dropout_words', 'dropout_emb', 'dropout_output', 'dropout_mode'] as const;
    if (m.type === 'language-model') {
      if (m.emb_dim === undefined) ctx.addIssue({ code: 'custom', path: ['emb_dim'], message: 'required for type: language-model' });
      if (m.use_output_trace) ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: 'a language model reads every step (not for type: language-model)' });
    } else {
      for (const f of lmFields) {
        if (m[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `needs type: language-model (this model is a ${m.type})` });
      }
    }
    const taps: readonly string[] = FAMILIES[m.rnn.type].taps;
    if (m.use_output_trace && !taps.includes('trace')) {
      ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: `needs rnn.type: egru (a ${m.rnn.type} has no output trace)` });
    }
  });

export type ModelConfig = z.infer<typeof modelSchema>;
export type RnnConfig = z.infer<typeof rnnSchema>;
