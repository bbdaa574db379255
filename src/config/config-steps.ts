// A whole config's steps: the ones it lists, or the single training step of a config without
// `steps:`, and each training step as a config of its own.
import type { Config } from './schema.js';
import type { StepConfig, TrainingStepConfig } from './steps.js';

/** The steps a config runs: its own, or for a config without `steps:` prepare then pretrain. */
export function stepsOf(cfg: Config): StepConfig[] {
  return cfg.steps ?? [{ name: 'prepare' }, { name: 'pretrain', model: cfg.model, train: cfg.train }];
}

/** A training step's config as a single-step config: the base with the step's sections, no steps. */
export function stepConfig(cfg: Config, step: TrainingStepConfig): Config {
  const { steps: _s, ...base } = cfg;
  return { ...base, model: step.model, train: step.train };
}
