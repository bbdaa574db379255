// Reading a config: YAML → `--set` overrides → zod validation with defaults.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue, toConfigIssues } from './errors.js';
import { applyOverride, parseOverride } from './override.js';
import { findDataset } from '../data/registry.js';
import type { ModelConfig } from './model.js';
import { configSchema, type Config } from './schema.js';
import { resolveSteps, type StepConfig } from './steps.js';
import type { TrainConfig } from './train.js';

export { parseOverride } from './override.js';

/** Validates an in-memory config object (used by loadConfig and by tests); resolves its steps. */
export function validateConfig(raw: unknown, file: string): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(file, toConfigIssues(configSchema, raw, r.error.issues));
  const issues = crossSectionIssues(r.data.model, r.data.train);
  const dataset = findDataset(r.data.data.dataset);
  for (const i of dataset?.checkConfig?.(r.data.data) ?? []) issues.push({ ...i, path: `data.${i.path}` });
  const { steps: written, ...base } = r.data;
  let steps: StepConfig[] | undefined;
  if (written) {
    const resolved = resolveSteps(written, {
      model: base.model, train: base.train, dataset: base.data.dataset, hasFeatureStep: dataset?.feature !== undefined, sectionIssues: crossSectionIssues,
    });
    issues.push(...resolved.issues);
    steps = resolved.steps;
  }
  if (dataset) {
    const models = [{ at: 'model', model: base.model }, ...(steps ?? []).flatMap((s, i) => ('model' in s && s.model.type !== base.model.type ? [{ at: `steps.${i}.model`, model: s.model }] : []))];
    for (const { at, model } of models) {
      if (!dataset.modelTypes.includes(model.type)) {
        issues.push({ path: `${at}.type`, message: `the ${dataset.name} dataset serves ${dataset.modelTypes.join(' or ')} models, not a ${model.type}` });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  // Replacing the value in place keeps the schema's key order in the resolved YAML.
  return steps ? { ...r.data, steps } : (base as Config);
}

/** Fields of one section that only make sense with a setting of another. */
function crossSectionIssues(model: ModelConfig, train: TrainConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const lm = model.type === 'language-model';
  if (train.schedule.type === 'cosine' && train.schedule.start >= train.epochs) {
    issues.push({ path: 'train.schedule.start', message: `must be below train.epochs (${train.epochs}), got ${train.schedule.start}` });
  }
  if (lm && train.bptt === undefined) issues.push({ path: 'train.bptt', message: 'required for model.type: language-model' });
  for (const f of ['bptt', 'variable_bptt', 'test_batch_size'] as const) {
    if (!lm && train[f] !== undefined) issues.push({ path: `train.${f}`, message: `needs model.type: language-model (this model is a ${model.type})` });
  }
  if (model.rnn?.type !== 'egru') {
    const why = model.rnn ? `needs model.rnn.type: egru (this model is a ${model.rnn.type})` : `needs model.rnn.type: egru (this model is a ${model.type})`;
    if (train.activity_regularization) issues.push({ path: 'train.activity_regularization', message: why });
    if (train.voltage_regularization) issues.push({ path: 'train.voltage_regularization', message: why });
    if (train.thr_lr_scale !== undefined) issues.push({ path: 'train.thr_lr_scale', message: why });
  }
  if (train.spike_regularization && model.type !== 'spiking-classifier') {
    issues.push({ path: 'train.spike_regularization', message: `needs model.type: spiking-classifier (this model is a ${model.type})` });
  }
  return issues;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a config file',
  EACCES: 'permission denied',
};

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(file, [{ path: '', message: `cannot read the config: ${READ_ERRORS[code] ?? (err as Error).message}` }]);
  }
}

/** Parses the YAML text into a plain mapping; syntax errors become issues with their line. */
function parseYaml(file: string, text: string): Record<string, unknown> {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `line ${pos.line}, column ${pos.col}` : 'an unknown position';
        // yaml's message repeats the position and appends a source excerpt; keep the sentence.
        const what = e.message.split(' at line ')[0].split('\n')[0];
        return { path: '', line: pos?.line, message: `YAML syntax error at ${where}: ${what}` };
      }),
    );
  }
  const parsed: unknown = doc.toJS();
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(file, [{ path: '', message: 'the config must be a YAML mapping of sections (data, model, train, ...)' }]);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reads, overrides and validates a config file. `overrides` are `--set` specs ("train.epochs=3");
 * each value is read as YAML. `name` defaults to the file's basename without extension.
 * Throws ConfigError listing every problem.
 */
export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  const raw = parseYaml(file, readText(file));
  const problems: ConfigIssue[] = [];
  for (const spec of overrides) {
    const o = parseOverride(spec);
    const problem = 'message' in o ? o : applyOverride(raw, o.path, o.value);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  const nameFromFile = raw.name === undefined;
  if (nameFromFile) raw.name = basename(file, extname(file));
  try {
    return validateConfig(raw, file);
  } catch (err) {
    if (!(err instanceof ConfigError) || !nameFromFile) throw err;
    const hint = ` (the name defaults to the file name; set \`name:\` in the config)`;
    throw new ConfigError(file, err.issues.map((i) => (i.path === 'name' ? { ...i, message: i.message + hint } : i)));
  }
}

/** Parses YAML text as a config without a file (tests, tools); `name` must then be given. */
export function parseConfigText(text: string, file = '<text>'): Config {
  return validateConfig(parseYaml(file, text), file);
}
