// What a training step trains and evaluates, by the model's kind: a classifier over batches of
// sequences (sMNIST), or a language model over a token stream (PTB, WikiText-2). The step itself
// (checkpoints, best epoch, metrics, summary) is the same for both.
import type { Config } from '../config/index.js';
import { getDataset } from '../data/registry.js';
import { batchify } from '../data/token-stream.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import type { LayerSparsity } from '../models/sparsity-meter.js';
import type { TaskMetric } from '../models/task-metric.js';
import { evaluateLm, trainLmEpoch } from '../train/lm-loop.js';
import { evaluate, trainEpoch, type EpochStats, type ProgressSink } from '../train/loop.js';
import type { Optimizer } from '../train/optimizer.js';
import { openData } from './data-source.js';
import { buildLanguageModel, buildModel } from './model-from-config.js';

export interface TaskModel {
  parameters(): Parameter[];
  state(): StateRecord;
  loadState(record: StateRecord): void;
  readonly taskMetric: TaskMetric;
  sparsity(): LayerSparsity[];
  /** Quantises the weights in place after a training epoch (hardware emulation), when the model does. */
  afterEpoch?(): void;
  /** The sparsity of the evaluation passes since the last call, then starts over (a model that measures it). */
  evalSparsity?(): LayerSparsity[];
}

export interface Task {
  readonly model: TaskModel;
  /** the dataset has a validation split to select the best epoch on */
  readonly hasValid: boolean;
  trainEpoch(opt: Optimizer, o: { epoch: number; lr: number; progress?: ProgressSink }): Promise<EpochStats>;
  evaluate(split: 'valid' | 'test'): Promise<EpochStats>;
}

/** Opens every split now (a damaged file stops the step before any training) and builds the model. */
export function openTask(cfg: Config, dataDir: string): Task {
  return cfg.model.type === 'language-model' ? languageModelTask(cfg, dataDir) : classifierTask(cfg, dataDir);
}

function classifierTask(cfg: Config, dataDir: string): Task {
  const data = openData(cfg, dataDir);
  const splits = { train: data.split('train'), valid: data.split('valid'), test: data.split('test') };
  const model = buildModel(cfg, data);
  const t = cfg.train;
  return {
    model,
    hasValid: splits.valid.count > 0,
    trainEpoch: (opt, o) => trainEpoch(model, opt, splits.train, { ...o, seed: cfg.seed, batchSize: t.batch_size, gradClip: t.grad_clip }),
    evaluate: (split) => evaluate(model, splits[split], t.eval_batch_size),
  };
}

function languageModelTask(cfg: Config, dataDir: string): Task {
  const name = cfg.data.dataset;
  const dataset = getDataset(name);
  const meta = dataset.metadata(cfg.data, dataDir);
  if (meta.task !== 'language-model' || !dataset.tokens) {
    throw new Error(`model.type language-model needs a token dataset (a corpus such as ptb or wikitext2); ${name} is a ${meta.task} dataset`);
  }
  const t = cfg.train;
  const tokens = (split: 'train' | 'valid' | 'test') => dataset.tokens!(dataDir, split, cfg.data.limit?.[split]);
  const streams = {
    train: batchify(tokens('train'), t.batch_size),
    // EvNN validates at the training batch size and tests at batch size 1: the config says which.
    valid: batchify(tokens('valid'), t.eval_batch_size),
    test: batchify(tokens('test'), t.test_batch_size ?? t.eval_batch_size),
  };
  const model = buildLanguageModel(cfg, meta.numClasses);
  const bptt = t.bptt!;
  return {
    model,
    hasValid: streams.valid.steps > 1,
    trainEpoch: (opt, o) => trainLmEpoch(model, opt, streams.train, {
      ...o, seed: cfg.seed, bptt, variableBptt: t.variable_bptt ?? true, gradClip: t.grad_clip,
    }),
    evaluate: (split) => evaluateLm(model, streams[split], bptt),
  };
}
