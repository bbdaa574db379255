// Which clip of the GSCv2 trees goes to which split, with which label.
// - Command words follow the official lists: a file in testing_list.txt is left out of train and
//   valid (the test split comes from the test-set archive), one in validation_list.txt is valid,
//   any other is train.
// - Unknown words (every other word folder) are sampled, as the reference balances them against
//   the keywords: per word, ceil(nYes / nWords) train clips and ceil(400 / nWords) valid clips.
//   Unlike the reference, which samples from the whole folder and so puts test speakers (and 30
//   test utterances) into train and valid, the samples come from that word's train and valid files
//   of the official lists; a word with fewer files gives what it has.
// - The test split is every WAV of the test set, labelled by its folder.
import { join } from 'node:path';
import { Rng } from '../../util/rng.js';
import type { SplitName } from '../dataset-module.js';
import { GSC_CLASSES, UNKNOWN, type Clip } from './clips.js';
import { COMMAND_WORDS } from './layout.js';
import type { MainTree, TestTree } from './tree.js';

/** A clip with the absolute path of its WAV (to check it); `path` is what clips.arrow stores. */
export interface PlannedClip extends Clip {
  file: string;
}

/** The reference's total of unknown clips in valid (ceil(400/25) = 16 per word on the real data). */
export const UNKNOWN_VALID_TARGET = 400;

/** Seed stream of the unknown-word sampling (distinct from the silence streams). */
const UNKNOWN_STREAM = 0x756e6b;

export interface UnknownRule {
  words: string[];
  /** The number of `yes` files (all splits), which the train share is balanced against. */
  n_yes: number;
  train_per_word: number;
  valid_per_word: number;
  valid_target: number;
}

const labelOf = (name: string): number => (GSC_CLASSES as readonly string[]).indexOf(name);

/** FNV-1a of a word, so each word's sample depends on its name, not on which other words exist. */
function wordKey(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** `k` of `items`, chosen by `rng`, in their original (sorted) order. */
function sample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const pick = Array.from(rng.permutation(items.length).subarray(0, Math.min(k, items.length))).sort((a, b) => a - b);
  return pick.map((i) => items[i]);
}

export function unknownRule(tree: MainTree): UnknownRule {
  const words = [...tree.words.keys()].filter((w) => !COMMAND_WORDS.includes(w));
  const nYes = tree.words.get('yes')?.length ?? 0;
  const n = Math.max(words.length, 1);
  return { words, n_yes: nYes, train_per_word: Math.ceil(nYes / n), valid_per_word: Math.ceil(UNKNOWN_VALID_TARGET / n), valid_target: UNKNOWN_VALID_TARGET };
}

/** The train and valid clips of the main tree (without silence). `pathOf` gives the stored path. */
export function mainClips(tree: MainTree, rule: UnknownRule, seed: number, pathOf: (file: string) => string): PlannedClip[] {
  const clips: PlannedClip[] = [];
  const add = (split: SplitName, label: number, keyword: string, name: string): void => {
    const file = join(tree.root, keyword, name);
    clips.push({ split, label, keyword, path: pathOf(file), file });
  };
  const splitOf = (word: string, name: string): SplitName | null => {
    const key = `${word}/${name}`;
    if (tree.testing.has(key)) return null;
    return tree.validation.has(key) ? 'valid' : 'train';
  };
  for (const word of COMMAND_WORDS) {
    for (const name of tree.words.get(word) ?? []) {
      const split = splitOf(word, name);
      if (split) add(split, labelOf(word), word, name);
    }
  }
  for (const word of rule.words) {
    const files = tree.words.get(word) ?? [];
    const rng = new Rng(seed, UNKNOWN_STREAM, wordKey(word));
    const train = sample(files.filter((f) => splitOf(word, f) === 'train'), rule.train_per_word, rng);
    const valid = sample(files.filter((f) => splitOf(word, f) === 'valid'), rule.valid_per_word, rng);
    for (const name of train) add('train', UNKNOWN, word, name);
    for (const name of valid) add('valid', UNKNOWN, word, name);
  }
  return clips;
}

/** `backward_0c540988_nohash_0.wav.wav` → `backward`: the word an unknown test clip came from. */
function unknownWord(name: string): string {
  const m = /^([a-z]+)_[0-9a-f]+_nohash_\d+\.wav(\.wav)?$/i.exec(name);
  return m ? m[1] : GSC_CLASSES[UNKNOWN];
}

/** The test clips: every WAV of the test set, labelled by its folder. */
export function testClips(tree: TestTree, pathOf: (file: string) => string): PlannedClip[] {
  const clips: PlannedClip[] = [];
  for (const [folder, names] of tree.folders) {
    const label = labelOf(folder);
    for (const name of names) {
      const file = join(tree.root, folder, name);
      // The keyword column names the word folder a clip came from; an unknown test clip's word
      // is in its file name (its folder is `_unknown_`).
      const keyword = label === UNKNOWN ? unknownWord(name) : folder;
      clips.push({ split: 'test', label, keyword, path: pathOf(file), file });
    }
  }
  return clips;
}
