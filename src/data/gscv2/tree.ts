// Reading the folder structure of the two GSCv2 trees: the main dataset (one folder per word,
// `_background_noise_/`, the official validation and testing lists) and the test set (the ten
// command words, `_silence_/`, `_unknown_/`). Only names are read here; the WAV files themselves
// are checked later, once each.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { GSC_CLASSES } from './clips.js';
import { BACKGROUND_NOISE, COMMAND_WORDS, TESTING_LIST, VALIDATION_LIST } from './layout.js';

export interface MainTree {
  root: string;
  /** Word folder → its WAV file names, sorted. Folders starting with `_` or `.` are not words. */
  words: Map<string, string[]>;
  /** WAV file names in `_background_noise_/`, sorted. */
  noise: string[];
  /** Entries of validation_list.txt and testing_list.txt, as `word/file.wav`. */
  validation: Set<string>;
  testing: Set<string>;
}

export interface TestTree {
  root: string;
  /** Class folder (a command word, `_silence_` or `_unknown_`) → its WAV file names, sorted. */
  folders: Map<string, string[]>;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Subfolders of `dir` (following links), sorted, without hidden ones. */
function subfolders(dir: string): string[] {
  return readdirSync(dir).filter((e) => !e.startsWith('.') && isDir(join(dir, e))).sort();
}

function wavFiles(dir: string): string[] {
  return readdirSync(dir).filter((e) => e.endsWith('.wav') && !e.startsWith('.') && !isDir(join(dir, e))).sort();
}

/**
 * The folder of `dir` that `isRoot` accepts: `dir` itself, or its only subfolder (an archive
 * packed with its top folder inside, rather than with its members at the root as the official
 * ones are).
 */
function findRoot(dir: string, isRoot: (d: string) => boolean): string {
  if (isRoot(dir)) return dir;
  const subs = subfolders(dir);
  if (subs.length === 1 && isRoot(join(dir, subs[0]))) return join(dir, subs[0]);
  return dir;
}

function readList(root: string, name: string): Set<string> {
  const file = join(root, name);
  if (!existsSync(file)) throw new DatasetError(file, `${name}: missing from ${root} (the official split lists are part of Speech Commands v0.02)`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  return new Set(lines.map((l) => l.trim().replace(/\\/g, '/')).filter((l) => l !== ''));
}

export function scanMainTree(dir: string): MainTree {
  const root = findRoot(dir, (d) => existsSync(join(d, VALIDATION_LIST)) || isDir(join(d, 'yes')));
  const words = new Map<string, string[]>();
  // `_`-folders are not words: `_background_noise_`, and a `_silence_` the reference wrote into
  // the dataset folder would otherwise become an unknown word.
  for (const w of subfolders(root)) if (!w.startsWith('_')) words.set(w, wavFiles(join(root, w)));
  for (const w of COMMAND_WORDS) {
    if (!words.has(w)) throw new DatasetError(join(root, w), `${w}/: the command word folder is missing from ${root} (not a Speech Commands v0.02 folder?)`);
    if (words.get(w)!.length === 0) throw new DatasetError(join(root, w), `${w}/: holds no WAV files`);
  }
  const noiseDir = join(root, BACKGROUND_NOISE);
  if (!isDir(noiseDir)) throw new DatasetError(noiseDir, `${BACKGROUND_NOISE}/: missing from ${root}; the silence clips are cut from it`);
  const noise = wavFiles(noiseDir);
  if (noise.length === 0) throw new DatasetError(noiseDir, `${BACKGROUND_NOISE}/: holds no WAV files; the silence clips are cut from them`);
  return { root, words, noise, validation: readList(root, VALIDATION_LIST), testing: readList(root, TESTING_LIST) };
}

export function scanTestTree(dir: string): TestTree {
  const classes: readonly string[] = GSC_CLASSES;
  const root = findRoot(dir, (d) => subfolders(d).some((s) => classes.includes(s)));
  const folders = new Map<string, string[]>();
  for (const f of subfolders(root)) {
    if (f === BACKGROUND_NOISE) continue;
    if (!classes.includes(f)) {
      throw new DatasetError(join(root, f), `${f}/: unexpected folder in the test set ${root} (its folders are the classes ${classes.join(', ')})`);
    }
    folders.set(f, wavFiles(join(root, f)));
  }
  if (folders.size === 0) throw new DatasetError(root, `${root}: holds none of the class folders ${classes.join(', ')} (not the Speech Commands v0.02 test set?)`);
  return { root, folders };
}
