// Builds the model and optimizer a config describes.
import type { Config } from '../config/index.js';
import { SequenceClassifier } from '../models/sequence-classifier.js';
import { Optimizer, type OptimizerSpec } from '../train/optimizer.js';
import type { ScheduleSpec } from '../train/schedule.js';

export function buildModel(cfg: Config, inputSize: number, numClasses: number): SequenceClassifier {
  const rnn = cfg.model.rnn;
  const t = cfg.train;
  return new SequenceClassifier({
    inputSize,
    numClasses,
    rnn:
      rnn.type === 'egru'
        ? {
            type: 'egru', hiddenSize: rnn.hidden_size, numLayers: rnn.num_layers,
            egru: {
              thrMean: rnn.thr_mean, dampeningFactor: rnn.dampening_factor, pseudoDerivativeSupport: rnn.pseudo_derivative_support,
              zoneout: rnn.zoneout, dropconnect: rnn.dropconnect, gradClip: rnn.grad_clip, weightInitGain: rnn.weight_init_gain,
            },
          }
        : { type: 'gru', hiddenSize: rnn.hidden_size, numLayers: rnn.num_layers },
    seed: cfg.seed,
    useOutputTrace: cfg.model.use_output_trace ?? false,
    activityRegularization: t.activity_regularization,
    voltageRegularization: t.voltage_regularization,
  });
}

/** Parameters the thresholds' learning-rate multiplier applies to (EGRU's thr, any layer). */
export const THRESHOLD_PARAMS = '(^|\\.)thr$';

export function buildOptimizer(cfg: Config, model: SequenceClassifier): Optimizer {
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
  return s.type === 'step' ? { type: 'step', stepSize: s.step_size, gamma: s.gamma } : { type: 'constant' };
}
