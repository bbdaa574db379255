// Small language-modelling corpora in the two official formats, written at test time (never
// committed): PTB's plain lines (a leading and a trailing space, `<unk>`, `N`), WikiText-2's
// ` = Heading = ` lines and blank ` ` lines; laid out as a folder, Mikolov's simple-examples
// tree, EvNN's renamed files, a .tgz or a .zip.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { create as tarCreate } from 'tar';
import type { Digest } from '../../src/data/lm-files.js';
import type { SplitName } from '../../src/data/dataset-module.js';

export const SPLITS: SplitName[] = ['train', 'valid', 'test'];

export const PTB_TEXT: Record<SplitName, string> = {
  train: ' aer banknote <unk> \n pierre <unk> N years old \n the board <unk> \n',
  valid: ' the <unk> years \n consumers may want \n',
  test: ' no it was n\'t black monday \n the board \n',
};

/** PTB_TEXT tokenised by hand: ids in order of first appearance over train, valid, test. */
export const PTB_VOCAB = [
  'aer', 'banknote', '<unk>', '<eos>', 'pierre', 'N', 'years', 'old', 'the', 'board', // train
  'consumers', 'may', 'want', // valid
  'no', 'it', 'was', "n't", 'black', 'monday', // test
];
export const PTB_IDS: Record<SplitName, number[]> = {
  train: [0, 1, 2, 3, 4, 2, 5, 6, 7, 3, 8, 9, 2, 3],
  valid: [8, 2, 6, 3, 10, 11, 12, 3],
  test: [13, 14, 15, 16, 17, 18, 3, 8, 9, 3],
};

export const WT2_TEXT: Record<SplitName, string> = {
  train: ' \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : <unk> Chronicles \n \n = = Gameplay = = \n \n',
  valid: ' \n = Homarus gammarus = \n \n Homarus gammarus , known as the lobster \n',
  test: ' \n = Robert <unk> = \n \n Robert <unk> is an English actor . \n',
};

/** WT2_TEXT tokenised by hand (blank lines are a lone <eos>). */
export const WT2_VOCAB = [
  '<eos>', '=', 'Valkyria', 'Chronicles', 'III', 'Senjō', 'no', '3', ':', '<unk>', 'Gameplay', // train
  'Homarus', 'gammarus', ',', 'known', 'as', 'the', 'lobster', // valid
  'Robert', 'is', 'an', 'English', 'actor', '.', // test
];
export const WT2_IDS: Record<SplitName, number[]> = {
  train: [0, 1, 2, 3, 4, 1, 0, 0, 5, 6, 2, 7, 8, 9, 3, 0, 0, 1, 1, 10, 1, 1, 0, 0],
  valid: [0, 1, 11, 12, 1, 0, 0, 11, 12, 13, 14, 15, 16, 17, 0],
  test: [0, 1, 18, 9, 1, 0, 0, 18, 9, 19, 20, 21, 22, 23, 0],
};

export const PTB_NAMES: Record<SplitName, string> = { train: 'ptb.train.txt', valid: 'ptb.valid.txt', test: 'ptb.test.txt' };
export const WT2_NAMES: Record<SplitName, string> = { train: 'wiki.train.tokens', valid: 'wiki.valid.tokens', test: 'wiki.test.tokens' };

/** Writes the three files under `dir/<prefix>` with the given names; returns that folder. */
export function writeCorpus(dir: string, prefix: string, names: Record<SplitName, string>, texts: Record<SplitName, string>): string {
  const at = join(dir, prefix);
  mkdirSync(at, { recursive: true });
  for (const s of SPLITS) writeFileSync(join(at, names[s]), texts[s]);
  return at;
}

/** A .tgz of Mikolov's layout (`simple-examples/data/ptb.*.txt`, plus a file that is not read). */
export async function writeSimpleExamplesTgz(dir: string, texts: Record<SplitName, string> = PTB_TEXT): Promise<string> {
  const tree = join(dir, 'tree');
  writeCorpus(tree, 'simple-examples/data', PTB_NAMES, texts);
  writeFileSync(join(tree, 'simple-examples', 'README'), 'not read\n');
  const file = join(dir, 'simple-examples.tgz');
  await tarCreate({ gzip: true, file, cwd: tree, portable: true }, ['simple-examples']);
  return file;
}

/** The bytes of a .zip in the wikitext-2-v1 layout (`wikitext-2/wiki.*.tokens`). */
export function wikitextZip(texts: Record<SplitName, string> = WT2_TEXT): Uint8Array {
  const enc = new TextEncoder();
  return zipSync({
    'wikitext-2/': {},
    'wikitext-2/wiki.train.tokens': enc.encode(texts.train),
    'wikitext-2/wiki.valid.tokens': enc.encode(texts.valid),
    'wikitext-2/wiki.test.tokens': enc.encode(texts.test),
  });
}

export function writeFile(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

export const digestOf = (algorithm: Digest['algorithm'], bytes: Uint8Array | string): Digest => ({
  algorithm,
  hex: createHash(algorithm).update(bytes).digest('hex'),
});

export const checksumsOf = (texts: Record<SplitName, string>, algorithm: Digest['algorithm'] = 'md5'): Record<SplitName, Digest> =>
  Object.fromEntries(SPLITS.map((s) => [s, digestOf(algorithm, texts[s])])) as Record<SplitName, Digest>;

export const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
