// Helpers for running the built CLI (dist/, built by `npm ci` and by `npm test`'s pretest).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'bin', 'evnn.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function evnn(args: string[], cwd = root): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function evnnBackground(args: string[]) {
  return spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CI: '1' }, stdio: 'ignore' });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `evnn-${prefix}-`));
}

/** Writes a small sMNIST-rows GRU config; `extra` lines are appended under the right sections. */
export function writeConfig(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

export const tinyConfig = (o: { trainLimit?: number; epochs?: number; hidden?: number; optimizer?: string } = {}) => `
seed: 3
threads: 2
data:
  dataset: mnist
  view: smnist-rows
  limit: { train: ${o.trainLimit ?? 2000}, valid: 200, test: 200 }
model:
  rnn: { type: gru, hidden_size: ${o.hidden ?? 16} }
train:
  epochs: ${o.epochs ?? 2}
  batch_size: 50
  eval_batch_size: 100
  optimizer: ${o.optimizer ?? '{ type: adam, lr: 0.01 }'}
  grad_clip: 1.0
`;

/**
 * Starts the CLI in the background (as evnnBackground) and SIGKILLs it as soon as `ready()` holds,
 * polled every few milliseconds; fails if the command exits first or `ready()` never holds.
 */
export async function evnnKilledWhen(args: string[], ready: () => boolean, timeoutMs = 120_000): Promise<void> {
  const child = evnnBackground(args);
  let exited = false;
  const exit = new Promise<void>((res) => child.on('exit', () => { exited = true; res(); }));
  const started = Date.now();
  try {
    for (;;) {
      if (ready()) break;
      if (exited) throw new Error(`evnn ${args.join(' ')} exited before it could be killed (too fast for the test?)`);
      if (Date.now() - started > timeoutMs) throw new Error(`evnn ${args.join(' ')}: what the test waits for did not happen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    if (!exited) child.kill('SIGKILL');
    await exit;
  }
}
