// A progress bar for the long loops of GSCv2's prepare and feature steps (downloading, extracting,
// checking and writing ~120 000 WAV files; extracting every clip's features): live on a terminal
// through cli-progress, nothing elsewhere (CI and pipes get the log lines the steps write instead).
import cliProgress from 'cli-progress';
import type { ProgressStream } from '../../log/progress.js';

export interface LoopProgress {
  /** Advances by `by` (default 1) units. */
  tick(by?: number): void;
  /** Removes the bar. */
  done(): void;
}

export interface LoopProgressOptions {
  /** Also show units per second since the start (the feature step's clips/s, where ETA alone says little about speed). */
  rate?: boolean;
}

const NONE: LoopProgress = { tick: () => {}, done: () => {} };

/** A bar over `total` units labelled `label`; a no-op unless `stream` (stderr) is a terminal. */
export function loopProgress(
  label: string, total: number, unit: string, stream: ProgressStream = process.stderr, o: LoopProgressOptions = {},
): LoopProgress {
  if (stream.isTTY !== true || total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} |{bar}| {percentage}% | {value}/{total} ${unit}${o.rate ? ` | {rate} ${unit}/s` : ''} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 100,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  bar.start(total, 0, { rate: '-' });
  let value = 0;
  return {
    tick: (by = 1) => {
      value += by;
      const secs = (performance.now() - t0) / 1000;
      bar.update(Math.min(value, total), { rate: secs > 0 ? (value / secs).toFixed(0) : '-' });
    },
    done: () => bar.stop(),
  };
}
