// A progress bar for the long loops of preparing GSCv2 (downloading, extracting, checking and
// writing ~120 000 WAV files): live on a terminal through cli-progress, nothing elsewhere (CI and
// pipes get the log lines the steps write instead).
import cliProgress from 'cli-progress';
import type { ProgressStream } from '../../log/progress.js';

export interface LoopProgress {
  /** Advances by `by` (default 1) units. */
  tick(by?: number): void;
  /** Removes the bar. */
  done(): void;
}

const NONE: LoopProgress = { tick: () => {}, done: () => {} };

/** A bar over `total` units labelled `label`; a no-op unless `stream` (stderr) is a terminal. */
export function loopProgress(label: string, total: number, unit: string, stream: ProgressStream = process.stderr): LoopProgress {
  if (stream.isTTY !== true || total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} |{bar}| {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 100,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    tick: (by = 1) => {
      value += by;
      bar.update(Math.min(value, total));
    },
    done: () => bar.stop(),
  };
}
