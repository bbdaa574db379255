// An event dataset's official archive (N-MNIST's Train.zip/Test.zip, SHD's shd_*.h5.zip) is
// fetched with the shared verified download (download-file.ts), checked against the MD5 that
// tonic pins for it; its SHA-256 is computed on the way, for meta.json. These downloads are not
// resumed: a cut-off one is removed and the next attempt starts afresh, as before.
import { digestsOfFile, downloadFile } from '../download-file.js';

export interface CheckedDownload {
  url: string;
  target: string;
  md5: string;
  log: (m: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
}

export interface Hashes {
  md5: string;
  sha256: string;
}

const ALGORITHMS = ['md5', 'sha256'] as const;

/** MD5 and SHA-256 (hex) of a file, read as a stream. */
export async function hashFile(file: string): Promise<Hashes> {
  return digestsOfFile(file, ALGORITHMS);
}

/** Downloads `o.url` to `o.target` (or reuses a verified file there); returns its hashes. */
export async function downloadChecked(o: CheckedDownload): Promise<Hashes> {
  const { md5, ...rest } = o;
  const got = await downloadFile({ ...rest, expected: { algorithm: 'md5', hex: md5 }, alsoDigest: ['sha256'] });
  return got.digests;
}
