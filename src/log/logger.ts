// The run log: every event as a JSON line in <runDir>/log.jsonl (pino, written synchronously so a
// killed run keeps what it logged), and its message on stderr for a person unless quiet.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type RunLogger = Logger;

/** Events kept out of the human stream: epoch lines come from the progress display, the test
 * result from the command's final report, dataset reuse notes from the prepare step. */
const FILE_ONLY = new Set(['epoch', 'test', 'prepare']);

function humanStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const rec = JSON.parse(line) as { msg?: string; event?: string; level?: number };
        if (rec.msg && !FILE_ONLY.has(rec.event ?? '')) process.stderr.write(`${(rec.level ?? 30) >= 50 ? 'error: ' : ''}${rec.msg}\n`);
      }
      done();
    },
  });
}

export function createRunLogger(runDir: string, opts: { quiet: boolean }): RunLogger {
  const streams: pino.StreamEntry[] = [{ stream: pino.destination({ dest: join(runDir, 'log.jsonl'), sync: true, mkdir: true }) }];
  if (!opts.quiet) streams.push({ stream: humanStream() });
  return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}
