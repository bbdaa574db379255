export { configSchema, type Config } from './schema.js';
export type { DataConfig } from './data.js';
export type { ModelConfig } from './model.js';
export type { TrainConfig } from './train.js';
export { loadConfig, validateConfig, parseOverride } from './load.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { configHash, configToYaml, configJsonSchema } from './serialize.js';
