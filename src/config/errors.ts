// Config problems, one `path: message` per problem, in words that stay stable across zod versions.
import type { z } from 'zod';
import { expectedNoun, schemaAt } from './schema-walk.js';

export interface ConfigIssue {
  /** Dotted path of the offending field, list indices as numbers (e.g. train.param_groups.0.match). */
  path: string;
  message: string;
  /** Line in the config file, for problems found while reading the YAML. */
  line?: number;
}

/** `path: message`, or the message alone for problems of the whole file (YAML syntax, unreadable). */
export function formatIssue(i: ConfigIssue): string {
  return i.path ? `${i.path}: ${i.message}` : i.message;
}

export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(readonly file: string, readonly issues: ConfigIssue[]) {
    super(`${file}: invalid config\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const NOUNS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  record: 'a mapping',
};

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list [${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(v);
  return JSON.stringify(v);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

const join = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * Turns zod issues into one ConfigIssue per problem (one per unknown key). `schema` is the schema
 * that produced them: it supplies what a field expects when zod's issue is vaguer.
 */
export function toConfigIssues(schema: z.core.$ZodType, raw: unknown, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const got = valueAt(raw, issue.path);
    const path = join(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: path ? `${path}.${key}` : key, message: 'unknown key' });
        break;
      case 'invalid_type': {
        const noun = expectedNoun(schemaAt(schema, issue.path, raw)) ?? NOUNS[issue.expected] ?? issue.expected;
        out.push({ path, message: got === undefined ? `required (${noun})` : `must be ${noun}, got ${describeValue(got)}` });
        break;
      }
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
        if (Math.abs(Number(bound)) === Number.MAX_SAFE_INTEGER) {
          // z.int()'s own safe-integer bound: the value is absurd rather than slightly off.
          out.push({ path, message: `must be an integer below 2^53, got ${describeValue(got)}` });
          break;
        }
        if (issue.origin === 'string' && issue.code === 'too_small' && Number(bound) === 1) {
          out.push({ path, message: 'must not be empty' });
          break;
        }
        const what = issue.origin === 'array' ? `have ${op} ${String(bound)} items` : issue.origin === 'string' ? `have ${op} ${String(bound)} characters` : `be ${op} ${String(bound)}`;
        out.push({ path, message: `must ${what}, got ${describeValue(got)}` });
        break;
      }
      case 'invalid_format':
        out.push({ path, message: `${issue.message}, got ${describeValue(got)}` });
        break;
      case 'invalid_value': {
        const choices = issue.values.map((v) => JSON.stringify(v)).join(', ');
        out.push({ path, message: got === undefined ? `required (one of ${choices})` : `must be one of ${choices}, got ${describeValue(got)}` });
        break;
      }
      case 'invalid_union': {
        const u = issue as unknown as { discriminator?: string; options?: unknown[] };
        if (u.options) {
          const choices = u.options.map((v) => JSON.stringify(v)).join(', ');
          out.push({ path, message: got === undefined ? `required (one of ${choices})` : `must be one of ${choices}, got ${describeValue(got)}` });
        } else {
          // A plain union (a step name or a {step, map} mapping): when the value has the kind of
          // exactly one option, that option's own problems are the useful ones.
          const errors = (issue as unknown as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
          const near = errors.filter((errs) => errs.some((e) => e.path.length > 0));
          if (near.length === 1) {
            out.push(...toConfigIssues(schema, raw, near[0].map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as z.core.$ZodIssue)));
          } else {
            out.push({ path, message: got === undefined ? `required (${issue.message.replace(/^must be /, '')})` : `${issue.message}, got ${describeValue(got)}` });
          }
        }
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}
