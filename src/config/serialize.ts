// Writing and fingerprinting a resolved config.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stringify } from 'yaml';
import { configSchema, nameSchema, type Config } from './schema.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * Short stable fingerprint (8 hex digits of a SHA-256 over canonical JSON) of everything that can
 * change a run's numbers. Left out: name, description and paper (labels) and
 * train.checkpoint_every (how often a resumable state is saved, not what is computed). `threads`
 * stays in: it changes float summation order. The run directory is named after the hash, so
 * re-running a config finds its run again.
 */
export function configHash(cfg: Config): string {
  const { name: _n, description: _d, paper: _p, ...rest } = cfg;
  const { checkpoint_every: _c, ...train } = rest.train;
  return createHash('sha256').update(JSON.stringify(canonical({ ...rest, train }))).digest('hex').slice(0, 8);
}

export function configToYaml(cfg: Config): string {
  return stringify(cfg);
}

/** JSON Schema of the config file as written (for editors and the README's reference). */
export function configJsonSchema(): Record<string, unknown> {
  // In a file `name` is optional: loadConfig fills it in from the file name.
  const fileSchema = configSchema.extend({ name: nameSchema.optional() });
  return z.toJSONSchema(fileSchema, { io: 'input' }) as Record<string, unknown>;
}
