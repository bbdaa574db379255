// Reading a prepared dataset's meta.json: a missing, unreadable or invalid file is reported (not
// thrown) as why the directory is not prepared, so the caller can prepare it again.
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

export type MetaRead<T> = { meta: T } | { problem: string };

/** meta.json at `path` checked against `schema`; `what` names its kind in the problem ("MNIST"). */
export function readMetaJson<S extends z.ZodType>(path: string, schema: S, what: string): MetaRead<z.infer<S>> {
  if (!existsSync(path)) return { problem: `${path} does not exist` };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { problem: `${path} is not readable JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${path} is not a valid evnn ${what} meta.json (${issue.path.join('.') || 'root'}: ${issue.message})` };
  }
  return { meta: parsed.data };
}
