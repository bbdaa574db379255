// Reading a config: YAML → `--set` overrides → zod validation with defaults.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue, toConfigIssues } from './errors.js';
import { configSchema, type Config } from './schema.js';

/** Parses "a.b.c=value"; the value is read as YAML, so numbers, booleans and [lists] keep their type. */
export function parseOverride(spec: string): { path: string[]; value: unknown } | ConfigIssue {
  const eq = spec.indexOf('=');
  const key = eq > 0 ? spec.slice(0, eq).trim() : '';
  if (!key || !/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key)) {
    return { path: spec, message: '--set expects key=value with a dotted key, e.g. train.epochs=3' };
  }
  let value: unknown;
  try {
    value = parse(spec.slice(eq + 1));
  } catch (err) {
    return { path: key, message: `--set value is not valid YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  return { path: key.split('.'), value };
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Validates an in-memory config object (used by loadConfig and by tests). */
export function validateConfig(raw: unknown, file: string): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(file, toConfigIssues(raw, r.error.issues));
  return r.data;
}

export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML syntax error at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split(' at line ')[0]}` })),
    );
  }
  const parsed: unknown = doc.toJS();
  if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
    throw new ConfigError(file, [{ path: '', message: 'the config must be a YAML mapping of sections (data, model, train, ...)' }]);
  }
  const raw = (parsed ?? {}) as Record<string, unknown>;
  const problems: ConfigIssue[] = [];
  for (const spec of overrides) {
    const o = parseOverride(spec);
    if ('message' in o) problems.push(o);
    else setPath(raw, o.path, o.value);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  if (raw.name === undefined) raw.name = basename(file, extname(file));
  return validateConfig(raw, file);
}
