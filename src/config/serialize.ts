// Writing and fingerprinting a resolved config.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stringify } from 'yaml';
import { configSchema, nameSchema, type Config } from './schema.js';
import { stepConfig, stepsOf } from './config-steps.js';
import { isTrainingStepConfig, type TrainingStepConfig, type TrainingStepName } from './steps.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * Short stable fingerprint (8 hex digits of a SHA-256 over canonical JSON) of everything that can
 * change a run's numbers. Left out: name, description and paper (labels), report (whether an
 * HTML report is written), slurm (where and how long a sweep's task is scheduled) and
 * train.checkpoint_every (how often a resumable state is saved, not what is computed). `threads`
 * stays in: it changes float summation order. The run directory is named after the hash, so
 * re-running a config finds its run again.
 */
export function configHash(cfg: Config): string {
  const { name: _n, description: _d, paper: _p, report: _r, slurm: _s, steps, ...rest } = cfg;
  if (!steps) return hashOf({ ...rest, train: computedTrain(rest.train) });
  // With steps, each training step carries its complete sections; the base ones only fed them.
  const { model: _m, train: _t, ...shared } = rest;
  return hashOf({ ...shared, steps: steps.map((s) => (isTrainingStepConfig(s) ? { ...s, train: computedTrain(s.train) } : s)) });
}

/**
 * The identity of one training step: what changes its numbers, including the step it starts from
 * (that step's identity and the parameter map). Written into the step's checkpoints, so a step
 * directory resumes only the work it holds. A step without init_from has the hash of the same
 * sections written as a single-step config.
 */
export function stepHash(cfg: Config, name: TrainingStepName): string {
  const step = stepsOf(cfg).find((s): s is TrainingStepConfig => s.name === name && isTrainingStepConfig(s));
  if (!step) throw new Error(`the config has no training step "${name}"`);
  const base = configHash(stepConfig(cfg, step));
  if (!step.init_from) return base;
  return hashOf({ step: base, init_from: { step: step.init_from.step, map: step.init_from.map, from: stepHash(cfg, step.init_from.step) } });
}

/** train without checkpoint_every, which says how often state is saved, not what is computed. */
function computedTrain(train: Config['train']) {
  const { checkpoint_every: _c, ...rest } = train;
  return rest;
}

function hashOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(v))).digest('hex').slice(0, 8);
}

export function configToYaml(cfg: Config): string {
  // Steps share their sections with the base; write each out in full rather than as YAML aliases.
  return stringify(cfg, { aliasDuplicateObjects: false });
}

/** JSON Schema of the config file as written (for editors and the README's reference). */
export function configJsonSchema(): Record<string, unknown> {
  // In a file `name` is optional: loadConfig fills it in from the file name.
  const fileSchema = configSchema.extend({ name: nameSchema.optional() });
  return z.toJSONSchema(fileSchema, { io: 'input' }) as Record<string, unknown>;
}
