// How a failed command is reported: config problems one per line (exit 2); anything with a numeric
// exitCode uses it (3: training stopped on a non-finite loss); everything else exits 1 with a
// one-line message (the stack only with EVNN_DEBUG=1).
import { CommanderError } from 'commander';
import { ConfigError, formatIssue } from '../config/index.js';

export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof CommanderError) {
    // Usage errors, --help and --version: commander has already printed what it had to say.
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    stderr.write(`evnn: invalid config ${err.file}\n`);
    for (const i of err.issues) stderr.write(`${formatIssue(i)}\n`);
    return 2;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  stderr.write(`evnn: ${e.message}\n`);
  if (process.env.EVNN_DEBUG === '1' && e.stack) stderr.write(`${e.stack}\n`);
  const code = (e as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 ? code : 1;
}
