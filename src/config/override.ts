// `--set key=value` overrides: a dotted path into the raw config (list items by index) and a value
// read as YAML, so numbers, booleans and [lists] keep their type. Validation happens afterwards,
// so an override is checked exactly like the same field written in the file.
import { parse } from 'yaml';
import type { ConfigIssue } from './errors.js';
import { expectedNoun, schemaAt } from './schema-walk.js';
import { configSchema } from './schema.js';

const INDEX = /^(0|[1-9][0-9]*)$/;

/** Parses "a.b.c=value" (or "a.0.b=value" for a list item). */
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

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

/** Checks `key` can address an item of `list`: an index of an existing item, or the next one. */
function listKeyProblem(list: unknown[], key: string, at: string): ConfigIssue | undefined {
  if (!INDEX.test(key)) return { path: at, message: 'unknown key (a list is indexed by 0, 1, ...)' };
  const n = list.length;
  if (Number(key) > n) {
    const message = n === 0 ? 'the list is empty; --set can add its first item at index 0' : `the list has ${n} items (0..${n - 1}); --set can change one of them or add one at index ${n}`;
    return { path: at, message };
  }
  return undefined;
}

/** A new empty section for a path segment that does not exist yet. */
function emptyFor(nextKey: string): Container {
  return INDEX.test(nextKey) ? [] : {};
}

/**
 * Sets `value` at `path` in `root`, creating missing sections. A path that runs through a plain
 * value (seed.x) or past the end of a list is reported instead.
 */
export function applyOverride(root: Record<string, unknown>, path: readonly string[], value: unknown): ConfigIssue | undefined {
  let node: Container = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const at = path.slice(0, i + 1).join('.');
    if (Array.isArray(node)) {
      const problem = listKeyProblem(node, key, at);
      if (problem) return problem;
    }
    const slot = node as Record<string, unknown>;
    if (i === path.length - 1) {
      slot[key] = value;
      return undefined;
    }
    const next = slot[key];
    if (isContainer(next)) {
      node = next;
      continue;
    }
    // Nothing (or a plain value) where the path goes deeper. Where the schema has a plain value
    // (seed.x), the deeper key cannot exist. Otherwise start an empty section: it is either a
    // section the file left out, or a key the schema lacks, which validation reports.
    const schema = schemaAt(configSchema, path.slice(0, i + 1), root);
    const noun = expectedNoun(schema);
    if (schema && noun !== 'a mapping' && noun !== 'a list') {
      return { path: path.slice(0, i + 2).join('.'), message: 'unknown key' };
    }
    node = emptyFor(path[i + 1]);
    slot[key] = node;
  }
  return undefined;
}
