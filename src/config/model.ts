// The `model:` section. rnn is a union on `type`, one entry per family of src/layers/families.ts;
// a family's own fields are its cell's options in snake_case (EvNN's and PyTorch's spelling).
import { z } from 'zod';
import { DELTA_DEFAULTS } from '../layers/delta-cell.js';
import { EGRU_DEFAULTS } from '../layers/egru-cell.js';
import { FAMILIES } from '../layers/families.js';
import { snnSchema } from './snn.js';

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

/** A fixed-point format's bits (qi counts the sign bit; qi + qf <= 24 is checked by the cell). */
const qBits = (min: number, d: number) => z.int().min(min).max(24).default(d);

/** gaochangw/DeltaRNN's DeltaGRU/DeltaLSTM options with its names and defaults (nn.GRU/nn.LSTM parameters). */
const deltaFields = {
  ...stackFields,
  /** input delta threshold Θx: |Δx| < Θx is not passed on */
  theta_x: z.number().min(0).default(DELTA_DEFAULTS.thetaX),
  /** hidden delta threshold Θh */
  theta_h: z.number().min(0).default(DELTA_DEFAULTS.thetaH),
  /** fixed-point activations (hardware emulation; inference only, so a training run refuses it) */
  qa: z.boolean().default(DELTA_DEFAULTS.qa),
  aqi: qBits(1, DELTA_DEFAULTS.aqi),
  aqf: qBits(0, DELTA_DEFAULTS.aqf),
  nqi: qBits(1, DELTA_DEFAULTS.nqi),
  nqf: qBits(0, DELTA_DEFAULTS.nqf),
  /** weight quantisation: the memories start at the quantised bias sums */
  qw: z.boolean().default(DELTA_DEFAULTS.qw),
  wqi: qBits(1, DELTA_DEFAULTS.wqi),
  wqf: qBits(0, DELTA_DEFAULTS.wqf),
};

export const deltaGruSchema = z.strictObject({ type: z.literal('deltagru'), ...deltaFields });
export const deltaLstmSchema = z.strictObject({ type: z.literal('deltalstm'), ...deltaFields });

export const rnnSchema = z.discriminatedUnion('type', [gruSchema, lstmSchema, egruSchema, deltaGruSchema, deltaLstmSchema]);

const rate = z.number().min(0).lt(1);

export const modelSchema = z
  .strictObject({
    /**
     * sequence-classifier: a stack read out by a linear layer at the last step (sMNIST);
     * language-model: EvNN's LM (embedding, stack, decoder tied to the embedding; perplexity);
     * frame-classifier: a stack read out at every frame, trained frame-wise, a clip classified by its
     * last non-silence frame (DeltaRNN's keyword spotter on gscv2; classifier named cl.);
     * spiking-classifier: LIF layers and a leaky readout trained with S3GD or dense BPTT (model.snn;
     * the spike-event datasets fmnist, nmnist, shd; parameters w1, w2, w3 as the S3GD reference);
     * gesture-classifier: EvNN's DVS128 Gesture model, an AlexNet-style convolutional front end on
     * every frame (conv.*), then the stack, dropout and a linear classifier (fc.*) read at the last
     * step or averaged over time (readout: mean, EvNN's --use-all-timesteps).
     */
    type: z.enum(['sequence-classifier', 'language-model', 'frame-classifier', 'spiking-classifier', 'gesture-classifier']).default('sequence-classifier'),
    /** the recurrent stack: required by every type but spiking-classifier, which has none */
    rnn: rnnSchema.optional(),
    /** spiking-classifier only (and required there): its LIF layers and readout */
    snn: snnSchema.optional(),
    /** last: the classifier reads the last step; mean (gesture-classifier): the mean of its logits over every step */
    readout: z.enum(['last', 'mean']).default('last'),
    /** gesture-classifier only: EvNN's dropout on the front end's output and on the stack's output (absent = 0) */
    dropout: rate.optional(),
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
    // frame-classifier only: DeltaRNN's fixed-point options of the classifier (optional: absent = off).
    /** qc: the classifier's output in fixed point cqi.cqf (absent: 3.5), in training too (straight-through gradient) */
    qc: z.boolean().optional(),
    cqi: z.int().min(1).max(24).optional(),
    cqf: z.int().min(0).max(24).optional(),
    /** qcw: the classifier's weights quantised to cwqi.cwqf (absent: 1.7) after each training epoch */
    qcw: z.boolean().optional(),
    cwqi: z.int().min(1).max(24).optional(),
    cwqf: z.int().min(0).max(24).optional(),
  })
  .superRefine((m, ctx) => {
    const spiking = m.type === 'spiking-classifier';
    if (spiking && m.snn === undefined) ctx.addIssue({ code: 'custom', path: ['snn'], message: 'required for type: spiking-classifier' });
    if (!spiking && m.snn !== undefined) ctx.addIssue({ code: 'custom', path: ['snn'], message: `needs type: spiking-classifier (this model is a ${m.type})` });
    if (spiking && m.rnn !== undefined) ctx.addIssue({ code: 'custom', path: ['rnn'], message: 'a spiking classifier has no recurrent stack (its layers are model.snn)' });
    if (!spiking && m.rnn === undefined) ctx.addIssue({ code: 'custom', path: ['rnn'], message: `required for type: ${m.type}` });
    if (spiking && m.use_output_trace !== undefined) ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: 'needs an egru stack (not for type: spiking-classifier)' });
    const gesture = m.type === 'gesture-classifier';
    if (m.readout === 'mean' && !gesture) ctx.addIssue({ code: 'custom', path: ['readout'], message: `mean needs type: gesture-classifier (this model is a ${m.type})` });
    if (m.dropout !== undefined && !gesture) ctx.addIssue({ code: 'custom', path: ['dropout'], message: `needs type: gesture-classifier (this model is a ${m.type}; a stack's own dropout is rnn.dropout)` });
    const lmFields = ['emb_dim', 'dropout_words', 'dropout_emb', 'dropout_output', 'dropout_mode'] as const;
    if (m.type === 'language-model') {
      if (m.emb_dim === undefined) ctx.addIssue({ code: 'custom', path: ['emb_dim'], message: 'required for type: language-model' });
      if (m.use_output_trace) ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: 'a language model reads every step (not for type: language-model)' });
    } else {
      for (const f of lmFields) {
        if (m[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `needs type: language-model (this model is a ${m.type})` });
      }
    }
    if (m.type === 'language-model' && (m.rnn?.type === 'deltagru' || m.rnn?.type === 'deltalstm')) {
      ctx.addIssue({
        code: 'custom', path: ['rnn', 'type'],
        message: `a ${m.rnn?.type} starts every sequence at zero, but a language model carries the state across segments`,
      });
    }
    if (m.type !== 'frame-classifier') {
      for (const f of ['qc', 'cqi', 'cqf', 'qcw', 'cwqi', 'cwqf'] as const) {
        if (m[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `needs type: frame-classifier (this model is a ${m.type})` });
      }
    }
    if (m.type === 'frame-classifier' && m.use_output_trace) {
      ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: 'a frame classifier reads every frame (not for type: frame-classifier)' });
    }
    const taps: readonly string[] = m.rnn ? FAMILIES[m.rnn.type].taps : [];
    if (m.rnn && m.use_output_trace && !taps.includes('trace')) {
      ctx.addIssue({ code: 'custom', path: ['use_output_trace'], message: `needs rnn.type: egru (a ${m.rnn.type} has no output trace)` });
    }
  });

export type ModelConfig = z.infer<typeof modelSchema>;

/** A model's recurrent stack; every type but spiking-classifier has one (the schema checks it). */
export function rnnOf(m: ModelConfig): RnnConfig {
  if (!m.rnn) throw new Error(`model.rnn: required for type: ${m.type}`);
  return m.rnn;
}
export type RnnConfig = z.infer<typeof rnnSchema>;
