// The spiking classifier's config: model.snn instead of model.rnn, the regulariser, the shipped
// S3GD configs, and the errors that name the field.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildModel } from '../../src/pipeline/model-from-config.js';
import { SpikingClassifier } from '../../src/models/spiking-classifier.js';
import { problems } from './helpers.js';

const base = (model: string, extra = '') => `
data: {dataset: fmnist, source: fashion-mnist, valid_fraction: 0}
model:
${model}
train:
  epochs: 1
  batch_size: 8
  optimizer: {type: adam, lr: 0.001}
${extra}`;

describe('spiking-classifier configs', () => {
  it('loads the shipped Fashion-MNIST configs with the reference settings', () => {
    for (const name of ['fmnist-s3gd', 'fmnist-bptt', 'fmnist-s3gd-quick']) {
      const cfg = loadConfig(join('configs', `${name}.yaml`));
      expect(cfg.model.type).toBe('spiking-classifier');
      expect(cfg.model.snn?.hidden_sizes).toEqual([200, 200]);
      expect(cfg.model.snn?.backward).toBe(name === 'fmnist-bptt' ? 'dense' : 's3gd');
      expect(cfg.train.spike_regularization).toEqual({ lambda_up: 0.06, f_up: 1, p_up: 1, lambda_low: 100, f_low: 0.001 });
    }
    const full = loadConfig(join('configs', 'fmnist-s3gd.yaml'));
    expect(full.train.optimizer).toMatchObject({ type: 'adam', lr: 2e-4, betas: [0.9, 0.999] });
    expect(full.train.batch_size).toBe(256);
    expect(full.paper?.value).toBe(0.827);
  });

  it('builds the network with β from the dataset time step and the time constants', () => {
    const cfg = loadConfig(join('configs', 'fmnist-s3gd.yaml'));
    const model = buildModel(cfg, { inputSize: 784, numClasses: 10, dtMs: 1 }) as SpikingClassifier;
    expect(model).toBeInstanceOf(SpikingClassifier);
    expect(model.parameters().map((p) => [p.name, p.shape])).toEqual([['w1', [784, 200]], ['w2', [200, 200]], ['w3', [200, 10]]]);
    expect(() => buildModel(cfg, { inputSize: 784, numClasses: 10 })).toThrow(/spike-event dataset/);
  });

  it('names the field when snn and rnn are mixed up', () => {
    expect(problems(base('  type: spiking-classifier'))).toContainEqual(expect.stringMatching(/^model\.snn: required for type: spiking-classifier/));
    expect(problems(base('  type: spiking-classifier\n  snn: {}\n  rnn: {type: gru, hidden_size: 4}'))).toContainEqual(expect.stringMatching(/^model\.rnn: a spiking classifier has no recurrent stack/));
    expect(problems(base('  rnn: {type: gru, hidden_size: 4}\n  snn: {}'))).toContainEqual(expect.stringMatching(/^model\.snn: needs type: spiking-classifier/));
    expect(problems(base('  rnn: {type: gru, hidden_size: 4}', '  spike_regularization: {}'))).toContainEqual(expect.stringMatching(/^train\.spike_regularization: needs model\.type: spiking-classifier/));
    const issues = problems(base('  type: spiking-classifier\n  snn: {readout: median, b_th: -1}'));
    expect(issues).toContainEqual(expect.stringMatching(/^model\.snn\.readout:/));
    expect(issues).toContainEqual(expect.stringMatching(/^model\.snn\.b_th:/));
  });

  it('refuses a time grid on a dataset without one', () => {
    expect(problems(`
data: {dataset: mnist, view: smnist-rows, steps: 10}
model: {rnn: {type: gru, hidden_size: 4}}
train: {epochs: 1, batch_size: 8, optimizer: {type: adam, lr: 0.001}}
`)).toContainEqual(expect.stringMatching(/^data\.steps: for the spike-event datasets only/));
  });
});
