// Configs with steps: resolution of the step overrides, their identity, and the errors.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, configToYaml, loadConfig, parseConfigText, stepHash, type TrainingStepConfig } from '../../src/config/index.js';
import { runDirFor, stepDirFor } from '../../src/results/run-dir.js';
import { minimal, problems, write } from './helpers.js';

const twoStep = `${minimal}steps:
  - name: pretrain
  - name: retrain
    init_from: pretrain
    train: { epochs: 1, optimizer: { lr: 0.0005 } }
`;

const training = (c: ReturnType<typeof loadConfig>, i: number) => c.steps![i] as TrainingStepConfig;

describe('config steps', () => {
  it('resolve each training step: the base sections, with its overrides merged in', () => {
    const c = loadConfig(write('two', twoStep));
    expect(c.steps!.map((s) => s.name)).toEqual(['pretrain', 'retrain']);
    expect(training(c, 0)).toEqual({ name: 'pretrain', model: c.model, train: c.train });
    const r = training(c, 1);
    expect(r.init_from).toEqual({ step: 'pretrain', map: {} });
    expect(r.model).toEqual(c.model);
    expect(r.train).toEqual({ ...c.train, epochs: 1, optimizer: { ...c.train.optimizer, lr: 0.0005 } });
  });

  it('an override section of another type replaces the base one, and is checked as such', () => {
    const c = loadConfig(write('sgd', twoStep.replace('optimizer: { lr: 0.0005 }', 'optimizer: { type: sgd, lr: 0.1 }')));
    expect(training(c, 1).train.optimizer).toEqual({ type: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weight_decay: 0 });
    expect(problems(twoStep.replace('optimizer: { lr: 0.0005 }', 'optimizer: { type: sgd }'))).toEqual(['steps.1.train.optimizer.lr: required (a number)']);
  });

  it('take an init_from mapping with a parameter-name map', () => {
    const c = loadConfig(write('map', twoStep.replace('init_from: pretrain', 'init_from: { step: pretrain, map: { readout.weight: readout.weight } }')));
    expect(training(c, 1).init_from).toEqual({ step: 'pretrain', map: { 'readout.weight': 'readout.weight' } });
  });

  it('print resolved, without YAML aliases, and read back to the same config', () => {
    const c = loadConfig(write('yaml', `${twoStep}  - name: eval\n`));
    const text = configToYaml(c);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parseConfigText(text)).toEqual(c);
    expect(configHash(parseConfigText(text))).toBe(configHash(c));
  });

  it('the shipped two-step config resolves', () => {
    const c = loadConfig(join('configs', 'smnist-gru-two-step.yaml'));
    expect(c.steps!.map((s) => s.name)).toEqual(['prepare', 'pretrain', 'retrain', 'eval']);
    expect(training(c, 2).train.optimizer.lr).toBe(0.0005);
    expect(training(c, 2).init_from?.step).toBe('pretrain');
  });

  it('--set reaches into a step', () => {
    const c = loadConfig(write('set', twoStep), ['steps.1.train.epochs=3', 'steps.0.train.grad_clip=0.5']);
    expect(training(c, 1).train.epochs).toBe(3);
    expect(training(c, 0).train.grad_clip).toBe(0.5);
    expect(problems(twoStep, ['steps.1.train.epochs=0'])).toEqual(['steps.1.train.epochs: must be >= 1, got 0']);
  });

  describe('identity', () => {
    const base = loadConfig(write('id', twoStep));
    const withSet = (o: string[], text = twoStep) => loadConfig(write('id2', text), o);

    it('a step without init_from has the hash of the same sections as a single-step config', () => {
      expect(stepHash(base, 'pretrain')).toBe(configHash(loadConfig(write('single', minimal))));
      expect(stepHash(loadConfig(write('single', minimal)), 'pretrain')).toBe(configHash(loadConfig(write('single', minimal))));
    });

    it('a step that starts from another changes with that step, with the map and with its own settings', () => {
      const hashes = [
        stepHash(base, 'retrain'),
        stepHash(withSet(['steps.0.train.optimizer.lr=0.002']), 'retrain'),
        stepHash(withSet(['steps.1.train.epochs=2']), 'retrain'),
        stepHash(withSet([], twoStep.replace('init_from: pretrain', 'init_from: { step: pretrain, map: { a: b } }')), 'retrain'),
        stepHash(withSet([], twoStep.replace('    init_from: pretrain\n', '')), 'retrain'),
      ];
      expect(new Set(hashes).size).toBe(hashes.length);
      // Its pretrain is unchanged by retrain's settings.
      expect(stepHash(withSet(['steps.1.train.epochs=2']), 'pretrain')).toBe(stepHash(base, 'pretrain'));
    });

    it('the run hash covers the steps, not labels or checkpoint intervals', () => {
      expect(configHash(base)).not.toBe(configHash(loadConfig(write('single', minimal))));
      expect(configHash(withSet(['steps.1.train.epochs=2']))).not.toBe(configHash(base));
      expect(configHash(withSet(['description=x', 'steps.1.train.checkpoint_every=3', 'train.checkpoint_every=2']))).toBe(configHash(base));
    });

    it('each step has a directory inside the run; a single-step config writes into the run directory', () => {
      expect(stepDirFor('/r', base, 'retrain')).toBe(join(runDirFor('/r', base), 'retrain'));
      const single = loadConfig(write('single', minimal));
      expect(stepDirFor('/r', single, 'pretrain')).toBe(runDirFor('/r', single));
    });
  });

  describe('errors name the field', () => {
    const steps = (list: string) => `${minimal}steps:\n${list}`;

    it('an unknown step name', () => {
      expect(problems(steps('  - name: pretrain\n  - name: finetune\n'))).toEqual([
        'steps.1.name: must be one of "prepare", "feature", "pretrain", "retrain", "eval", got "finetune"',
      ]);
      expect(problems(steps('  - pretrain\n'))).toEqual(['steps.0: must be a mapping, got "pretrain"']);
      expect(problems(`${minimal}steps: []\n`)).toEqual(['steps: must have >= 1 items, got a list []']);
    });

    it('init_from a later, unknown, non-training step or itself', () => {
      expect(problems(steps('  - name: pretrain\n    init_from: retrain\n  - name: retrain\n'))).toEqual([
        'steps.0.init_from: "retrain" runs after this step (steps.1); init_from names an earlier training step',
      ]);
      expect(problems(steps('  - name: pretrain\n  - name: retrain\n    init_from: pretrian\n'))).toEqual([
        'steps.1.init_from: no step "pretrian" in this config (its steps: pretrain, retrain)',
      ]);
      expect(problems(steps('  - name: prepare\n  - name: retrain\n    init_from: { step: prepare }\n'))).toEqual([
        'steps.1.init_from.step: "prepare" is not a training step; init_from names an earlier training step (pretrain, retrain)',
      ]);
      expect(problems(steps('  - name: retrain\n    init_from: retrain\n'))).toEqual([
        'steps.0.init_from: a step cannot start from itself; init_from names an earlier training step',
      ]);
      expect(problems(steps('  - name: pretrain\n  - name: retrain\n    init_from: 5\n'))).toEqual([
        'steps.1.init_from: must be a step name (e.g. pretrain) or a mapping {step, map}, got 5',
      ]);
      expect(problems(steps('  - name: pretrain\n  - name: retrain\n    init_from: { step: pretrain, mapp: {} }\n'))).toEqual([
        'steps.1.init_from.mapp: unknown key',
      ]);
      expect(problems(steps('  - name: pretrain\n  - name: retrain\n    init_from: { step: pretrain, map: { a: c, b: c } }\n'))).toEqual([
        'steps.1.init_from.map.b: maps to "c", as does "a"',
      ]);
    });

    it('a bad override field, with its path under the step', () => {
      expect(problems(twoStep.replace('epochs: 1,', 'epochs: 0,'))).toEqual(['steps.1.train.epochs: must be >= 1, got 0']);
      expect(problems(twoStep.replace('epochs: 1,', 'epoch: 1,'))).toEqual(['steps.1.train.epoch: unknown key']);
      expect(problems(twoStep.replace('    train:', '    model: { rnn: { hiden: 3 } }\n    train:'))).toEqual(['steps.1.model.rnn.hiden: unknown key']);
      expect(problems(twoStep.replace('    train:', '    model: { rnn: { type: transformer } }\n    train:'))).toEqual([
        expect.stringMatching(/^steps\.1\.model\.rnn\.type: must be one of "gru", .*, got "transformer"$/),
      ]);
      expect(problems(twoStep.replace('    train: {', '    train: { thr_lr_scale: 2,'))).toEqual([
        'steps.1.train.thr_lr_scale: needs model.rnn.type: egru (this model is a gru)',
      ]);
      expect(problems(steps('  - name: pretrain\n    train: 3\n'))).toEqual(['steps.0.train: must be a mapping, got 3']);
    });

    it('steps out of order, twice, or with fields they do not take', () => {
      expect(problems(steps('  - name: retrain\n  - name: pretrain\n'))).toEqual([
        'steps.1.name: "pretrain" must come before "retrain" (steps run in the order prepare, feature, pretrain, retrain, eval)',
      ]);
      expect(problems(steps('  - name: pretrain\n  - name: pretrain\n'))).toEqual(['steps.1.name: "pretrain" is listed twice (also steps.0); each step runs once']);
      expect(problems(steps('  - name: pretrain\n  - name: eval\n    train: { epochs: 1 }\n'))).toEqual([
        'steps.1.train: only a training step (pretrain, retrain) takes train',
      ]);
      expect(problems(steps('  - name: prepare\n  - name: eval\n'))).toEqual([
        "steps.1.name: eval tests the last training step's best checkpoint, and no training step (pretrain, retrain) comes before it",
      ]);
    });

    it('a feature step for a dataset without feature extraction', () => {
      expect(problems(steps('  - name: prepare\n  - name: feature\n  - name: pretrain\n'))).toEqual([
        'steps.1.name: the mnist dataset has no feature-extraction step (feature is for datasets that have one, such as speech)',
      ]);
    });
  });
});
