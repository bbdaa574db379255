// GSCv2's two archives (the main one is 2.4 GB) are fetched with the shared verified download
// (download-file.ts): streamed to disk, checked against the pinned SHA-256 and resumed with a
// range request after an interruption, with a progress bar on a terminal.
import { digestsOfFile, downloadFile, type DownloadProgress } from '../download-file.js';
import { loopProgress } from './progress.js';

export interface DownloadOptions {
  url: string;
  /** Where the verified file ends up. */
  target: string;
  /** Expected SHA-256 (hex) of the whole file. */
  sha256: string;
  log: (msg: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
  /** The file's size, when known, for the progress bar before the server sends a length. */
  sizeHint?: number;
}

const MIB = 1 << 20;

/** SHA-256 (hex) of a file, read as a stream. */
export async function sha256OfFile(file: string, onBytes?: (n: number) => void): Promise<string> {
  return (await digestsOfFile(file, ['sha256'], onBytes)).sha256;
}

/** A bar in whole MiB (the archives are hundreds of them). */
const mibBar: DownloadProgress = (name, have, total) => {
  const bar = loopProgress(`downloading ${name}`, Math.ceil(total / MIB), 'MiB');
  let shown = Math.floor(have / MIB);
  bar.tick(shown);
  return {
    update: (written) => {
      const mib = Math.floor(written / MIB);
      if (mib <= shown) return;
      bar.tick(mib - shown);
      shown = mib;
    },
    done: () => bar.done(),
  };
};

/**
 * Downloads `o.url` to `o.target`, verified. Failures are DatasetErrors naming the URL; a checksum
 * mismatch names the file and both hashes and removes the download.
 */
export async function downloadVerified(o: DownloadOptions): Promise<void> {
  const { sha256, ...rest } = o;
  await downloadFile({ ...rest, expected: { algorithm: 'sha256', hex: sha256 }, resume: true, progress: mibBar });
}
