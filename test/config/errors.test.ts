// Config rejection with the exact messages a user sees: one `path: message` line per problem.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { dir, minimal as good, problems, write } from './helpers.js';

describe('config errors', () => {
  it('reports missing required fields with what they expect', () => {
    expect(problems(good.replace('  epochs: 2\n', ''))).toEqual(['train.epochs: required (an integer)']);
    expect(problems(good.replace('data: { dataset: mnist, view: smnist-rows }\n', ''))).toEqual(['data: required (a mapping)']);
    expect(problems(good.replace(', view: smnist-rows', ''))).toEqual(['data.view: required (one of "smnist", "smnist-rows", "psmnist")']);
    expect(problems(good.replace('type: adam, ', ''))).toEqual(['train.optimizer.type: required (one of "adam", "adamw", "sgd")']);
    expect(problems(good.replace(', lr: 0.001', ''))).toEqual(['train.optimizer.lr: required (a number)']);
    expect(problems(good + '  schedule: { type: step, gamma: 0.5 }\n')).toEqual(['train.schedule.step_size: required (an integer)']);
  });

  it('an empty file lists every missing section', () => {
    expect(problems('')).toEqual(['data: required (a mapping)', 'model: required (a mapping)', 'train: required (a mapping)']);
  });

  it('reports a wrong type with the value found', () => {
    expect(problems(good.replace('batch_size: 64', 'batch_size: "64"'))).toEqual(['train.batch_size: must be an integer, got "64"']);
    expect(problems(good.replace('epochs: 2', 'epochs: 2.5'))).toEqual(['train.epochs: must be an integer, got 2.5']);
    expect(problems(good.replace('lr: 0.001', 'lr: fast'))).toEqual(['train.optimizer.lr: must be a number, got "fast"']);
    expect(problems(good.replace('model: { rnn: { type: gru, hidden_size: 32 } }', 'model: gru'))).toEqual(['model: must be a mapping, got "gru"']);
    expect(problems(good.replace('model: { rnn: { type: gru, hidden_size: 32 } }', 'model:'))).toEqual(['model: must be a mapping, got null']);
    expect(problems(good.replace('{ type: adam, lr: 0.001 }', '{ type: sgd, lr: 0.1, nesterov: yes }'))).toEqual(['train.optimizer.nesterov: must be true or false, got "yes"']);
    expect(problems(good + '  param_groups: { match: "^rnn" }\n')).toEqual(['train.param_groups: must be a list, got a mapping']);
  });

  it('reports each unknown key with its own path, also in nested objects and list items', () => {
    const text = good.replace('hidden_size: 32', 'hidden_size: 32, hiden: 3').replace('train:\n', 'train:\n  param_groups: [{ match: "^rnn", lr_scal: 2 }]\n') + 'extra: 1\n';
    expect(problems(text)).toEqual(['model.rnn.hiden: unknown key', 'train.param_groups.0.lr_scal: unknown key', 'extra: unknown key']);
    expect(problems(good.replace('view: smnist-rows', 'view: smnist-rows, viewe: 1, sorce: x'))).toEqual(['data.viewe: unknown key', 'data.sorce: unknown key']);
  });

  it('a misspelt required key shows up as unknown and as missing', () => {
    expect(problems(good.replace('hidden_size: 32', 'hiden_size: 32'))).toEqual(['model.rnn.hidden_size: required (an integer)', 'model.rnn.hiden_size: unknown key']);
  });

  it('rejects options of another optimizer type as unknown keys', () => {
    expect(problems(good.replace('lr: 0.001', 'lr: 0.001, momentum: 0.9'))).toEqual(['train.optimizer.momentum: unknown key']);
    expect(problems(good.replace('{ type: adam, lr: 0.001 }', '{ type: sgd, lr: 0.1, betas: [0.9, 0.99] }'))).toEqual(['train.optimizer.betas: unknown key']);
  });

  it('reports out-of-range values', () => {
    expect(problems(good.replace('batch_size: 64', 'batch_size: 0'))).toEqual(['train.batch_size: must be >= 1, got 0']);
    expect(problems(good.replace('lr: 0.001', 'lr: 0'))).toEqual(['train.optimizer.lr: must be > 0, got 0']);
    expect(problems(good.replace('lr: 0.001', 'lr: 0.001, betas: [1, 0.9]'))).toEqual(['train.optimizer.betas.0: must be < 1, got 1']);
    expect(problems(good.replace('lr: 0.001', 'lr: 0.001, betas: [0.9, 0.9, 0.9]'))).toEqual(['train.optimizer.betas: must have <= 2 items, got a list [0.9, 0.9, 0.9]']);
    expect(problems(good.replace('view: smnist-rows', 'view: smnist-rows, valid_fraction: 0.9'))).toEqual(['data.valid_fraction: must be <= 0.5, got 0.9']);
    expect(problems(good.replace('view: smnist-rows', 'view: smnist-rows, limit: { train: 0 }'))).toEqual(['data.limit.train: must be >= 1, got 0']);
    expect(problems(good.replace('view: smnist-rows', 'view: smnist-rows, source: ""'))).toEqual(['data.source: must not be empty']);
    expect(problems(good + '  schedule: { type: step, step_size: 1, gamma: 0 }\n')).toEqual(['train.schedule.gamma: must be > 0, got 0']);
    expect(problems(good + '  grad_clip: -1\n')).toEqual(['train.grad_clip: must be >= 0, got -1']);
    expect(problems(good.replace('epochs: 2', 'epochs: 1e30'))).toEqual(['train.epochs: must be an integer below 2^53, got 1e+30']);
    expect(problems(good.replace('lr: 0.001', 'lr: .nan'))).toEqual(['train.optimizer.lr: must be a number, got NaN']);
  });

  it('reports a bad choice with the allowed values', () => {
    expect(problems(good.replace('view: smnist-rows', 'view: rows'))).toEqual(['data.view: must be one of "smnist", "smnist-rows", "psmnist", got "rows"']);
    expect(problems(good.replace('type: adam', 'type: adagrad'))).toEqual(['train.optimizer.type: must be one of "adam", "adamw", "sgd", got "adagrad"']);
    expect(problems(good.replace('type: gru', 'type: lstm2'))).toEqual(['model.rnn.type: must be one of "gru", "lstm", "egru", "deltagru", "deltalstm", got "lstm2"']);
    expect(problems(`device: gpu\n${good}`)).toEqual(['device: must be one of "auto", "cpu", "cuda", got "gpu"']);
  });

  it('rejects a parameter-group pattern that is not a regular expression', () => {
    expect(problems(good.replace('train:\n', 'train:\n  param_groups: [{ match: "^rnn" }, { match: "(" }]\n'))).toEqual(['train.param_groups.1.match: not a valid regular expression']);
  });

  it('rejects a paper accuracy written as a percentage', () => {
    expect(problems(`${good}paper: { metric: test_accuracy, value: 98.3 }\n`)).toEqual([
      'paper.value: must be a fraction in [0, 1] for test_accuracy (0.983 for 98.3%), got 98.3',
    ]);
  });

  it('explains a name that came from an unusable file name', () => {
    expect(problems(good, [], 'my run')).toEqual([
      'name: must contain only letters, digits, ".", "_" and "-", got "my run" (the name defaults to the file name; set `name:` in the config)',
    ]);
    expect(problems(`name: "a/b"\n${good}`)).toEqual(['name: must contain only letters, digits, ".", "_" and "-", got "a/b"']);
  });

  it('reports every problem of a file at once', () => {
    const text = good.replace('batch_size: 64', 'batch_size: 0').replace('view: smnist-rows', 'view: rows').replace('hidden_size: 32', 'hidden_size: 32, x: 1');
    expect(problems(text)).toEqual(['data.view: must be one of "smnist", "smnist-rows", "psmnist", got "rows"', 'model.rnn.x: unknown key', 'train.batch_size: must be >= 1, got 0']);
  });

  it('reports YAML syntax errors with their line and column', () => {
    const f = write('syntax', 'data: { dataset: mnist\nmodel: [');
    let err: unknown;
    try {
      loadConfig(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.file).toBe(f);
    expect(e.issues[0]).toEqual({
      path: '', line: 2, message: 'YAML syntax error at line 2, column 1: Flow map in block collection must be sufficiently indented and end with a }',
    });
    expect(problems(`${good}seed: 1\nseed: 2\n`)).toEqual(['YAML syntax error at line 9, column 1: Map keys must be unique']);
  });

  it('rejects a file that is not a mapping, or not readable', () => {
    expect(problems('- data\n- model\n')).toEqual(['the config must be a YAML mapping of sections (data, model, train, ...)']);
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow('cannot read the config: no such file');
    expect(() => loadConfig(dir)).toThrow('cannot read the config: is a directory, not a config file');
  });

  it('a ConfigError carries exit code 2 and names the file', () => {
    const f = write('exit', good.replace('epochs: 2', 'epochs: 0'));
    expect(() => loadConfig(f)).toThrow(expect.objectContaining({ exitCode: 2, file: f, message: `${f}: invalid config\ntrain.epochs: must be >= 1, got 0` }));
  });

  it('checks the EGRU options and refuses EGRU-only fields on a GRU, naming the field', () => {
    const egru = good.replace('{ type: gru, hidden_size: 32 }', '{ type: egru, hidden_size: 32 }');
    expect(problems(egru.replace('hidden_size: 32', 'hidden_size: 32, thr_mean: 1'))).toEqual(['model.rnn.thr_mean: must be < 1, got 1']);
    expect(problems(egru.replace('hidden_size: 32', 'hidden_size: 32, zoneout: -0.1'))).toEqual(['model.rnn.zoneout: must be >= 0, got -0.1']);
    expect(problems(egru.replace('hidden_size: 32', 'hidden_size: 32, dropconect: 0.1'))).toEqual(['model.rnn.dropconect: unknown key']);
    expect(problems(good.replace('model: { rnn: { type: gru, hidden_size: 32 } }', 'model: { rnn: { type: gru, hidden_size: 32 }, use_output_trace: true }'))).toEqual([
      'model.use_output_trace: needs rnn.type: egru (a gru has no output trace)',
    ]);
    expect(problems(`${good}  thr_lr_scale: 2\n  activity_regularization: { constant: 1 }\n`)).toEqual([
      'train.activity_regularization: needs model.rnn.type: egru (this model is a gru)',
      'train.thr_lr_scale: needs model.rnn.type: egru (this model is a gru)',
    ]);
    const ok = loadConfig(write('egru-ok', `${egru}  thr_lr_scale: 2\n  activity_regularization: { constant: 1 }\n`));
    expect(ok.train.activity_regularization).toEqual({ constant: 1, target: 0.05 });
    expect(ok.model.rnn).toEqual({
      type: 'egru', hidden_size: 32, num_layers: 1, thr_mean: 0.3, dampening_factor: 0.7, pseudo_derivative_support: 1,
      zoneout: 0, dropconnect: 0, grad_clip: 0, weight_init_gain: 1,
    });
  });
});
