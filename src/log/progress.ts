// Progress of a training epoch: a live bar on a terminal; without one (CI, pipes) exactly one
// line per epoch; nothing when quiet.
import cliProgress from 'cli-progress';

/** Where progress goes: process.stderr, or anything writable that says whether it is a terminal. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface BatchStats {
  loss: number;
  accuracy: number;
  samplesPerSec: number;
  /** Mean event rate of a sparse model (shown when present). */
  activity?: number;
}

export class EpochProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly interactive: boolean;

  constructor(private readonly o: { quiet: boolean; epochs: number; stream?: ProgressStream }) {
    const stream = o.stream ?? process.stderr;
    this.interactive = !o.quiet && stream.isTTY === true;
  }

  start(epoch: number, totalBatches: number): void {
    if (!this.interactive) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.o.stream ?? process.stderr,
        format: `epoch {ep}/${this.o.epochs} |{bar}| {value}/{total} batches | loss {loss} | acc {acc}%{act} | {sps} samples/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalBatches, 0, { ep: epoch + 1, loss: '-', acc: '-', sps: '-', act: '' });
  }

  update(batch: number, s: BatchStats): void {
    this.bar?.update(batch, {
      loss: s.loss.toFixed(4), acc: (100 * s.accuracy).toFixed(2), sps: s.samplesPerSec.toFixed(0),
      act: s.activity === undefined ? '' : ` | activity ${(100 * s.activity).toFixed(1)}%`,
    });
  }

  /** Removes the bar without a summary line (the run stopped mid-epoch). */
  abort(): void {
    this.bar?.stop();
    this.bar = null;
  }

  /** Ends the epoch's bar and prints its summary line (unless quiet). */
  stop(line: string): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    if (!this.o.quiet) (this.o.stream ?? process.stderr).write(`${line}\n`);
  }
}
