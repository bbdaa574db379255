// meta.json of a prepared language-modelling corpus (`<dataDir>/<ptb|wikitext2>/meta.json`):
// validated on read (a directory whose meta.json is missing, unreadable or of another format
// version counts as not prepared) and always written atomically, last.
import { join } from 'node:path';
import { readMetaJson } from './meta-file.js';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';
import { DatasetError } from './errors.js';
import type { LmCorpusName } from './lm-files.js';

/** Bumped whenever the Arrow layout, the tokenisation or meta.json changes meaning. */
export const LM_FORMAT_VERSION = 1;
export const LM_META_FILE = 'meta.json';

export const lmDir = (dataDir: string, name: LmCorpusName): string => join(dataDir, name);
export const lmMetaPath = (dataDir: string, name: LmCorpusName): string => join(lmDir(dataDir, name), LM_META_FILE);

/** How the files were tokenised (recorded so a reader knows what the ids mean). */
export const LM_TOKENISATION = "EvNN's benchmarks/lm/data.py: each line split on whitespace, then <eos>; vocabulary in order of first appearance over train, valid, test";

const count = z.number().int().nonnegative();
const arrowName = z.string().regex(/^[A-Za-z0-9_.-]+\.arrow$/, 'a plain *.arrow file name');
const perSplit = <T extends z.ZodType>(v: T) => z.object({ train: v, valid: v, test: v });

const metaSchema = z
  .object({
    dataset: z.enum(['ptb', 'wikitext2']),
    format_version: z.literal(LM_FORMAT_VERSION),
    created_at: z.string(),
    source: z.object({ kind: z.enum(['directory', 'archive', 'download']), location: z.string() }),
    /** Path, `archive#member` or URL of each file read. */
    input_files: perSplit(z.string()),
    input_sha256: perSplit(z.string().regex(/^[0-9a-f]{64}$/)),
    /** Whether the three files are the official ones (their published checksums match). */
    official: z.boolean(),
    /** Whether a vocabulary other than the official size was accepted (--allow-other-vocab). */
    allow_other_vocab: z.boolean(),
    tokenisation: z.string(),
    /** Lines read per split (each gave one <eos>). */
    lines: perSplit(count),
    /** Tokens per split (rows of its Arrow file). */
    sizes: perSplit(count),
    vocabulary_size: z.number().int().positive(),
    /** Words by id. */
    vocabulary: z.array(z.string()),
    /** Occurrences of each word over the three splits, by id. */
    word_counts: z.array(count),
    files: perSplit(arrowName),
  })
  .refine((m) => m.vocabulary.length === m.vocabulary_size && m.word_counts.length === m.vocabulary_size, {
    message: 'vocabulary and word_counts must hold vocabulary_size entries',
    path: ['vocabulary'],
  });

export type LmMeta = z.infer<typeof metaSchema>;

export type LmMetaStatus = { meta: LmMeta } | { problem: string };

export function readLmMeta(dataDir: string, name: LmCorpusName): LmMetaStatus {
  const path = lmMetaPath(dataDir, name);
  const r = readMetaJson(path, metaSchema, 'language-model');
  if ('meta' in r && r.meta.dataset !== name) return { problem: `${path} describes ${r.meta.dataset}, not ${name}` };
  return r;
}

/** The meta of a prepared corpus, or a DatasetError telling the user to prepare it. */
export function requireLmMeta(dataDir: string, name: LmCorpusName): LmMeta {
  const status = readLmMeta(dataDir, name);
  if ('problem' in status) {
    throw new DatasetError(lmMetaPath(dataDir, name), `${name} is not prepared in ${lmDir(dataDir, name)}: ${status.problem}; run \`evnn prepare ${name} --source DIR|ARCHIVE|download\``);
  }
  return status.meta;
}

export function writeLmMeta(dataDir: string, meta: LmMeta): void {
  writeJsonAtomic(lmMetaPath(dataDir, meta.dataset), meta);
}
