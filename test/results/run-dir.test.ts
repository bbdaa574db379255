// Run directories: results/<config name>/seed<seed>-<config hash>/, a function of the config.
import { describe, expect, it } from 'vitest';
import { configHash, validateConfig, type Config } from '../../src/config/index.js';
import { runDirFor, runIdFor } from '../../src/results/run-dir.js';

const config = (extra: Record<string, unknown> = {}): Config =>
  validateConfig({
    name: 'x', seed: 4, data: { dataset: 'mnist', view: 'smnist' }, model: { rnn: { type: 'gru', hidden_size: 8 } },
    train: { epochs: 1, batch_size: 2, optimizer: { type: 'sgd', lr: 0.1 } }, ...extra,
  }, 'inline');

describe('run directories', () => {
  it('are named after the config name, seed and hash', () => {
    const cfg = config();
    expect(runIdFor(cfg)).toBe(`seed4-${configHash(cfg)}`);
    expect(runDirFor('/r', cfg)).toBe(`/r/x/seed4-${configHash(cfg)}`);
  });

  it('are the same for the same config, so a re-run finds (and resumes) its run', () => {
    expect(runDirFor('/r', config({ description: 'again' }))).toBe(runDirFor('/r', config()));
  });

  it('differ with the seed and with the settings', () => {
    const dirs = [config(), config({ seed: 5 }), config({ threads: 1 }), config({ name: 'y' })].map((c) => runDirFor('/r', c));
    expect(new Set(dirs).size).toBe(dirs.length);
  });
});
