// The GSCv2 feature step: every clip of <dataDir>/gscv2/clips.arrow through the reference's log
// filterbank, written per split to features/{train,valid,test}.arrow (raw dB, not normalised),
// then features/meta.json with the training statistics. meta.json is written last and names the
// SHA-256 of the clips.arrow it came from, so a finished run is recognised (and skipped) and one
// over another clip list is redone.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { ProgressStream } from '../../log/progress.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { SplitName } from '../dataset-module.js';
import { DatasetError } from '../errors.js';
import { GSC_CLASSES, readClips, type Clip } from './clips.js';
import { FeatureSplitWriter } from './feature-arrow.js';
import {
  clipsPath, FEATURE_FORMAT, FEATURE_FORMAT_VERSION, featureMetaPath, featureMetaStatus, featuresDir, featureSplitPath, gscv2Dir, SPLITS,
  writeFeatureMeta, type FeatureMeta,
} from './feature-meta.js';
import { loopProgress } from './progress.js';
import { FeatureStatsAccumulator } from './feature-stats.js';
import { frameLabels } from './frame-labels.js';
import { FEATURE_SETTINGS, LogFilterbank, N_FILTERS } from './log-filterbank.js';
import { readWavPcm16 } from './wav.js';

export interface ExtractGscv2FeaturesOptions {
  dataDir: string;
  force: boolean;
  log: (m: string) => void;
  /** Where the progress bar goes (default stderr; a bar only when it is a terminal). */
  progress?: ProgressStream;
}

/** Clips between progress updates and yields to the event loop (which keeps the bar and signals live). */
const TICK = 256;

function readClipsBytes(file: string): Uint8Array {
  if (!existsSync(file)) throw new DatasetError(file, `${basename(file)}: ${file} does not exist; prepare GSCv2 first`);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new DatasetError(file, `${basename(file)}: cannot be read (${(err as Error).message})`, { cause: err });
  }
}

/** Why finished features cannot be reused (null: they can). */
function staleReason(dataDir: string, meta: FeatureMeta, clipsSha256: string): string | null {
  if (meta.clips_sha256 !== clipsSha256) return 'clips.arrow has changed since they were extracted';
  if (JSON.stringify(meta.settings) !== JSON.stringify(FEATURE_SETTINGS)) return 'they were extracted with other settings';
  for (const split of SPLITS) {
    const file = featureSplitPath(dataDir, split);
    if (!existsSync(file)) return `${basename(file)} is missing`;
    const size = statSync(file).size;
    if (size !== meta.splits[split].bytes) return `${basename(file)} has ${size} bytes, meta.json says ${meta.splits[split].bytes}`;
  }
  return null;
}

function wavPath(dataDir: string, clip: Clip): string {
  return isAbsolute(clip.path) ? clip.path : join(gscv2Dir(dataDir), clip.path);
}

function readClipSamples(file: string): Int16Array {
  let wav: { samples: Int16Array; sampleRate: number };
  try {
    wav = readWavPcm16(file);
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(file, `${basename(file)}: not a readable WAV file (${(err as Error).message})`, { cause: err });
  }
  // The frame length in samples is fixed for 16 kHz; another rate would silently change the features.
  if (wav.sampleRate !== FEATURE_SETTINGS.sample_rate) {
    throw new DatasetError(file, `${basename(file)}: sample rate ${wav.sampleRate} Hz, expected ${FEATURE_SETTINGS.sample_rate} Hz`);
  }
  return wav.samples;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface SplitResult {
  file: string;
  clips: number;
  frames: number;
  bytes: number;
}

async function extractSplit(
  o: ExtractGscv2FeaturesOptions, split: SplitName, clips: readonly Clip[], fb: LogFilterbank, stats: FeatureStatsAccumulator | null,
): Promise<SplitResult> {
  const target = featureSplitPath(o.dataDir, split);
  const writer = new FeatureSplitWriter();
  const t0 = performance.now();
  const bar = loopProgress(`features ${split}`, clips.length, 'clips', o.progress, { rate: true });
  try {
    for (let i = 0; i < clips.length; i++) {
      const clip = clips[i];
      const { frames, data } = fb.extract(readClipSamples(wavPath(o.dataDir, clip)));
      writer.add(data, frames, clip.label, frameLabels(frames, clip.label));
      stats?.add(data);
      if ((i + 1) % TICK === 0) {
        bar.tick(TICK);
        await yieldToEventLoop();
      }
    }
    const bytes = writer.encode();
    writeFileAtomic(target, bytes);
    const secs = (performance.now() - t0) / 1000;
    bar.done();
    o.log(
      `features ${split}: ${clips.length} clips, ${writer.frames} frames in ${secs.toFixed(1)} s (${(clips.length / Math.max(secs, 1e-9)).toFixed(0)} clips/s) -> ${target}`,
    );
    return { file: basename(target), clips: writer.rows, frames: writer.frames, bytes: bytes.length };
  } catch (err) {
    bar.done();
    throw err;
  }
}

/** `evnn feature` for GSCv2: extracts the features unless finished ones match clips.arrow. */
export async function extractGscv2Features(o: ExtractGscv2FeaturesOptions): Promise<void> {
  const clipsFile = clipsPath(o.dataDir);
  const clipsBytes = readClipsBytes(clipsFile);
  const clipsSha256 = createHash('sha256').update(clipsBytes).digest('hex');
  const dir = featuresDir(o.dataDir);

  const status = featureMetaStatus(o.dataDir);
  if ('meta' in status) {
    const reason = staleReason(o.dataDir, status.meta, clipsSha256);
    if (reason === null && !o.force) {
      o.log(`GSCv2 features already extracted in ${dir} (clips.arrow unchanged); use --force to extract them again`);
      return;
    }
    o.log(`re-extracting GSCv2 features in ${dir}: ${reason ?? 'forced'}`);
  } else if (existsSync(featureMetaPath(o.dataDir))) {
    o.log(`re-extracting GSCv2 features in ${dir}: ${status.problem}`);
  }

  const clips = readClips(clipsFile);
  const bySplit: Record<SplitName, Clip[]> = { train: [], valid: [], test: [] };
  for (const c of clips) bySplit[c.split].push(c);
  if (bySplit.train.length === 0) throw new DatasetError(clipsFile, `${basename(clipsFile)}: no train clips, which the normalisation statistics come from`);

  // Until the new meta.json is written, nothing here may pass for finished features.
  rmSync(featureMetaPath(o.dataDir), { force: true });
  mkdirSync(dir, { recursive: true });
  o.log(`extracting GSCv2 log filterbank features of ${clips.length} clips into ${dir}`);

  const fb = new LogFilterbank();
  const stats = new FeatureStatsAccumulator(N_FILTERS);
  const splits = {} as Record<SplitName, SplitResult>;
  for (const split of SPLITS) splits[split] = await extractSplit(o, split, bySplit[split], fb, split === 'train' ? stats : null);

  const s = stats.result();
  writeFeatureMeta(o.dataDir, {
    format: FEATURE_FORMAT,
    version: FEATURE_FORMAT_VERSION,
    created_at: new Date().toISOString(),
    clips_file: basename(clipsFile),
    clips_sha256: clipsSha256,
    settings: { ...FEATURE_SETTINGS },
    n_features: N_FILTERS,
    n_classes: GSC_CLASSES.length,
    classes: [...GSC_CLASSES],
    splits,
    stats: {
      source: 'train', ddof: 1, count: s.count, mean: s.global.mean, std: s.global.std, min: s.global.min, max: s.global.max,
      channel_mean: s.per_channel.mean, channel_std: s.per_channel.std,
    },
  });
  o.log(`GSCv2 features extracted in ${dir}`);
}
