// Finds the schema of a field from its path, so an error message can say what the field expects
// ("an integer", "one of ...") in words zod's own issues don't carry (z.int() reports a missing
// value as expecting a "number"; a missing enum reports a "string").
import type { z } from 'zod';

type Schema = z.core.$ZodType;
type AnyDef = z.core.$ZodTypeDef & Record<string, unknown>;

const def = (s: Schema) => s._zod.def as AnyDef;

/** Strips wrappers that don't change what a value must look like (optional, default, ...). */
function unwrap(s: Schema): Schema {
  for (;;) {
    const d = def(s);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable' || d.type === 'readonly' || d.type === 'catch') {
      s = d.innerType as Schema;
    } else if (d.type === 'pipe') {
      s = d.in as Schema;
    } else {
      return s;
    }
  }
}

/**
 * The option of a union the raw value selects: for a discriminated union, the one its
 * discriminator names; for a plain one, the only mapping option when the value is a mapping.
 */
function unionOption(s: Schema, raw: unknown): Schema | undefined {
  const d = def(s);
  const key = d.discriminator as string | undefined;
  if (!key) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const mappings = (d.options as Schema[]).filter((o) => def(unwrap(o)).type === 'object');
    return mappings.length === 1 ? mappings[0] : undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const tag = (raw as Record<string, unknown>)[key];
  for (const option of d.options as Schema[]) {
    const values = option._zod.propValues?.[key];
    if (values?.has(tag as never)) return option;
  }
  return undefined;
}

/** Schema at `path` below `root`, following the raw value through unions; undefined if unknown. */
export function schemaAt(root: Schema, path: readonly PropertyKey[], raw: unknown): Schema | undefined {
  let s: Schema | undefined = root;
  let v: unknown = raw;
  for (const key of path) {
    if (!s) return undefined;
    s = unwrap(s);
    if (def(s).type === 'union') s = unionOption(s, v);
    if (!s) return undefined;
    const d = def(s);
    if (d.type === 'object') s = (d.shape as Record<string, Schema>)[String(key)];
    else if (d.type === 'array') s = d.element as Schema;
    else if (d.type === 'record') s = d.valueType as Schema;
    else if (d.type === 'tuple') s = (d.items as Schema[])[Number(key)];
    else return undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return s;
}

const quoteAll = (values: Iterable<unknown>) => [...values].map((x) => JSON.stringify(x)).join(', ');

/** What a value of this schema must be, in words ("an integer", "one of "a", "b""), if it can say. */
export function expectedNoun(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  const s = unwrap(schema);
  const d = def(s);
  switch (d.type) {
    case 'number':
      // z.int() is a number schema with an integer format ("safeint", "int32", ...).
      return typeof d.format === 'string' && /int/.test(d.format) ? 'an integer' : 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'union':
      // Discriminated unions of sections are mappings; a plain union says what it takes itself.
      return (d.options as Schema[]).every((o) => def(unwrap(o)).type === 'object') ? 'a mapping' : undefined;
    case 'enum':
    case 'literal':
      return s._zod.values ? `one of ${quoteAll(s._zod.values)}` : undefined;
    default:
      return undefined;
  }
}
