// Word-level tokenisation of a language-model corpus, as EvNN's benchmarks/lm/data.py (and
// AWD-LSTM's, which it follows) does it: the file is read as text line by line (Python's universal
// newlines: \n, \r\n and \r end a line), each line is split on whitespace (Python's str.split()
// with no argument) and gets `<eos>` appended, so an empty line is a lone `<eos>`. One vocabulary
// is built in order of first appearance over train, then valid, then test.
import { basename } from 'node:path';
import { DatasetError } from './errors.js';
import type { SplitName } from './dataset-module.js';

export const EOS = '<eos>';

export const LM_SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

/** Decodes a corpus file as UTF-8 (strictly, keeping a byte-order mark as a character, as
 * Python's `open(path, 'r')` does); `file` names it in errors. */
export function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new DatasetError(file, `${basename(file)}: not valid UTF-8 text (${(err as Error).message})`, { cause: err });
  }
}

/** The lines of a text as Python iterates a file opened in text mode: split at \r\n, \r or \n;
 * a final line break does not start another line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// The characters Python's str.isspace() accepts, which str.split() splits on. JavaScript's \s
// differs: it lacks \x1c-\x1f and \x85 and has \ufeff, which Python keeps inside words.
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python's `line.split()`: words separated by runs of whitespace, none empty. */
export function splitWords(line: string): string[] {
  const words = line.split(PY_WHITESPACE);
  if (words.length > 0 && words[0] === '') words.shift();
  if (words.length > 0 && words[words.length - 1] === '') words.pop();
  return words;
}

/** A vocabulary in order of first appearance, with how often each word occurred. */
export class Vocabulary {
  readonly words: string[] = [];
  readonly counts: number[] = [];
  private readonly ids = new Map<string, number>();

  get size(): number {
    return this.words.length;
  }

  /** The word's id, adding it when new (and counting the occurrence). */
  add(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.ids.set(word, id);
      this.words.push(word);
      this.counts.push(0);
    }
    this.counts[id] += 1;
    return id;
  }

  idOf(word: string): number | undefined {
    return this.ids.get(word);
  }
}

export interface TokenisedText {
  tokens: Int32Array;
  /** Lines read (each gave one `<eos>`). */
  lines: number;
}

/** Tokenises one text, adding its new words to `vocab`. */
export function tokeniseText(text: string, vocab: Vocabulary): TokenisedText {
  const lines = splitLines(text);
  let ids = new Int32Array(Math.max(16, lines.length * 8));
  let n = 0;
  const push = (id: number) => {
    if (n === ids.length) {
      const grown = new Int32Array(ids.length * 2);
      grown.set(ids);
      ids = grown;
    }
    ids[n++] = id;
  };
  for (const line of lines) {
    for (const word of splitWords(line)) push(vocab.add(word));
    push(vocab.add(EOS));
  }
  return { tokens: ids.slice(0, n), lines: lines.length };
}

export interface TokenisedCorpus {
  /** Words by id. */
  vocabulary: string[];
  /** Occurrences of each word over the three splits, by id. */
  counts: number[];
  splits: Record<SplitName, TokenisedText>;
}

/** EvNN's Corpus: the three splits tokenised in order train, valid, test over one vocabulary. */
export function tokeniseCorpus(texts: Readonly<Record<SplitName, string>>): TokenisedCorpus {
  const vocab = new Vocabulary();
  const splits = {} as Record<SplitName, TokenisedText>;
  for (const split of LM_SPLITS) splits[split] = tokeniseText(texts[split], vocab);
  return { vocabulary: vocab.words, counts: vocab.counts, splits };
}
