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
