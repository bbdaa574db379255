// `--set key=value` overrides: applied before validation, checked like fields of the file.
import { describe, expect, it } from 'vitest';
import { loadConfig, parseOverride } from '../../src/config/index.js';
import { minimal as good, problems, write } from './helpers.js';

describe('--set overrides', () => {
  it('reads values as YAML, so numbers, strings and lists keep their type', () => {
    const c = loadConfig(write('o', good), ['train.epochs=5', 'data.view=psmnist', 'train.optimizer.betas=[0.8, 0.9]', 'seed=7', 'description=a run']);
    expect(c.train.epochs).toBe(5);
    expect(c.data.view).toBe('psmnist');
    expect(c.train.optimizer.type === 'adam' && c.train.optimizer.betas).toEqual([0.8, 0.9]);
    expect(c.seed).toBe(7);
    expect(c.description).toBe('a run');
    expect(c.name).toBe('o');
  });

  it('later overrides win and can fix a field the file got wrong', () => {
    const c = loadConfig(write('fix', good.replace('batch_size: 64', 'batch_size: 0')), ['train.batch_size=8', 'train.batch_size=16']);
    expect(c.train.batch_size).toBe(16);
  });

  it('switching the optimizer type checks the options against the new type', () => {
    expect(loadConfig(write('sgd', good), ['train.optimizer.type=sgd']).train.optimizer).toEqual({
      type: 'sgd', lr: 0.001, momentum: 0, dampening: 0, nesterov: false, weight_decay: 0,
    });
    expect(problems(good.replace('lr: 0.001', 'lr: 0.001, betas: [0.9, 0.99]'), ['train.optimizer.type=sgd'])).toEqual(['train.optimizer.betas: unknown key']);
  });

  it('creates sections the file left out', () => {
    const c = loadConfig(write('paper', good), ['paper.metric=test_accuracy', 'paper.value=0.98', 'train.schedule.type=step', 'train.schedule.step_size=2', 'train.schedule.gamma=0.5']);
    expect(c.paper).toEqual({ metric: 'test_accuracy', value: 0.98 });
    expect(c.train.schedule).toEqual({ type: 'step', step_size: 2, gamma: 0.5 });
  });

  it('addresses list items by index, and may add the next one', () => {
    const withGroups = good + '  param_groups: [{ match: "^a" }, { match: "^b" }]\n';
    const c = loadConfig(write('pg', withGroups), ['train.param_groups.1.lr_scale=2', 'train.param_groups.2.match=^c']);
    expect(c.train.param_groups).toEqual([{ match: '^a', lr_scale: 1 }, { match: '^b', lr_scale: 2 }, { match: '^c', lr_scale: 1 }]);
    expect(loadConfig(write('pg0', good), ['train.param_groups.0.match=^rnn']).train.param_groups).toEqual([{ match: '^rnn', lr_scale: 1 }]);
    expect(problems(good, ['train.param_groups.0.lr_scale=2'])).toEqual(['train.param_groups.0.match: required (a string)']);
    expect(problems(good, ['train.param_groups.1.match=x'])).toEqual(['train.param_groups.1: the list is empty; --set can add its first item at index 0']);
    expect(problems(withGroups, ['train.param_groups.5.match=x'])).toEqual(['train.param_groups.5: the list has 2 items (0..1); --set can change one of them or add one at index 2']);
    expect(problems(withGroups, ['train.param_groups.match=x'])).toEqual(['train.param_groups.match: unknown key (a list is indexed by 0, 1, ...)']);
  });

  it('reports a path that is not in the schema as an unknown key', () => {
    expect(problems(good, ['train.epoch=5'])).toEqual(['train.epoch: unknown key']);
    expect(problems(good, ['foo.bar=1'])).toEqual(['foo: unknown key']);
    expect(problems(good, ['seed.x=1'])).toEqual(['seed.x: unknown key']);
    expect(problems(good, ['train.epochs.x=1'])).toEqual(['train.epochs.x: unknown key']);
  });

  it('reports a value of the wrong type like the same field in the file', () => {
    expect(problems(good, ['train.epochs=many'])).toEqual(['train.epochs: must be an integer, got "many"']);
    expect(problems(good, ['train.epochs='])).toEqual(['train.epochs: must be an integer, got null']);
    expect(problems(good, ['train.epochs=0'])).toEqual(['train.epochs: must be >= 1, got 0']);
  });

  it('rejects malformed overrides, all of them at once', () => {
    expect(problems(good, ['epochs', '=3', 'a..b=1', 'train.epochs=[1'])).toEqual([
      'epochs: --set expects key=value with a dotted key, e.g. train.epochs=3',
      '=3: --set expects key=value with a dotted key, e.g. train.epochs=3',
      'a..b=1: --set expects key=value with a dotted key, e.g. train.epochs=3',
      expect.stringMatching(/^train\.epochs: --set value is not valid YAML: /),
    ]);
  });

  it('parseOverride splits the path and parses the value', () => {
    expect(parseOverride('train.param_groups.0.lr_scale=0.5')).toEqual({ path: ['train', 'param_groups', '0', 'lr_scale'], value: 0.5 });
    expect(parseOverride('data.source=/data/mnist')).toEqual({ path: ['data', 'source'], value: '/data/mnist' });
    expect(parseOverride('train.optimizer.nesterov=true')).toEqual({ path: ['train', 'optimizer', 'nesterov'], value: true });
  });
});
