// Downloads a language-modelling corpus from its sources in order (the three files, or an
// archive holding them), checks an archive against its pinned checksum where one is published
// and every file's content against the pinned per-file checksums, and only then stores what was
// downloaded, atomically, in the target folder: a failed or damaged download leaves nothing
// behind, and a stored copy that still verifies is used instead of downloading again.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { SplitName } from './dataset-module.js';
import { DatasetError } from './errors.js';
import { fetchBytes, joinUrl } from './http.js';
import { DIGEST_NAMES, digestHex, readCorpusArchive, type Digest, type LmCorpusSpec, type LmDownloadSource, type RawCorpus } from './lm-files.js';
import { LM_SPLITS } from './tokens.js';

export interface DownloadLmOptions {
  /** Where the downloaded files are kept. */
  targetDir: string;
  /** Default: the corpus's official locations. */
  sources?: readonly LmDownloadSource[];
  /** Expected checksums of the three files' content. Default: the corpus's published ones. */
  checksums?: Readonly<Record<SplitName, Digest>>;
  log?: (msg: string) => void;
  /** Per-request timeout (default 10 minutes). */
  timeoutMs?: number;
}

/** Why a source's bytes are not the corpus (null: they are). */
type Problem = string | null;

function fileName(url: string): string {
  return new URL(url).pathname.split('/').pop() || 'download';
}


function checkDigest(what: string, bytes: Uint8Array, expected: Digest): Problem {
  const actual = digestHex(expected.algorithm, bytes);
  if (actual === expected.hex) return null;
  return `${what}: ${DIGEST_NAMES[expected.algorithm]} mismatch: expected ${expected.hex}, got ${actual} (damaged download or a different file)`;
}

function checkContent(raw: RawCorpus, checksums: Readonly<Record<SplitName, Digest>>, name: (s: SplitName) => string): Problem {
  for (const split of LM_SPLITS) {
    const p = checkDigest(name(split), raw.bytes[split], checksums[split]);
    if (p) return p;
  }
  return null;
}

/** An archive's bytes → the corpus, or why not. */
async function fromArchive(spec: LmCorpusSpec, bytes: Uint8Array, origin: string, source: Extract<LmDownloadSource, { kind: 'archive' }>, checksums: Readonly<Record<SplitName, Digest>>): Promise<RawCorpus | string> {
  if (source.checksum) {
    const p = checkDigest(fileName(source.url), bytes, source.checksum);
    if (p) return p;
  }
  let raw: RawCorpus;
  try {
    raw = await readCorpusArchive(spec, bytes, origin);
  } catch (err) {
    return (err as Error).message;
  }
  return checkContent(raw, checksums, (s) => raw.files[s].split('#').pop()!) ?? { ...raw, kind: 'download' };
}

/** A stored copy of one source that still verifies. */
async function storedCopy(spec: LmCorpusSpec, source: LmDownloadSource, o: Required<Pick<DownloadLmOptions, 'targetDir' | 'checksums'>> & DownloadLmOptions): Promise<RawCorpus | null> {
  if (source.kind === 'files') {
    const paths = LM_SPLITS.map((s) => join(o.targetDir, spec.files[s]));
    if (!paths.every((p) => existsSync(p))) return null;
    const bytes = {} as Record<SplitName, Uint8Array>;
    const files = {} as Record<SplitName, string>;
    LM_SPLITS.forEach((s, i) => {
      files[s] = paths[i];
      bytes[s] = readFileSync(paths[i]);
    });
    const raw: RawCorpus = { kind: 'download', location: o.targetDir, files, bytes };
    if (checkContent(raw, o.checksums, (s) => spec.files[s]) === null) return raw;
    o.log?.(`the stored files in ${o.targetDir} do not verify; downloading them again`);
    return null;
  }
  const path = join(o.targetDir, fileName(source.url));
  if (!existsSync(path)) return null;
  const got = await fromArchive(spec, readFileSync(path), path, source, o.checksums);
  if (typeof got !== 'string') return got;
  o.log?.(`${path} does not verify (${got}); downloading it again`);
  return null;
}

/** Downloads (or reuses a stored copy of) the corpus's three files; nothing is stored unless they verify. */
export async function downloadLmCorpus(spec: LmCorpusSpec, opts: DownloadLmOptions): Promise<RawCorpus> {
  const sources = opts.sources ?? spec.downloads;
  if (sources.length === 0) throw new Error('downloadLmCorpus: no download source given');
  const o = { ...opts, checksums: opts.checksums ?? spec.checksums };
  const timeoutMs = opts.timeoutMs ?? 600_000;

  for (const source of sources) {
    const stored = await storedCopy(spec, source, o);
    if (stored) {
      opts.log?.(`using the ${spec.title} files downloaded before (${stored.location})`);
      return stored;
    }
  }

  const failures: string[] = [];
  for (const source of sources) {
    if (source.kind === 'files') {
      const bytes = {} as Record<SplitName, Uint8Array>;
      const files = {} as Record<SplitName, string>;
      let problem: Problem = null;
      for (const split of LM_SPLITS) {
        const url = joinUrl(source.baseUrl, spec.files[split]);
        opts.log?.(`downloading ${url}`);
        try {
          bytes[split] = await fetchBytes(url, timeoutMs);
        } catch (err) {
          problem = `${url}: ${(err as Error).message}`;
          break;
        }
        files[split] = url;
        const p = checkDigest(spec.files[split], bytes[split], o.checksums[split]);
        if (p) {
          problem = `${url}: ${p}`;
          break;
        }
      }
      if (problem) {
        failures.push(problem);
        continue;
      }
      for (const split of LM_SPLITS) writeFileAtomic(join(opts.targetDir, spec.files[split]), bytes[split]);
      return { kind: 'download', location: source.baseUrl, files, bytes };
    }
    opts.log?.(`downloading ${source.url}`);
    let bytes: Uint8Array;
    try {
      bytes = await fetchBytes(source.url, timeoutMs);
    } catch (err) {
      failures.push(`${source.url}: ${(err as Error).message}`);
      continue;
    }
    const got = await fromArchive(spec, bytes, source.url, source, o.checksums);
    if (typeof got === 'string') {
      failures.push(`${source.url}: ${got}`);
      continue;
    }
    writeFileAtomic(join(opts.targetDir, fileName(source.url)), bytes);
    return got;
  }
  const first = sources[0];
  throw new DatasetError(
    first.kind === 'files' ? joinUrl(first.baseUrl, spec.files.train) : first.url,
    `${spec.title}: download failed from every source:\n  ${failures.join('\n  ')}`,
  );
}
