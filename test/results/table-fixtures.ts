// A folder of fixture runs for `evnn table`, written with the project's own writers: a configs
// folder and a results folder with several seeds of one benchmark (plus an interrupted seed and a
// run of another config under the same name), a benchmark measured as test error, one that was
// never run, one interrupted, one stopped on a non-finite loss, a language model with test
// activity, and a config with steps (pretrain, retrain, eval) run with two seeds.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configToYaml, loadConfig, type Config } from '../../src/config/index.js';
import { writeEvalResult } from '../../src/results/eval-result.js';
import { MetricsTable, type MetricRow } from '../../src/results/metrics.js';
import { runDirFor } from '../../src/results/run-dir.js';
import { SparsityTable, type SparsityRow } from '../../src/results/sparsity.js';
import { writeSummary, type Summary } from '../../src/results/summary.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

const classifier = (o: { rnn?: string; epochs?: number; paper?: string; steps?: string } = {}) => `
seed: 1
threads: 2
data: { dataset: mnist, view: smnist-rows }
model:
  rnn: ${o.rnn ?? '{ type: egru, hidden_size: 16, num_layers: 2 }'}
train:
  epochs: ${o.epochs ?? 4}
  batch_size: 50
  optimizer: { type: adam, lr: 0.01 }
${o.paper ? `paper: ${o.paper}\n` : ''}${o.steps ?? ''}`;

/** A small EGRU language model on PTB, without a paper value (the sweep tests grid over it). */
export const LM_CONFIG = `
seed: 7
data: { dataset: ptb, source: download }
model:
  type: language-model
  emb_dim: 8
  rnn: { type: egru, hidden_size: 16, num_layers: 2 }
train:
  epochs: 2
  batch_size: 4
  bptt: 10
  optimizer: { type: adamw, lr: 0.003 }
`;

const lm = `${LM_CONFIG}paper: { metric: test_perplexity, value: 100, source: "LM paper" }
`;

export const CONFIGS = {
  acc: classifier({ paper: '{ metric: test_accuracy, value: 0.98, source: "Paper A, Table 1" }' }),
  err: classifier({ rnn: '{ type: gru, hidden_size: 8 }', paper: '{ metric: test_error, value: 0.05, source: "Paper B | errors" }' }),
  missing: classifier({ rnn: '{ type: lstm, hidden_size: 8 }', paper: '{ metric: test_accuracy, value: 0.9, source: "Paper C" }' }),
  stopped: classifier({ epochs: 10, paper: '{ metric: test_accuracy, value: 0.9 }' }),
  nonfinite: classifier({ epochs: 5, paper: '{ metric: test_accuracy, value: 0.9 }' }),
  lm,
  steps: classifier({
    rnn: '{ type: gru, hidden_size: 8 }', epochs: 2, paper: '{ metric: test_accuracy, value: 0.95 }',
    steps: 'steps:\n  - name: pretrain\n  - name: retrain\n    init_from: pretrain\n    train: { epochs: 3 }\n  - name: eval\n',
  }),
  nopaper: classifier({ rnn: '{ type: gru, hidden_size: 4 }' }),
} as const;

const backend = { device: 'cpu' as const, gemm: 'builtin', simd: 'avx2', threads: 2 };

/** Metrics of `epochs` epochs: train 2 s and valid 0.5 s each (2.5 s an epoch), and a 0.25 s test row when tested. */
function metricRows(epochs: number, tested: boolean, acc = 0.9): MetricRow[] {
  const rows: MetricRow[] = [];
  for (let e = 0; e < epochs; e++) {
    rows.push({ epoch: e, split: 'train', loss: 1, accuracy: 0.5, lr: 0.01, samples_per_s: 100, wall_s: 2 });
    rows.push({ epoch: e, split: 'valid', loss: 1, accuracy: 0.6, lr: 0.01, samples_per_s: 400, wall_s: 0.5 });
  }
  if (tested) rows.push({ epoch: epochs - 1, split: 'test', loss: 0.5, accuracy: acc, lr: NaN, samples_per_s: 400, wall_s: 0.25 });
  return rows;
}

/** Two EGRU layers; the last epoch's activity is `a` and a + 0.1, backward sparsity 0.4 and 0.5 (earlier epochs: 0.9). */
function egruSparsity(epochs: number, a: number): SparsityRow[] {
  const rows: SparsityRow[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let l = 0; l < 2; l++) {
      const last = e === epochs - 1;
      rows.push({
        epoch: e, layer: `rnn.${l}`, family: 'egru', activity: last ? a + 0.1 * l : 0.9, backward_sparsity: last ? 0.4 + 0.1 * l : 0.9,
        active_fraction: NaN, delta_x_zero: NaN, delta_h_zero: NaN, macs_forward: 10, macs_forward_dense: 20, macs_backward: 10, macs_backward_dense: 30,
      });
    }
  }
  return rows;
}

function summaryOf(cfg: Config, o: { acc?: number | null; ppl?: number; epochs: number; status?: Summary['status']; step?: string; testActivity?: Record<string, number> }): Summary {
  const acc = o.acc ?? null;
  const lmRun = o.ppl !== undefined;
  const wall = o.epochs * 2.5 + (o.status === 'stopped-nonfinite' ? 0 : 0.25);
  return {
    config: cfg.name, run_id: 'x', ...(o.step ? { step: o.step } : {}), status: o.status ?? 'finished',
    metric: lmRun ? { name: 'perplexity', value: o.ppl!, best_valid: o.ppl! } : { name: 'accuracy', value: acc, best_valid: acc },
    final: { test_accuracy: acc, test_loss: acc === null ? null : 0.5, best_valid_accuracy: acc, best_epoch: o.epochs - 1 },
    ...(o.testActivity ? { test_activity: o.testActivity } : {}),
    paper: cfg.paper ? { metric: cfg.paper.metric, value: cfg.paper.value } : null,
    epochs_run: o.epochs, wall_time_s: wall, train_samples_per_s: 100, backend, evnn_version: '0.1.0', finished_at: '2026-01-01T00:00:00.000Z',
  };
}

function writeStep(dir: string, cfg: Config, o: { summary?: Summary; epochs: number; tested: boolean; sparsity?: SparsityRow[]; acc?: number }): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'config.yaml'), configToYaml(cfg));
  const m = new MetricsTable();
  m.appendAll(metricRows(o.epochs, o.tested, o.acc));
  m.write(join(dir, 'metrics.arrow'));
  const s = new SparsityTable();
  s.appendAll(o.sparsity ?? []);
  s.write(join(dir, 'sparsity.arrow'));
  if (o.summary) writeSummary(join(dir, 'summary.json'), o.summary);
}

/** A finished (or, with `epochs` < the config's and no summary, interrupted) single-step run. */
function writeRun(resultsDir: string, cfg: Config, o: { acc?: number; ppl?: number; epochs?: number; interrupted?: boolean; nonfinite?: boolean; activity?: number; testActivity?: Record<string, number> }): string {
  const dir = runDirFor(resultsDir, cfg);
  const epochs = o.epochs ?? cfg.train.epochs;
  const sparsity = cfg.model.rnn.type === 'egru' ? egruSparsity(epochs, o.activity ?? 0.2) : [];
  const summary = o.interrupted
    ? undefined
    : o.nonfinite
      ? summaryOf(cfg, { acc: null, epochs, status: 'stopped-nonfinite' })
      : summaryOf(cfg, { acc: o.acc, ppl: o.ppl, epochs, testActivity: o.testActivity });
  writeStep(dir, cfg, { summary, epochs, tested: !o.interrupted && !o.nonfinite, sparsity, acc: o.acc });
  return dir;
}

export interface Fixture {
  root: string;
  configsDir: string;
  resultsDir: string;
  cfg: Record<keyof typeof CONFIGS, Config>;
  dirs: { acc: string[]; accStopped: string; accOther: string; err: string; stopped: string; nonfinite: string; lm: string; steps: string[] };
}

export function writeFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'evnn-table-'));
  const configsDir = join(root, 'configs');
  const resultsDir = join(root, 'results');
  mkdirSync(configsDir);
  const cfg = {} as Record<keyof typeof CONFIGS, Config>;
  for (const [name, text] of Object.entries(CONFIGS)) {
    const file = join(configsDir, `${name}.yaml`);
    writeFileSync(file, text);
    cfg[name as keyof typeof CONFIGS] = loadConfig(file);
  }
  const seed = (c: Config, s: number): Config => ({ ...c, seed: s });
  // acc: seeds 1 (the config's), 2, 3 finished at 95, 96, 97% (activity 0.2, 0.3, 0.4 in layer 0); seed 4
  // interrupted after 2 of 4 epochs; a run of another config (hidden 32) under the same name.
  const acc = [0.95, 0.96, 0.97].map((a, i) => writeRun(resultsDir, seed(cfg.acc, i + 1), { acc: a, activity: 0.2 + 0.1 * i }));
  const accStopped = writeRun(resultsDir, seed(cfg.acc, 4), { epochs: 2, interrupted: true });
  const other = { ...cfg.acc, seed: 5, model: { ...cfg.acc.model, rnn: { ...cfg.acc.model.rnn, hidden_size: 32 } } } as Config;
  const accOther = writeRun(resultsDir, other, { acc: 0.5 });
  const err = writeRun(resultsDir, cfg.err, { acc: 0.96 });
  const stopped = writeRun(resultsDir, cfg.stopped, { epochs: 3, interrupted: true });
  const nonfinite = writeRun(resultsDir, cfg.nonfinite, { epochs: 1, nonfinite: true });
  const lmDir = writeRun(resultsDir, cfg.lm, { ppl: 110, testActivity: { 'rnn.0': 0.1, 'rnn.1': 0.3 } });
  // steps: seeds 1 and 2, pretrain 2 epochs, retrain 3 epochs (both finished), eval at 93% and 95%
  // (retrain's own test result: 92%, which the eval result overrides).
  const stepsRun = (c: Config, evalAcc: number): string => {
    const dir = runDirFor(resultsDir, c);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'config.yaml'), configToYaml(c));
    const stepCfg = (i: number) => ({ ...c, steps: undefined, train: (c.steps![i] as { train: Config['train'] }).train });
    writeStep(join(dir, 'pretrain'), stepCfg(0), { summary: summaryOf(c, { acc: 0.9, epochs: 2, step: 'pretrain' }), epochs: 2, tested: true });
    writeStep(join(dir, 'retrain'), stepCfg(1), { summary: summaryOf(c, { acc: 0.92, epochs: 3, step: 'retrain' }), epochs: 3, tested: true });
    writeEvalResult(join(dir, 'eval', 'result.json'), {
      config: 'steps', run_id: 'x', step: 'eval', of: { step: 'retrain', hash: 'h', checkpoint: 'best.safetensors', epoch: 2 }, split: 'test',
      metric: { name: 'accuracy', value: evalAcc }, loss: 0.3, accuracy: evalAcc, samples: 200, wall_time_s: 1.5, evnn_version: '0.1.0', finished_at: 'now',
    });
    return dir;
  };
  const stepsDir = stepsRun(cfg.steps, 0.93);
  const stepsSeed2 = stepsRun(seed(cfg.steps, 2), 0.95);
  return {
    root, configsDir, resultsDir, cfg,
    dirs: { acc, accStopped, accOther, err, stopped, nonfinite, lm: lmDir, steps: [stepsDir, stepsSeed2] },
  };
}

/** Splits a markdown table line into its cells (a `\|` is part of a cell). */
export function markdownCells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** A small RFC 4180 parser: quoted fields (with doubled quotes, commas and line breaks), CRLF or LF records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}
