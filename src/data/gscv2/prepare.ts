// `prepare` for Google Speech Commands v2: finds (or downloads and extracts) the dataset and its
// test set, assigns every clip a split and one of the 12 classes (split.ts), cuts the silence
// clips from the background noise (silence.ts), opens every listed WAV once to check it, and
// writes <dataDir>/gscv2/clips.arrow and, last, meta.json. A directory with a valid meta.json for
// the same source and seed is reused unless forced; meta.json is removed before anything else
// changes, so an interrupted prepare is redone by the next one.
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { SplitName } from '../dataset-module.js';
import { checkWavs } from './check.js';
import { GSC_CLASSES, SILENCE, writeClips } from './clips.js';
import { BACKGROUND_NOISE, CLIPS_FILE, clipsPath, GSC_DOWNLOAD_BASE, GSC_MAIN, GSC_TEST, gscv2Dir, metaPath, SILENCE_DIR, silenceDir } from './layout.js';
import { GSCV2_FORMAT, GSCV2_VERSION, readGscv2Meta, writeGscv2Meta, type Gscv2Meta, type SplitCounts } from './meta.js';
import { planSilence, readNoiseTracks, SILENCE_GAINS_DB, SILENCE_SAMPLES, SILENCE_VALID_RULE, silenceValidCount, writeSilence } from './silence.js';
import { acquireInputs, type AcquireOptions } from './source.js';
import { mainClips, testClips, unknownRule, type PlannedClip } from './split.js';
import { scanMainTree, scanTestTree } from './tree.js';

/** The source options (source.ts) and the seed. */
export interface PrepareGscv2Options extends AcquireOptions {
  /** The config's split_seed: unknown sampling and silence. */
  seed: number;
}

const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

/** Why a prepared directory does not fit these options (null: reuse it). */
function staleReason(meta: Gscv2Meta, o: PrepareGscv2Options): string | null {
  if (meta.seed !== o.seed) return `it was prepared with seed ${meta.seed}; asked for ${o.seed}`;
  const want = o.source === 'download' ? { kind: 'download', location: o.downloadBase ?? GSC_DOWNLOAD_BASE } : { kind: 'directory', location: resolve(o.source) };
  if (meta.source.kind !== want.kind || meta.source.location !== want.location) {
    return `it was prepared from ${meta.source.kind} ${meta.source.location}; asked for ${want.kind} ${want.location}`;
  }
  if (!existsSync(clipsPath(o.dataDir))) return `${clipsPath(o.dataDir)} is missing`;
  return null;
}

function countSplits(clips: readonly PlannedClip[]): Record<SplitName, SplitCounts> {
  const counts = {} as Record<SplitName, SplitCounts>;
  for (const s of SPLITS) counts[s] = { total: 0, per_class: Object.fromEntries(GSC_CLASSES.map((c) => [c, 0])) };
  for (const c of clips) {
    counts[c.split].total++;
    counts[c.split].per_class[GSC_CLASSES[c.label]]++;
  }
  return counts;
}

const summary = (s: SplitName, c: SplitCounts): string =>
  `${s}: ${c.total} clips (${Object.entries(c.per_class).map(([k, n]) => `${k} ${n}`).join(', ')})`;

const splitRank = (s: SplitName): number => SPLITS.indexOf(s);

export async function prepareGscv2(o: PrepareGscv2Options): Promise<void> {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError('prepareGscv2: dataDir must be a non-empty path');
  if (!Number.isInteger(o.seed)) throw new RangeError(`prepareGscv2: seed must be an integer, got ${o.seed}`);
  const dir = gscv2Dir(o.dataDir);
  const status = readGscv2Meta(o.dataDir);
  if ('meta' in status) {
    const reason = staleReason(status.meta, o);
    if (reason === null && !o.force) {
      const c = status.meta.counts;
      o.log(`GSCv2 already prepared in ${dir} (${c.train.total}/${c.valid.total}/${c.test.total} train/valid/test clips); reusing it`);
      return;
    }
    o.log(o.force ? `re-preparing GSCv2 in ${dir} (forced)` : `re-preparing GSCv2 in ${dir}: ${reason}`);
  } else {
    o.log(existsSync(dir) ? `preparing GSCv2 in ${dir} (${status.problem})` : `preparing GSCv2 in ${dir}`);
  }
  // From here on the directory does not count as prepared until the new meta.json is written.
  rmSync(metaPath(o.dataDir), { force: true });

  const inputs = await acquireInputs(o);
  const mainTree = scanMainTree(inputs[GSC_MAIN].root);
  const testTree = scanTestTree(inputs[GSC_TEST].root);
  // Files evnn extracted are stored relative to <dataDir>/gscv2/ (the folder may move); files
  // left in the user's source folder, absolute.
  const pathOf = (inDataDir: boolean) => (file: string): string => (inDataDir ? relative(dir, file).split(sep).join('/') : resolve(file));

  const rule = unknownRule(mainTree);
  if (rule.words.length === 0) o.log('warning: no unknown-word folders in the dataset; the _unknown_ class has no train or valid clips');
  const listed = [...mainClips(mainTree, rule, o.seed, pathOf(inputs[GSC_MAIN].inDataDir)), ...testClips(testTree, pathOf(inputs[GSC_TEST].inDataDir))];
  o.log(`checking ${listed.length} WAV files`);
  const checked = await checkWavs(listed.map((c) => c.file), 'checking WAV files');
  o.log(`all ${checked.files} WAV files are 16 kHz PCM16 mono (${checked.short} shorter than one second)`);

  const n = rule.n_yes;
  const noise = readNoiseTracks(join(mainTree.root, BACKGROUND_NOISE), mainTree.noise);
  const silence = planSilence(n, noise, o.seed);
  o.log(`cutting ${silence.length} silence clips (${n} slices x ${SILENCE_GAINS_DB.length} gains) from ${noise.length} background noise files`);
  await writeSilence({ dir: silenceDir(o.dataDir), clips: silence, noise, seed: o.seed, n, force: o.force, log: o.log });
  const silenceClips: PlannedClip[] = [];
  for (const c of silence) {
    if (c.split === null) continue;
    const file = join(silenceDir(o.dataDir), c.name);
    silenceClips.push({ split: c.split, label: SILENCE, keyword: GSC_CLASSES[SILENCE], path: `${SILENCE_DIR}/${c.name}`, file });
  }

  const clips = [...listed, ...silenceClips].sort((a, b) => splitRank(a.split) - splitRank(b.split) || a.label - b.label || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  writeClips(clipsPath(o.dataDir), clips.map(({ split, label, keyword, path }) => ({ split, label, keyword, path })));
  const counts = countSplits(clips);
  for (const s of SPLITS) o.log(summary(s, counts[s]));

  const validSilence = silenceValidCount(n);
  const meta: Gscv2Meta = {
    format: GSCV2_FORMAT,
    version: GSCV2_VERSION,
    created_at: new Date().toISOString(),
    classes: [...GSC_CLASSES],
    source: {
      kind: o.source === 'download' ? 'download' : 'directory',
      location: o.source === 'download' ? (o.downloadBase ?? GSC_DOWNLOAD_BASE) : resolve(o.source),
      inputs: {
        [GSC_MAIN]: { ...strip(inputs[GSC_MAIN]), root: mainTree.root },
        [GSC_TEST]: { ...strip(inputs[GSC_TEST]), root: testTree.root },
      },
    },
    seed: o.seed,
    rules: {
      keyword_split: 'official lists: testing_list.txt -> not in train or valid, validation_list.txt -> valid, others -> train; test = every WAV of the test set, labelled by its folder',
      unknown: { ...rule, sampled_from: "each word's train and valid files of the official lists" },
      silence: {
        per_gain: n,
        gains_db: [...SILENCE_GAINS_DB],
        samples: SILENCE_SAMPLES,
        noise_files: noise.map((t) => t.name),
        valid: validSilence,
        unused: silence.length - silenceClips.length,
        valid_rule: SILENCE_VALID_RULE,
      },
    },
    counts,
    files: { clips: CLIPS_FILE },
  };
  writeGscv2Meta(o.dataDir, meta);
  o.log(`GSCv2 prepared in ${dir} (${CLIPS_FILE} and meta.json written)`);
}

function strip<T extends { inDataDir: boolean }>(x: T): Omit<T, 'inDataDir'> {
  const { inDataDir: _, ...rest } = x;
  return rest;
}
