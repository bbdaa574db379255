// Builds the model and optimizer a config describes.
import type { Config } from '../config/index.js';
import { SequenceClassifier } from '../models/sequence-classifier.js';
import { Optimizer, type OptimizerSpec } from '../train/optimizer.js';
import type { ScheduleSpec } from '../train/schedule.js';

export function buildModel(cfg: Config, inputSize: number, numClasses: number): SequenceClassifier {
  const rnn = cfg.model.rnn;
  return new SequenceClassifier({
    inputSize,
    numClasses,
    rnn: { type: rnn.type, hiddenSize: rnn.hidden_size, numLayers: rnn.num_layers },
    seed: cfg.seed,
  });
}

export function buildOptimizer(cfg: Config, model: SequenceClassifier): Optimizer {
  const o = cfg.train.optimizer;
  const spec: OptimizerSpec =
    o.type === 'sgd'
      ? { type: 'sgd', lr: o.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: o.weight_decay, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov }
      : { type: o.type, lr: o.lr, betas: [o.betas[0], o.betas[1]], eps: o.eps, weightDecay: o.weight_decay, momentum: 0, dampening: 0, nesterov: false };
  const groups = (cfg.train.param_groups ?? []).map((g) => ({ match: g.match, lrScale: g.lr_scale, weightDecay: g.weight_decay }));
  return new Optimizer(model.parameters(), spec, groups);
}

export function scheduleOf(cfg: Config): ScheduleSpec {
  const s = cfg.train.schedule;
  return s.type === 'step' ? { type: 'step', stepSize: s.step_size, gamma: s.gamma } : { type: 'constant' };
}
