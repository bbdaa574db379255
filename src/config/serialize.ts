// Writing and fingerprinting a resolved config.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stringify } from 'yaml';
import { configSchema, type Config } from './schema.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * Short stable fingerprint of everything that changes a run's numbers (not its name, description
 * or paper reference). The run directory is named after it, so re-running a config resumes it.
 */
export function configHash(cfg: Config): string {
  const { name: _n, description: _d, paper: _p, ...rest } = cfg;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex').slice(0, 8);
}

export function configToYaml(cfg: Config): string {
  return stringify(cfg);
}

/** JSON Schema of the config file (for editors and the README's reference). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input' });
}
