// Checkpoints in safetensors. last.safetensors holds the model (reference parameter names), the
// optimizer state under "optimizer.<param>.m|v" and the loop position in metadata; it is what a
// resumed run starts from. best.safetensors holds the model alone (loadable by PyTorch as is).
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from '../io/safetensors.js';
import type { Parameter, StateRecord } from '../layers/parameters.js';
import type { Optimizer } from './optimizer.js';
import type { PlateauState } from './plateau.js';

export const CHECKPOINT_FORMAT = 'evnn-checkpoint-1';

export interface LoopState {
  /** Epochs completed. */
  epochsDone: number;
  /** The validation value of the model's task metric at bestEpoch (NaN without a validation split). */
  bestValidMetric: number;
  /** 0-based epoch of best.safetensors; -1 before there is one. */
  bestEpoch: number;
  /** The plateau schedule's state (plateau.ts), for a config that uses it. */
  plateau?: PlateauState;
}

function modelTensors(params: readonly Parameter[]) {
  return Object.fromEntries(params.map((p) => [p.name, { shape: p.shape, data: p.data }]));
}

export function saveLast(file: string, params: readonly Parameter[], opt: Optimizer, loop: LoopState, configHash: string): void {
  const optim = Object.fromEntries(Object.entries(opt.stateTensors()).map(([k, v]) => [`optimizer.${k}`, v]));
  writeSafetensors(file, { ...modelTensors(params), ...optim }, {
    format: CHECKPOINT_FORMAT,
    config_hash: configHash,
    epochs_done: String(loop.epochsDone),
    optimizer_steps: String(opt.steps),
    best_valid_metric: String(loop.bestValidMetric),
    best_epoch: String(loop.bestEpoch),
    ...(loop.plateau ? { plateau: JSON.stringify(loop.plateau) } : {}),
  });
}

/** The best weights: the model's state() (its reference names; a language model's tied weight under both of EvNN's names). */
export function saveBest(
  file: string, state: StateRecord, epoch: number, validAccuracy: number, configHash: string, metric?: { name: string; value: number },
): void {
  writeSafetensors(file, state, {
    format: CHECKPOINT_FORMAT,
    config_hash: configHash,
    epoch: String(epoch),
    valid_accuracy: String(validAccuracy),
    ...(metric ? { task_metric: metric.name, valid_metric: String(metric.value) } : {}),
  });
}

/** A best checkpoint's weights and what it records: the config (step) it was written for, its epoch. */
export function loadBestCheckpoint(file: string): { model: StateRecord; configHash: string | undefined; epoch: number } {
  if (!existsSync(file)) throw new SafetensorsError(file, 'checkpoint does not exist');
  const { tensors, metadata } = readSafetensors(file);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new SafetensorsError(file, `not an evnn checkpoint (format ${metadata.format ?? 'missing'})`);
  return { model: modelStateOf(file, tensors), configHash: metadata.config_hash, epoch: Number(metadata.epoch) };
}

/** Model weights of a checkpoint as a state record (optimizer tensors left out). */
export function loadModelState(file: string): StateRecord {
  if (!existsSync(file)) throw new SafetensorsError(file, 'checkpoint does not exist');
  return modelStateOf(file, readSafetensors(file).tensors);
}

function modelStateOf(file: string, tensors: Map<string, SafeTensor>): StateRecord {
  const out: StateRecord = {};
  for (const [name, t] of tensors) {
    if (name.startsWith('optimizer.')) continue;
    if (!(t.data instanceof Float32Array)) throw new SafetensorsError(file, `tensor ${name} is ${t.dtype}, expected F32`);
    out[name] = { data: t.data, shape: t.shape };
  }
  return out;
}

/** Restores the optimizer and returns the loop position stored in last.safetensors. */
export function loadLast(file: string, opt: Optimizer, configHash: string): { model: StateRecord; loop: LoopState } {
  const { tensors, metadata } = readSafetensors(file);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new SafetensorsError(file, `not an evnn checkpoint (format ${metadata.format ?? 'missing'})`);
  if (metadata.config_hash !== configHash) {
    throw new SafetensorsError(file, `was written for config ${metadata.config_hash}, not ${configHash}`);
  }
  opt.loadStateTensors(Number(metadata.optimizer_steps), (name) => {
    const t = tensors.get(`optimizer.${name}`);
    return t?.data instanceof Float32Array ? t.data : undefined;
  });
  return {
    model: modelStateOf(file, tensors),
    loop: {
      epochsDone: Number(metadata.epochs_done),
      // Checkpoints written before task metrics kept the validation accuracy under this name.
      bestValidMetric: Number(metadata.best_valid_metric ?? metadata.best_valid_accuracy),
      bestEpoch: Number(metadata.best_epoch),
      ...(metadata.plateau ? { plateau: plateauOf(file, metadata.plateau) } : {}),
    },
  };
}

/** The plateau state kept in a checkpoint's metadata (JSON, Infinity written as null). */
function plateauOf(file: string, text: string): PlateauState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SafetensorsError(file, `metadata plateau is not JSON: ${text}`);
  }
  if (typeof v !== 'object' || v === null) throw new SafetensorsError(file, `metadata plateau is not {lr, best, bad}: ${text}`);
  const o = v as { lr?: unknown; best?: unknown; bad?: unknown };
  if (typeof o.lr !== 'number' || (typeof o.best !== 'number' && o.best !== null) || typeof o.bad !== 'number') {
    throw new SafetensorsError(file, `metadata plateau is not {lr, best, bad}: ${text}`);
  }
  return { lr: o.lr, best: o.best === null ? Infinity : o.best, bad: o.bad };
}
