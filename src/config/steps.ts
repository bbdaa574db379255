// The `steps:` list of a config: which pipeline steps a run has (prepare, feature, pretrain,
// retrain, eval, in that order, each at most once). A training step may start from an earlier
// training step's best checkpoint (`init_from`, with an optional parameter-name map) and may
// override the model and train sections: an override is deep-merged onto the config's resolved
// section (mappings merge key by key; lists and values replace; a mapping whose `type` differs from
// the base's replaces it whole, e.g. another optimizer) and the result is validated with the same
// schema, so a problem is reported at its path under the step (steps.1.train.epochs: ...).
import { z } from 'zod';
import { toConfigIssues, type ConfigIssue } from './errors.js';
import { modelSchema, type ModelConfig } from './model.js';
import { trainSchema, type TrainConfig } from './train.js';

export const STEP_NAMES = ['prepare', 'feature', 'pretrain', 'retrain', 'eval'] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const TRAINING_STEPS = ['pretrain', 'retrain'] as const;
export type TrainingStepName = (typeof TRAINING_STEPS)[number];

export const isTrainingStep = (name: string): name is TrainingStepName => (TRAINING_STEPS as readonly string[]).includes(name);

/** Parameter names of the source checkpoint → names in this step's model (unmapped names stay). */
const parameterMapSchema = z.record(z.string().min(1), z.string().min(1));

export const initFromSchema = z.union(
  [z.string().min(1), z.strictObject({ step: z.string().min(1), map: parameterMapSchema.optional() })],
  { error: 'must be a step name (e.g. pretrain) or a mapping {step, map}' },
);

/** A step as written. model and train are partial sections, checked once merged onto the base. */
export const stepSchema = z.strictObject({
  name: z.enum(STEP_NAMES),
  /** A training step only: start from this earlier training step's best checkpoint. */
  init_from: initFromSchema.optional(),
  /** A training step only: overrides of the config's model section. */
  model: z.looseObject({}).optional(),
  /** A training step only: overrides of the config's train section. */
  train: z.looseObject({}).optional(),
});

export type StepInput = z.infer<typeof stepSchema>;

/** A resolved training step: its complete model and train sections. */
export interface TrainingStepConfig {
  name: TrainingStepName;
  init_from?: { step: TrainingStepName; map: Record<string, string> };
  model: ModelConfig;
  train: TrainConfig;
}

export interface PlainStepConfig {
  name: 'prepare' | 'feature' | 'eval';
}

export type StepConfig = TrainingStepConfig | PlainStepConfig;

export const isTrainingStepConfig = (s: StepConfig): s is TrainingStepConfig => isTrainingStep(s.name);

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Deep-merges an override onto a section: mappings key by key, anything else replaced. A mapping
 * whose `type` differs from the base's is another kind of section and replaces it whole.
 */
export function mergeSection(base: unknown, over: unknown): unknown {
  if (!isMapping(base) || !isMapping(over)) return over;
  if ('type' in over && 'type' in base && over.type !== base.type) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeSection(base[k], v) : v;
  return out;
}

export interface StepContext {
  /** The config's resolved model and train sections. */
  model: ModelConfig;
  train: TrainConfig;
  dataset: string;
  /** Whether the dataset has a feature-extraction step. */
  hasFeatureStep: boolean;
  /** Checks between the model and train sections; paths start with model. or train. */
  sectionIssues: (model: ModelConfig, train: TrainConfig) => ConfigIssue[];
}

const ORDER = STEP_NAMES.join(', ');
const prefixed = (prefix: string, issues: readonly ConfigIssue[]): ConfigIssue[] => issues.map((i) => ({ ...i, path: i.path ? `${prefix}.${i.path}` : prefix }));

/** Resolves the steps as written into complete steps, or lists every problem with its path. */
export function resolveSteps(steps: readonly StepInput[], ctx: StepContext): { steps: StepConfig[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const out: StepConfig[] = [];
  const names = steps.map((s) => s.name);
  steps.forEach((s, i) => {
    const at = `steps.${i}`;
    const first = names.indexOf(s.name);
    if (first < i) {
      issues.push({ path: `${at}.name`, message: `"${s.name}" is listed twice (also steps.${first}); each step runs once` });
    } else {
      const later = names.slice(0, i).find((n) => STEP_NAMES.indexOf(n) > STEP_NAMES.indexOf(s.name));
      if (later) issues.push({ path: `${at}.name`, message: `"${s.name}" must come before "${later}" (steps run in the order ${ORDER})` });
    }
    if (s.name === 'feature' && !ctx.hasFeatureStep) {
      issues.push({ path: `${at}.name`, message: `the ${ctx.dataset} dataset has no feature-extraction step (feature is for datasets that have one, such as speech)` });
    }
    if (s.name === 'eval' && !names.slice(0, i).some(isTrainingStep)) {
      issues.push({ path: `${at}.name`, message: `eval tests the last training step's best checkpoint, and no training step (${TRAINING_STEPS.join(', ')}) comes before it` });
    }
    if (!isTrainingStep(s.name)) {
      for (const key of ['init_from', 'model', 'train'] as const) {
        if (s[key] !== undefined) issues.push({ path: `${at}.${key}`, message: `only a training step (${TRAINING_STEPS.join(', ')}) takes ${key}` });
      }
      out.push({ name: s.name as PlainStepConfig['name'] });
      return;
    }

    const step = { name: s.name, model: ctx.model, train: ctx.train };
    let initFrom: TrainingStepConfig['init_from'];
    let sectionsOk = true;
    if (s.model !== undefined) {
      const merged = mergeSection(ctx.model, s.model);
      const r = modelSchema.safeParse(merged);
      if (r.success) step.model = r.data;
      else {
        issues.push(...prefixed(`${at}.model`, toConfigIssues(modelSchema, merged, r.error.issues)));
        sectionsOk = false;
      }
    }
    if (s.train !== undefined) {
      const merged = mergeSection(ctx.train, s.train);
      const r = trainSchema.safeParse(merged);
      if (r.success) step.train = r.data;
      else {
        issues.push(...prefixed(`${at}.train`, toConfigIssues(trainSchema, merged, r.error.issues)));
        sectionsOk = false;
      }
    }
    if (sectionsOk && (s.model !== undefined || s.train !== undefined)) issues.push(...prefixed(at, ctx.sectionIssues(step.model, step.train)));

    if (s.init_from !== undefined) {
      const written = typeof s.init_from === 'string' ? { step: s.init_from, map: {} } : { step: s.init_from.step, map: s.init_from.map ?? {} };
      const refPath = typeof s.init_from === 'string' ? `${at}.init_from` : `${at}.init_from.step`;
      const j = names.indexOf(written.step as StepName);
      if (j < 0) {
        issues.push({ path: refPath, message: `no step "${written.step}" in this config (its steps: ${names.join(', ')})` });
      } else if (j === i) {
        issues.push({ path: refPath, message: 'a step cannot start from itself; init_from names an earlier training step' });
      } else if (j > i) {
        issues.push({ path: refPath, message: `"${written.step}" runs after this step (steps.${j}); init_from names an earlier training step` });
      } else if (!isTrainingStep(written.step)) {
        issues.push({ path: refPath, message: `"${written.step}" is not a training step; init_from names an earlier training step (${TRAINING_STEPS.join(', ')})` });
      } else {
        initFrom = { step: written.step, map: written.map };
      }
      const targets = new Map<string, string>();
      for (const [from, to] of Object.entries(written.map)) {
        const other = targets.get(to);
        if (other !== undefined) issues.push({ path: `${at}.init_from.map.${from}`, message: `maps to "${to}", as does "${other}"` });
        else targets.set(to, from);
      }
    }
    out.push(initFrom ? { name: step.name, init_from: initFrom, model: step.model, train: step.train } : step);
  });
  return { steps: out, issues };
}
