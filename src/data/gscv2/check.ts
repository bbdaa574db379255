// Opening every listed WAV once while preparing, so that a clip in the wrong format or a
// truncated file fails `prepare` (naming the file) instead of the feature step hours later.
import { readWavPcm16 } from './wav.js';
import { loopProgress } from './progress.js';

export interface WavSummary {
  files: number;
  /** Clips shorter than one second (the real dataset has some; the feature step keeps their length). */
  short: number;
}

export async function checkWavs(files: readonly string[], label: string): Promise<WavSummary> {
  const bar = loopProgress(label, files.length, 'files');
  let short = 0;
  try {
    for (const [k, file] of files.entries()) {
      if (readWavPcm16(file).samples.length < 16000) short++;
      bar.tick();
      // Let the bar redraw and signals through during a loop over ~100 000 files.
      if (k % 512 === 511) await new Promise<void>((ok) => setImmediate(ok));
    }
  } finally {
    bar.done();
  }
  return { files: files.length, short };
}
