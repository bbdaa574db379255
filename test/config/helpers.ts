// Writing small config files and collecting the problems a user would see.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatIssue, loadConfig } from '../../src/config/index.js';

export const dir = mkdtempSync(join(tmpdir(), 'evnn-cfg-'));

/** The smallest valid config: every required field and nothing else. */
export const minimal = `
data: { dataset: mnist, view: smnist-rows }
model: { rnn: { type: gru, hidden_size: 32 } }
train:
  epochs: 2
  batch_size: 64
  optimizer: { type: adam, lr: 0.001 }
`;

export function write(name: string, text: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, text);
  return f;
}

/** The `path: message` lines loadConfig reports for `text` (fails the test if it is accepted). */
export function problems(text: string, overrides: string[] = [], name = 'c'): string[] {
  try {
    loadConfig(write(name, text), overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  throw new Error('config was accepted');
}
