// The GSCv2 keyword-spotting pipeline end to end through the CLI, on the synthetic fixture
// (scripts/make-gscv2-fixture.sh): prepare → feature → pretrain GRU → retrain DeltaGRU from
// pretrain's best checkpoint, as configs/gscv2-deltagru-quick.yaml with fewer epochs; skipping,
// resume after SIGKILL, the archive source, the DeltaLSTM config, data.feature_norm, and errors.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readClips } from '../../src/data/gscv2/clips.js';
import { describeWithGscv2Fixture, type Gscv2Fixture } from '../data/gscv2-fixture.js';
import { evnn, evnnKilledWhen, root, tempDir, writeConfig, type CliResult } from './helpers.js';
import { json, logOf, metrics, onlyRunDir, sha256 } from './run-output.js';

const NAME = 'kws';
const PRETRAIN_EPOCHS = 15;
const RETRAIN_EPOCHS = 8;
const FEATURE_FILES = ['train.arrow', 'valid.arrow', 'test.arrow', 'meta.json'];

const epochEvents = (dir: string) => logOf(dir).filter((l) => l.event === 'epoch').length;
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The row of `split` at `epoch` in a step's metrics. */
function row(m: ReturnType<typeof metrics>, split: string, epoch: number) {
  const i = m.split.findIndex((s, k) => s === split && m.epoch[k] === epoch);
  expect(i, `${split} row of epoch ${epoch}`).toBeGreaterThanOrEqual(0);
  return { loss: m.loss[i], accuracy: m.accuracy[i] };
}

/** A shipped quick config on the fixture's folder source, edited by `edit`. */
function quickConfig(shipped: string, source: string, edit: (c: any) => void = () => {}): string {
  const c = parse(readFileSync(join(root, 'configs', shipped), 'utf8'));
  c.data.source = source;
  edit(c);
  return stringify(c);
}

describeWithGscv2Fixture('the GSCv2 keyword-spotting pipeline through the CLI', (fx: () => Gscv2Fixture) => {
  const temps: string[] = [];
  const scratch = (prefix: string) => {
    const d = tempDir(prefix);
    temps.push(d);
    return d;
  };
  afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const cfgDir = scratch('gscv2-cfg');
  const dataDir = join(cfgDir, 'data');
  const whole = join(cfgDir, 'whole');
  let cfg = '';
  let first: CliResult;
  const dirs = (results: string, data = dataDir) => ['--data-dir', data, '--results-dir', results, '--threads', '2', '--quiet'];
  const run = (args: string[], results: string, data = dataDir) => evnn([...args, ...dirs(results, data)]);

  beforeAll(() => {
    cfg = writeConfig(cfgDir, NAME, quickConfig('gscv2-deltagru-quick.yaml', fx().folderSource, (c) => {
      c.train.epochs = PRETRAIN_EPOCHS;
      c.steps[3].train.epochs = RETRAIN_EPOCHS;
    }));
    first = run(['run', cfg], whole);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
  }, 60_000);

  it('runs the four steps: the data and features, pretrain GRU, retrain DeltaGRU with its temporal sparsity', () => {
    const gsc = join(dataDir, 'gscv2');
    for (const f of ['clips.arrow', 'meta.json', ...FEATURE_FILES.map((f) => join('features', f))]) {
      expect(existsSync(join(gsc, f)), f).toBe(true);
    }
    const runDir = onlyRunDir(whole, NAME);
    expect(readdirSync(runDir).sort()).toEqual(['config.yaml', 'pretrain', 'retrain']);
    for (const step of ['pretrain', 'retrain']) {
      for (const f of ['config.yaml', 'log.jsonl', 'metrics.arrow', 'sparsity.arrow', 'summary.json', 'best.safetensors', 'last.safetensors']) {
        expect(existsSync(join(runDir, step, f)), `${step}/${f}`).toBe(true);
      }
    }
    const pre = json(join(runDir, 'pretrain', 'summary.json'));
    const re = json(join(runDir, 'retrain', 'summary.json'));
    for (const [s, name, epochs] of [[pre, 'pretrain', PRETRAIN_EPOCHS], [re, 'retrain', RETRAIN_EPOCHS]] as const) {
      expect(s).toMatchObject({ step: name, status: 'finished', epochs_run: epochs });
      expect(s.metric).toEqual({ name: 'accuracy', value: s.final.test_accuracy, best_valid: s.final.best_valid_accuracy });
      expect(epochEvents(join(runDir, name))).toBe(epochs);
    }
    // Well above the largest class of the fixture's test split (16 of 62 clips).
    expect(pre.final.test_accuracy).toBeGreaterThan(0.3);
    expect(re.final.test_accuracy).toBeGreaterThan(0.3);

    // The DeltaGRU's test temporal sparsity: some, not all, deltas are skipped at Θ = 0.1.
    expect(pre.test_sparsity ?? {}).toEqual({});
    expect(Object.keys(re.test_sparsity)).toEqual(['rnn.0']);
    const t = re.test_sparsity['rnn.0'];
    expect(t.family).toBe('deltagru');
    for (const k of ['delta_x_zero', 'delta_h_zero']) {
      expect(t[k], k).toBeGreaterThan(0);
      expect(t[k], k).toBeLessThan(1);
    }

    // The output: both steps' test accuracy, under their own headings, and the sparsity line.
    const out = first.stdout;
    expect(out).toContain(`run: ${runDir}`);
    expect(out).toContain('prepare: data ready\nfeature: data ready\n');
    const preAt = out.indexOf(`pretrain: finished: ${join(runDir, 'pretrain')}`);
    const reAt = out.indexOf(`retrain: finished: ${join(runDir, 'retrain')}`);
    expect(preAt).toBeGreaterThanOrEqual(0);
    expect(reAt).toBeGreaterThan(preAt);
    expect(out.slice(preAt, reAt)).toContain(`  test accuracy ${pct(pre.final.test_accuracy)} (loss ${pre.final.test_loss.toFixed(4)})`);
    expect(out.slice(preAt, reAt)).not.toContain('temporal sparsity');
    expect(out.slice(reAt)).toContain(`  test accuracy ${pct(re.final.test_accuracy)} (loss ${re.final.test_loss.toFixed(4)})`);
    expect(out.slice(reAt)).toContain(`  test temporal sparsity rnn.0 (deltagru): zero Δx ${pct(t.delta_x_zero)}, Δh ${pct(t.delta_h_zero)}`);

    // retrain loaded pretrain's best checkpoint (these bytes) ...
    const init = logOf(join(runDir, 'retrain')).filter((l) => l.event === 'init');
    expect(init).toHaveLength(1);
    const best = join(runDir, 'pretrain', 'best.safetensors');
    expect(init[0]).toMatchObject({ from: 'pretrain', checkpoint: best, epoch: pre.final.best_epoch, sha256: sha256(best) });
    // ... so its first epoch already trains far below the loss pretrain began with.
    const pm = metrics(join(runDir, 'pretrain'));
    const rm = metrics(join(runDir, 'retrain'));
    expect(rm.loss[rm.split.indexOf('train')]).toBeLessThan(pm.loss[pm.split.indexOf('train')] - 0.3);
    expect(readFileSync(join(runDir, 'retrain', 'config.yaml'), 'utf8')).toContain('type: deltagru');
  });

  it("retrain starts from exactly pretrain's best weights: at Θ = 0 and a vanishing learning rate it scores as pretrain's best", () => {
    // A DeltaGRU at Θ = 0 computes the GRU (up to float rounding), and an epoch at lr 1e-30 moves nothing.
    const results = join(cfgDir, 'same');
    const set = ['steps.3.train.epochs=1', 'steps.3.train.optimizer.lr=1e-30', 'steps.3.model.rnn.theta_x=0', 'steps.3.model.rnn.theta_h=0'].flatMap((s) => ['--set', s]);
    const r = run(['run', cfg, ...set], results);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runDir = onlyRunDir(results, NAME);
    const pre = json(join(runDir, 'pretrain', 'summary.json'));
    const re = json(join(runDir, 'retrain', 'summary.json'));
    // The same pretrain settings as the main run: the same numbers.
    expect(pre.final).toEqual(json(join(onlyRunDir(whole, NAME), 'pretrain', 'summary.json')).final);
    const bestValid = row(metrics(join(runDir, 'pretrain')), 'valid', pre.final.best_epoch);
    const firstValid = row(metrics(join(runDir, 'retrain')), 'valid', 0);
    expect(firstValid.accuracy).toBe(bestValid.accuracy);
    expect(firstValid.loss).toBeCloseTo(bestValid.loss, 4);
    expect(re.final.test_accuracy).toBe(pre.final.test_accuracy);
    expect(re.final.test_loss).toBeCloseTo(pre.final.test_loss, 4);
    expect(re.test_sparsity['rnn.0'].family).toBe('deltagru');
  });

  it('a second run skips every step: data ready, already finished, no new epochs, nothing rewritten', () => {
    const runDir = onlyRunDir(whole, NAME);
    const watched = [
      join(dataDir, 'gscv2', 'clips.arrow'),
      ...FEATURE_FILES.map((f) => join(dataDir, 'gscv2', 'features', f)),
      ...['pretrain', 'retrain'].flatMap((s) => ['summary.json', 'best.safetensors', 'last.safetensors', 'metrics.arrow'].map((f) => join(runDir, s, f))),
    ];
    const mtimes = () => watched.map((f) => statSync(f).mtimeMs);
    const before = mtimes();
    const again = run(['run', cfg], whole);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('prepare: data ready\nfeature: data ready\n');
    expect(again.stdout).toContain(`pretrain: already finished: ${join(runDir, 'pretrain')}`);
    expect(again.stdout).toContain(`retrain: already finished: ${join(runDir, 'retrain')}`);
    expect(again.stdout).toContain('(use --force to run finished steps again)');
    expect(epochEvents(join(runDir, 'pretrain'))).toBe(PRETRAIN_EPOCHS);
    expect(epochEvents(join(runDir, 'retrain'))).toBe(RETRAIN_EPOCHS);
    expect(mtimes()).toEqual(before);
    // The same test numbers as the first time.
    const accuracies = (out: string) => out.split('\n').filter((l) => l.startsWith('  test '));
    expect(accuracies(again.stdout)).toEqual(accuracies(first.stdout));
  });

  it('both training steps resume after SIGKILL and end with the same numbers as the uninterrupted run', async () => {
    const cut = join(cfgDir, 'cut');
    const wholeDir = onlyRunDir(whole, NAME);
    const cutDir = join(cut, NAME, wholeDir.split('/').pop()!);
    const args = ['run', cfg, ...dirs(cut)];
    await evnnKilledWhen(args, () => existsSync(join(cutDir, 'pretrain', 'last.safetensors')));
    expect(existsSync(join(cutDir, 'pretrain', 'summary.json')), 'pretrain was really interrupted').toBe(false);
    await evnnKilledWhen(args, () => existsSync(join(cutDir, 'retrain', 'last.safetensors')));
    expect(existsSync(join(cutDir, 'pretrain', 'summary.json'))).toBe(true);
    expect(existsSync(join(cutDir, 'retrain', 'summary.json')), 'retrain was really interrupted').toBe(false);
    const r = evnn(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(onlyRunDir(cut, NAME)).toBe(cutDir);
    for (const step of ['pretrain', 'retrain']) {
      expect(logOf(join(cutDir, step)).some((l) => l.event === 'resume'), `${step} resumed`).toBe(true);
      const a = json(join(cutDir, step, 'summary.json'));
      const b = json(join(wholeDir, step, 'summary.json'));
      expect(a.final).toEqual(b.final);
      expect(a.test_sparsity).toEqual(b.test_sparsity);
      expect(metrics(join(cutDir, step))).toEqual(metrics(join(wholeDir, step)));
    }
    const testLines = (out: string) => out.split('\n').filter((l) => l.startsWith('  test '));
    expect(testLines(r.stdout)).toEqual(testLines(first.stdout));
  });

  it('the archive source (the two .tar.gz) gives the clips and the very features of the folder source', () => {
    const archData = join(cfgDir, 'archive-data');
    const set = ['--set', `data.source=${fx().archiveSource}`];
    const p = evnn(['prepare', cfg, ...set, '--data-dir', archData, '--quiet']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const f = run(['feature', cfg, ...set], join(cfgDir, 'archive-results'), archData);
    expect(f.stderr).toBe('');
    expect(f.code).toBe(0);
    // Clips from the archives are stored under gscv2/audio/, from the folders in place.
    const key = (c: { split: string; label: number; keyword: string; path: string }) =>
      `${c.split} ${c.label} ${c.keyword} ${c.path.replace(`${fx().folderSource}/`, '').replace(/^audio\//, '')}`;
    const fromArchives = readClips(join(archData, 'gscv2', 'clips.arrow'));
    expect(fromArchives.some((c) => c.path.startsWith('audio/'))).toBe(true);
    expect(fromArchives.map(key)).toEqual(readClips(join(dataDir, 'gscv2', 'clips.arrow')).map(key));
    for (const split of ['train', 'valid', 'test']) {
      expect(sha256(join(archData, 'gscv2', 'features', `${split}.arrow`)), split).toBe(sha256(join(dataDir, 'gscv2', 'features', `${split}.arrow`)));
    }
  });

  it('config errors name the field and write nothing: gscv2 without data.source, feature_norm on mnist, qc on a sequence classifier', () => {
    const dir = scratch('gscv2-bad');
    const mnist = (model: string, data = '') => `seed: 0
data:
  dataset: mnist
  view: smnist-rows
  limit: { train: 100, valid: 50, test: 50 }${data}
model:
${model}
train:
  epochs: 1
  batch_size: 16
  optimizer: { type: adam, lr: 0.01 }
`;
    const cases: [string, string, string][] = [
      ['nosource', quickConfig('gscv2-deltagru-quick.yaml', '', (c) => delete c.data.source), 'data.source: required for gscv2'],
      ['norm', mnist('  rnn: { type: gru, hidden_size: 8 }', '\n  feature_norm: channel'), 'data.feature_norm: the mnist dataset has no feature step'],
      ['qc', mnist('  rnn: { type: gru, hidden_size: 8 }\n  qc: true'), 'model.qc: needs type: frame-classifier (this model is a sequence-classifier)'],
    ];
    for (const [name, body, message] of cases) {
      const file = writeConfig(dir, name, body);
      const results = join(dir, `results-${name}`);
      const data = join(dir, `data-${name}`);
      const r = evnn(['run', file, ...dirs(results, data)]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(`evnn: invalid config ${file}\n`);
      expect(r.stderr, name).toContain(message);
      expect(existsSync(results), name).toBe(false);
      expect(existsSync(data), name).toBe(false);
    }
  });

  it('a frame classifier on mnist (no frame labels) is a config error naming model.type', () => {
    const dir = scratch('gscv2-fc-mnist');
    const file = writeConfig(dir, 'fc', `seed: 0
data:
  dataset: mnist
  view: smnist-rows
  limit: { train: 64, valid: 32, test: 32 }
model:
  type: frame-classifier
  rnn: { type: gru, hidden_size: 8 }
train:
  epochs: 1
  batch_size: 16
  optimizer: { type: adam, lr: 0.01 }
`);
    const r = evnn(['run', file, ...dirs(join(dir, 'results'), join(dir, 'data'))]);
    // A config error, before anything is prepared or written.
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model.type: the mnist dataset serves sequence-classifier models, not a frame-classifier');
    expect(existsSync(join(dir, 'results'))).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('a damaged features/train.arrow fails pretrain naming that file, with nothing trained; `evnn feature --force` redoes the features', () => {
    const damaged = join(cfgDir, 'damaged-data');
    cpSync(dataDir, damaged, { recursive: true });
    const features = join(damaged, 'gscv2', 'features');
    const train = join(features, 'train.arrow');
    // Damaged at the same size (the end magic zeroed): the feature step's size check passes, opening it fails.
    const bytes = readFileSync(train);
    bytes.fill(0, bytes.length - 6);
    writeFileSync(train, bytes);
    const results = join(cfgDir, 'damaged-results');
    const r = run(['pretrain', cfg], results, damaged);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`evnn: ${train}: incomplete Arrow IPC file`);
    expect(r.stderr).toContain('feature step again with --force');
    const stepDir = join(onlyRunDir(results, NAME), 'pretrain');
    // The step's config and log (saying what happened), no checkpoint, metrics or summary.
    expect(readdirSync(stepDir).sort()).toEqual(['config.yaml', 'log.jsonl']);
    expect(logOf(stepDir).some((l) => l.event === 'epoch')).toBe(false);

    const mtimes = () => FEATURE_FILES.map((f) => statSync(join(features, f)).mtimeMs);
    const before = mtimes();
    const f = evnn(['feature', cfg, '--force', '--data-dir', damaged, '--results-dir', results, '--threads', '2']);
    expect(f.code).toBe(0);
    expect(f.stdout).toContain('feature: data ready');
    expect(f.stderr).toContain('re-extracting GSCv2 features');
    // Every file rewritten (not just the damaged one), to the same bytes as before the damage.
    mtimes().forEach((m, i) => expect(m, FEATURE_FILES[i]).toBeGreaterThan(before[i]));
    for (const split of ['train', 'valid', 'test']) {
      expect(sha256(join(features, `${split}.arrow`)), split).toBe(sha256(join(dataDir, 'gscv2', 'features', `${split}.arrow`)));
    }
    // Not forced, it keeps them.
    const after = mtimes();
    expect(run(['feature', cfg], results, damaged).code).toBe(0);
    expect(mtimes()).toEqual(after);
    // And pretrain now trains, to the main run's numbers.
    const p = run(['pretrain', cfg], results, damaged);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(json(join(stepDir, 'summary.json')).final).toEqual(json(join(onlyRunDir(whole, NAME), 'pretrain', 'summary.json')).final);
  });

  it('the DeltaLSTM config runs both training steps: pretrain LSTM, retrain DeltaLSTM with its temporal sparsity', () => {
    const dir = scratch('gscv2-lstm');
    const file = writeConfig(dir, 'kws-lstm', quickConfig('gscv2-deltalstm-quick.yaml', fx().folderSource, (c) => {
      c.train.epochs = 3;
      c.steps[3].train.epochs = 2;
    }));
    const results = join(dir, 'results');
    const r = run(['run', file], results);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runDir = onlyRunDir(results, 'kws-lstm');
    const pre = json(join(runDir, 'pretrain', 'summary.json'));
    const re = json(join(runDir, 'retrain', 'summary.json'));
    expect(pre).toMatchObject({ status: 'finished', epochs_run: 3, metric: { name: 'accuracy' } });
    expect(re).toMatchObject({ status: 'finished', epochs_run: 2, metric: { name: 'accuracy' } });
    expect(readFileSync(join(runDir, 'pretrain', 'config.yaml'), 'utf8')).toContain('type: lstm');
    const t = re.test_sparsity['rnn.0'];
    expect(t.family).toBe('deltalstm');
    for (const k of ['delta_x_zero', 'delta_h_zero']) {
      expect(t[k], k).toBeGreaterThan(0);
      expect(t[k], k).toBeLessThan(1);
    }
    expect(r.stdout).toContain(`  test accuracy ${pct(pre.final.test_accuracy)}`);
    expect(r.stdout).toContain(`  test temporal sparsity rnn.0 (deltalstm): zero Δx ${pct(t.delta_x_zero)}, Δh ${pct(t.delta_h_zero)}`);
    const best = join(runDir, 'pretrain', 'best.safetensors');
    expect(logOf(join(runDir, 'retrain')).find((l) => l.event === 'init')).toMatchObject({ from: 'pretrain', sha256: sha256(best) });
  });

  it('data.feature_norm: channel trains (another run directory) to another loss than global; global is the default', () => {
    const results = join(cfgDir, 'norm');
    const out = (norm: string) => run(['pretrain', cfg, '--set', 'train.epochs=2', '--set', `data.feature_norm=${norm}`], results);
    const g = out('global');
    const c = out('channel');
    for (const r of [g, c]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/pretrain: finished: /);
    }
    const stepOf = (r: CliResult) => r.stdout.match(/pretrain: finished: (\S+)/)![1];
    expect(stepOf(c)).not.toBe(stepOf(g));
    expect(readFileSync(join(stepOf(c), 'config.yaml'), 'utf8')).toContain('feature_norm: channel');
    const gm = metrics(stepOf(g));
    const cm = metrics(stepOf(c));
    // Two epochs of train and valid rows, then the test of the best epoch (whichever it was).
    expect(gm.split.map((s, i) => `${gm.epoch[i]} ${s}`).slice(0, 4)).toEqual(['0 train', '0 valid', '1 train', '1 valid']);
    for (const m of [gm, cm]) expect(m.split.slice(4)).toEqual(['test']);
    for (const e of [0, 1]) {
      expect(Math.abs(row(cm, 'train', e).loss - row(gm, 'train', e).loss), `epoch ${e}`).toBeGreaterThan(1e-4);
      expect(Number.isFinite(row(cm, 'train', e).loss)).toBe(true);
    }
    // Global written out trains as the default (the main run, which leaves feature_norm out).
    const wm = metrics(join(onlyRunDir(whole, NAME), 'pretrain'));
    for (const e of [0, 1]) expect(row(gm, 'train', e)).toEqual(row(wm, 'train', e));
  });
});
