// Experiment configs: zod schemas (one per section), YAML loading with --set overrides, the
// resolved config's hash and YAML, pipeline steps, and the JSON Schema of config files.
export { configSchema, type Config, type PaperConfig } from './schema.js';
export type { DataConfig, LimitConfig } from './data.js';
export type { ModelConfig, RnnConfig } from './model.js';
export type { TrainConfig, OptimizerConfig, ParamGroupConfig, ScheduleConfig } from './train.js';
export {
  STEP_NAMES, TRAINING_STEPS, isTrainingStep, isTrainingStepConfig, mergeSection,
  type StepName, type TrainingStepName, type StepConfig, type TrainingStepConfig, type PlainStepConfig,
} from './steps.js';
export { stepsOf, stepConfig } from './config-steps.js';
export { loadConfig, validateConfig, parseConfigText, parseOverride } from './load.js';
export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { configHash, stepHash, configToYaml, configJsonSchema } from './serialize.js';
