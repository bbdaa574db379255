// Builds the model and optimizer a config describes.
import type { Config } from '../config/index.js';
import { rnnOf } from '../config/model.js';
import type { Parameter } from '../layers/parameters.js';
import { LanguageModel } from '../models/language-model.js';
import { FrameClassifier } from '../models/frame-classifier.js';
import { GestureClassifier } from '../models/gesture-classifier.js';
import { SequenceClassifier, type TapRegularizer } from '../models/sequence-classifier.js';
import { SpikingClassifier } from '../models/spiking-classifier.js';
import { Optimizer, type OptimizerSpec } from '../train/optimizer.js';
import type { ScheduleSpec } from '../train/schedule.js';

/** What a classifier's dataset tells its model beyond the sizes: the time step of a spike-event dataset. */
export interface ClassifierData {
  inputSize: number;
  numClasses: number;
  /** ms per step (spike-event datasets) */
  dtMs?: number;
}

/** The classifier a config describes: a sequence classifier (sMNIST), a frame classifier (keyword spotting) or a spiking classifier (S3GD). */
export function buildModel(cfg: Config, data: ClassifierData): SequenceClassifier | FrameClassifier | SpikingClassifier | GestureClassifier {
  const { inputSize, numClasses } = data;
  if (cfg.model.type === 'spiking-classifier') return buildSpikingClassifier(cfg, data);
  if (cfg.model.type === 'gesture-classifier') return buildGestureClassifier(cfg, data);
  return cfg.model.type === 'frame-classifier' ? buildFrameClassifier(cfg, inputSize, numClasses) : buildSequenceClassifier(cfg, inputSize, numClasses);
}

/**
 * The S3GD reference's network: LIF layers of model.snn.hidden_sizes and a leaky readout; the decays
 * from the time constants and the dataset's time step (β = exp(−dt/τ)); the spike-count regulariser
 * on every layer when train.spike_regularization is given.
 */
export function buildSpikingClassifier(cfg: Config, data: ClassifierData): SpikingClassifier {
  const snn = cfg.model.snn;
  if (!snn) throw new Error('model.snn: required for type: spiking-classifier');
  if (data.dtMs === undefined) throw new Error(`model.type spiking-classifier needs a spike-event dataset with a time step (fmnist, nmnist, shd); ${cfg.data.dataset} has none`);
  const r = cfg.train.spike_regularization;
  return new SpikingClassifier({
    inputSize: data.inputSize, numClasses: data.numClasses, seed: cfg.seed,
    hiddenSizes: snn.hidden_sizes,
    beta: Math.exp(-data.dtMs / snn.tau_mem_ms), betaReadout: Math.exp(-data.dtMs / snn.tau_readout_ms),
    threshold: snn.threshold, bTh: snn.b_th, backward: snn.backward, readout: snn.readout, init: snn.init,
    regularizer: r ? { lambdaUp: r.lambda_up, fUp: r.f_up, pUp: r.p_up, lambdaLow: r.lambda_low, fLow: r.f_low } : null,
  });
}

/**
 * DeltaRNN's keyword spotter: one stack read out at every frame. qw (a delta family's option) also
 * quantises the recurrent weights after each epoch; qc and qcw are the classifier's options.
 */
export function buildFrameClassifier(cfg: Config, inputSize: number, numClasses: number): FrameClassifier {
  const { type, hidden_size, num_layers, dropout, ...familyOptions } = rnnOf(cfg.model);
  const m = cfg.model;
  const q = familyOptions as { qw?: boolean; wqi?: number; wqf?: number };
  return new FrameClassifier({
    inputSize, numClasses, seed: cfg.seed,
    rnn: { type, hiddenSizes: new Array<number>(num_layers).fill(hidden_size), options: camelCaseKeys(familyOptions), dropout },
    outputFormat: m.qc ? { qi: m.cqi ?? 3, qf: m.cqf ?? 5 } : undefined,
    weightFormat: q.qw ? { qi: q.wqi ?? 1, qf: q.wqf ?? 7 } : undefined,
    classifierWeightFormat: m.qcw ? { qi: m.cwqi ?? 1, qf: m.cwqf ?? 7 } : undefined,
  });
}

/**
 * EvNN's DVS128 Gesture model: the convolutional front end on every frame (data.frame_size), the
 * stack, model.dropout around it, and the classifier on the last step or the mean over time; the
 * activity regulariser on the last layer's events as for a sequence classifier.
 */
export function buildGestureClassifier(cfg: Config, data: ClassifierData): GestureClassifier {
  const { type, hidden_size, num_layers, dropout, ...familyOptions } = rnnOf(cfg.model);
  const frameSize = Math.round(Math.sqrt(data.inputSize));
  if (frameSize * frameSize !== data.inputSize) throw new Error(`model.type gesture-classifier needs square frames (a frame dataset such as dvs128); ${cfg.data.dataset} has ${data.inputSize} channels`);
  return new GestureClassifier({
    frameSize, numClasses: data.numClasses, seed: cfg.seed,
    rnn: { type, hiddenSizes: new Array<number>(num_layers).fill(hidden_size), options: camelCaseKeys(familyOptions), dropout },
    dropout: cfg.model.dropout ?? 0,
    readout: cfg.model.readout,
    readoutTap: cfg.model.use_output_trace ? 'trace' : undefined,
    regularizers: tapRegularizers(cfg),
  });
}

function buildSequenceClassifier(cfg: Config, inputSize: number, numClasses: number): SequenceClassifier {
  const { type, hidden_size, num_layers, dropout, ...familyOptions } = rnnOf(cfg.model);
  const regularizers = tapRegularizers(cfg);
  return new SequenceClassifier({
    inputSize,
    numClasses,
    rnn: { type, hiddenSizes: new Array<number>(num_layers).fill(hidden_size), options: camelCaseKeys(familyOptions), dropout },
    seed: cfg.seed,
    readoutTap: cfg.model.use_output_trace ? 'trace' : undefined,
    regularizers,
  });
}

/** EvNN's activity and voltage regularisers on the last layer's taps (EGRU), as train: asks. */
function tapRegularizers(cfg: Config): TapRegularizer[] {
  const t = cfg.train;
  const regularizers: TapRegularizer[] = [];
  if (t.activity_regularization) regularizers.push({ tap: 'o', kind: 'mean-target', ...t.activity_regularization });
  if (t.voltage_regularization) regularizers.push({ tap: 'c', kind: 'mean-square', ...t.voltage_regularization });
  return regularizers;
}

/**
 * EvNN's language model: num_layers layers, the inner ones hidden_size wide and the last one as
 * wide as the embedding (the decoder is tied to it), rnn.dropout between them.
 */
export function buildLanguageModel(cfg: Config, vocabSize: number): LanguageModel {
  const { type, hidden_size, num_layers, dropout, ...familyOptions } = rnnOf(cfg.model);
  const m = cfg.model;
  const embDim = m.emb_dim!;
  const hiddenSizes = [...new Array<number>(num_layers - 1).fill(hidden_size), embDim];
  return new LanguageModel({
    vocabSize, embDim, seed: cfg.seed, rnn: { type, hiddenSizes, options: camelCaseKeys(familyOptions), dropout },
    dropoutWords: m.dropout_words ?? 0, dropoutEmb: m.dropout_emb ?? 0, dropoutOutput: m.dropout_output ?? 0.5,
    dropoutMode: m.dropout_mode ?? 'evnn',
  });
}

/** A family's config options (snake_case, EvNN's and PyTorch's spelling) as its cell's options (camelCase). */
function camelCaseKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

/** Parameters the thresholds' learning-rate multiplier applies to (EGRU's thr, any layer). */
export const THRESHOLD_PARAMS = '(^|\\.)thr$';

export function buildOptimizer(cfg: Config, model: { parameters(): Parameter[] }): Optimizer {
  const o = cfg.train.optimizer;
  const spec: OptimizerSpec =
    o.type === 'sgd'
      ? { type: 'sgd', lr: o.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: o.weight_decay, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov }
      : { type: o.type, lr: o.lr, betas: [o.betas[0], o.betas[1]], eps: o.eps, weightDecay: o.weight_decay, momentum: 0, dampening: 0, nesterov: false };
  const groups = (cfg.train.param_groups ?? []).map((g) => ({ match: g.match, lrScale: g.lr_scale, weightDecay: g.weight_decay }));
  // After the user's groups: a group of theirs that matches a threshold wins (first match).
  if (cfg.train.thr_lr_scale !== undefined) groups.push({ match: THRESHOLD_PARAMS, lrScale: cfg.train.thr_lr_scale, weightDecay: undefined });
  return new Optimizer(model.parameters(), spec, groups);
}

export function scheduleOf(cfg: Config): ScheduleSpec {
  const s = cfg.train.schedule;
  if (s.type === 'step') return { type: 'step', stepSize: s.step_size, gamma: s.gamma };
  if (s.type === 'cosine') return { type: 'cosine', start: s.start, epochs: cfg.train.epochs };
  if (s.type === 'plateau') return { type: 'plateau', factor: s.factor, patience: s.patience, threshold: s.threshold, minLr: s.min_lr };
  return { type: 'constant' };
}
