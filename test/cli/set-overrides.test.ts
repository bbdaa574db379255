// `--set key=value` on the command line reaches the resolved config, the run's identity (its
// directory) and the run itself. (Rejected overrides: cli.test.ts and test/config/overrides.test.ts.)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { evnn, tempDir, tinyConfig, writeConfig } from './helpers.js';

const dir = tempDir('set-ok');
const results = join(dir, 'results');
const cfg = writeConfig(dir, 'tiny', tinyConfig()); // seed 3, train.epochs 2, model.rnn.hidden_size 16

/** `evnn config` with the overrides: the run directory it names and the resolved config. */
function resolved(...sets: string[]) {
  const r = evnn(['config', cfg, '--results-dir', results, ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const m = /^# run directory: (.+)$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return { runDir: m![1].trim(), config: parse(r.stdout) };
}

/** Tensor shapes from a safetensors header (8-byte little-endian length, then JSON). */
function safetensorShapes(file: string): Record<string, number[]> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
  return Object.fromEntries(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, v.shape]));
}

describe('--set changes the resolved config and the run identity', () => {
  const base = resolved();

  it('a top-level and a nested field take the given values; nothing else changes', () => {
    const o = resolved('train.epochs=5', 'model.rnn.hidden_size=24');
    expect(base.config.train.epochs).toBe(2);
    expect(base.config.model.rnn.hidden_size).toBe(16);
    expect(o.config.train.epochs).toBe(5);
    expect(o.config.model.rnn.hidden_size).toBe(24);
    expect({ ...o.config, train: { ...o.config.train, epochs: 2 }, model: { ...o.config.model, rnn: { ...o.config.model.rnn, hidden_size: 16 } } }).toEqual(base.config);
  });

  it('each changed field gives a new run directory; an override equal to the file value does not', () => {
    const dirs = [
      base.runDir,
      resolved('train.epochs=5').runDir,
      resolved('model.rnn.hidden_size=24').runDir,
      resolved('train.epochs=5', 'model.rnn.hidden_size=24').runDir,
      resolved('train.optimizer.lr=0.02').runDir,
    ];
    expect(new Set(dirs).size).toBe(dirs.length);
    for (const d of dirs) expect(d).toMatch(new RegExp(`^${results.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tiny/seed3-[0-9a-f]{8}$`));
    expect(resolved('train.epochs=2', 'model.rnn.hidden_size=16').runDir).toBe(base.runDir);
    // the seed names the directory; labels (name) move it without changing the hash
    expect(resolved('seed=7').runDir).toMatch(/\/tiny\/seed7-[0-9a-f]{8}$/);
    const renamed = resolved('name=other').runDir;
    expect(renamed).toBe(base.runDir.replace('/tiny/', '/other/'));
  });
});

describe('evnn run with --set', () => {
  const dataDir = join(dir, 'data');
  beforeAll(() => {
    expect(evnn(['prepare', 'mnist', '--data-dir', dataDir]).code).toBe(0);
  });

  it('trains the overridden model for the overridden epochs, in the directory `config` names', () => {
    const sets = ['train.epochs=1', 'model.rnn.hidden_size=8'];
    const want = resolved(...sets).runDir;
    const r = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', results, '--quiet', ...sets.flatMap((s) => ['--set', s])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(join(results, 'tiny')).map((d) => join(results, 'tiny', d))).toEqual([want]);
    const summary = JSON.parse(readFileSync(join(want, 'summary.json'), 'utf8'));
    expect(summary.epochs_run).toBe(1);
    const written = parse(readFileSync(join(want, 'config.yaml'), 'utf8'));
    expect(written.train.epochs).toBe(1);
    expect(written.model.rnn.hidden_size).toBe(8);
    // PyTorch nn.GRU layout: weight_hh_l0 is [3H, H]
    const shapes = safetensorShapes(join(want, 'best.safetensors'));
    expect(shapes['rnn.weight_hh_l0']).toEqual([24, 8]);
    expect(shapes['readout.weight']).toEqual([10, 8]);
  });
});
