// How a failed command is reported: config problems one per line (exit 2); anything with an
// exitCode uses it; everything else exits 1 with a one-line message (stack with EVNN_DEBUG=1).
import { ConfigError } from '../config/index.js';

export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`evnn: invalid config ${err.file}\n`);
    for (const i of err.issues) process.stderr.write(`${i.path || '(root)'}: ${i.message}\n`);
    return 2;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`evnn: ${e.message}\n`);
  if (process.env.EVNN_DEBUG === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
  const code = (e as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' ? code : 1;
}
