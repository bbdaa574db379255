// Progress of the GSCv2 feature step: a live bar per split on a terminal; without one (CI,
// pipes, tests) nothing until the split's one summary line, which always goes through `log`.
import cliProgress from 'cli-progress';
import type { ProgressStream } from '../../log/progress.js';

export class SplitProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly stream: ProgressStream;

  constructor(private readonly log: (m: string) => void, stream?: ProgressStream) {
    this.stream = stream ?? process.stderr;
  }

  start(split: string, clips: number): void {
    if (this.stream.isTTY !== true || clips === 0) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `features ${split} |{bar}| {value}/{total} clips | {rate} clips/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(clips, 0, { rate: '-' });
  }

  update(done: number, clipsPerSec: number): void {
    this.bar?.update(done, { rate: clipsPerSec.toFixed(0) });
  }

  /** Removes the bar (also when the split failed) and, given one, logs the summary line. */
  stop(line?: string): void {
    this.bar?.stop();
    this.bar = null;
    if (line !== undefined) this.log(line);
  }
}
