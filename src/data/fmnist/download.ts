// Fashion-MNIST's .gz files are fetched with the shared verified download (download-file.ts),
// checked against the MD5s its README publishes and resumed with a range request when a
// previous attempt was cut off. They are small (≤ 26 MiB), so progress is a log line per 8 MiB
// rather than a bar.
import { downloadFile, type Digest, type DownloadProgress } from '../download-file.js';

export interface StreamDownloadOptions {
  url: string;
  /** Where the verified file ends up. */
  target: string;
  expected: Digest;
  log: (msg: string) => void;
  /** Give up when no data arrives for this long (default 2 minutes). */
  idleTimeoutMs?: number;
}

const STEP = 8 << 20;

function every8MiB(log: (msg: string) => void): DownloadProgress {
  return (name, have) => {
    let shown = Math.floor(have / STEP);
    return {
      update: (written) => {
        const step = Math.floor(written / STEP);
        if (step <= shown) return;
        shown = step;
        log(`  ${name}: ${(written / (1 << 20)).toFixed(0)} MiB`);
      },
      done: () => {},
    };
  };
}

/**
 * Downloads `o.url` to `o.target` unless a verified copy is there already; returns whether it
 * downloaded. Failures are DatasetErrors whose message starts with the file's name.
 */
export async function downloadVerifiedFile(o: StreamDownloadOptions): Promise<boolean> {
  const got = await downloadFile({ ...o, resume: true, progress: every8MiB(o.log) });
  return got.downloaded;
}
