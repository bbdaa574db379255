// Tiny run directories for report tests, written with the project's own writers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsTable, type MetricRow } from '../../src/results/metrics.js';
import { SparsityTable, type SparsityRow } from '../../src/results/sparsity.js';
import { writeSummary, type Summary } from '../../src/results/summary.js';

export interface FixtureOptions {
  name: string;
  epochs: number;
  /** Sparse layers (EGRU): one sparsity row per epoch and layer; 0 = a dense model. */
  layers: number;
  metric?: 'accuracy' | 'perplexity';
  bestEpoch?: number;
  step?: string;
  configYaml?: string;
  runId?: string;
}

export function writeFixtureRun(dir: string, o: FixtureOptions): { dir: string; metrics: MetricRow[]; sparsity: SparsityRow[]; summary: Summary } {
  mkdirSync(dir, { recursive: true });
  const best = o.bestEpoch ?? o.epochs - 1;
  const metric = o.metric ?? 'accuracy';
  const metrics: MetricRow[] = [];
  for (let e = 0; e < o.epochs; e++) {
    const lr = 0.002 * 0.5 ** Math.floor(e / 2);
    metrics.push({ epoch: e, split: 'train', loss: 2 / (e + 1) + 0.1, accuracy: 0.5 + 0.1 * e, lr, samples_per_s: 1000 + e, wall_s: 2 });
    metrics.push({ epoch: e, split: 'valid', loss: 2.2 / (e + 1) + 0.15, accuracy: 0.45 + 0.1 * e, lr, samples_per_s: 5000, wall_s: 0.5 });
  }
  const bestValid = metrics.find((r) => r.split === 'valid' && r.epoch === best)!;
  const test: MetricRow = { epoch: best, split: 'test', loss: bestValid.loss + 0.01, accuracy: bestValid.accuracy - 0.01, lr: NaN, samples_per_s: 5100, wall_s: 0.4 };
  metrics.push(test);
  const mt = new MetricsTable();
  mt.appendAll(metrics);
  mt.write(join(dir, 'metrics.arrow'));

  const sparsity: SparsityRow[] = [];
  for (let e = 0; e < o.epochs; e++) {
    for (let l = 0; l < o.layers; l++) {
      sparsity.push({
        epoch: e, layer: `rnn.${l}`, family: 'egru', activity: 0.3 - 0.05 * e + 0.01 * l, backward_sparsity: 0.4 + 0.05 * e,
        active_fraction: NaN, delta_x_zero: NaN, delta_h_zero: NaN,
        macs_forward: 1e6 * (0.5 - 0.05 * e), macs_forward_dense: 1e6, macs_backward: 2e6 * (0.4 - 0.05 * e), macs_backward_dense: 2e6,
      });
    }
  }
  const st = new SparsityTable();
  st.appendAll(sparsity);
  st.write(join(dir, 'sparsity.arrow'));

  const of = (r: MetricRow) => (metric === 'accuracy' ? r.accuracy : Math.exp(r.loss));
  const summary: Summary = {
    config: o.name,
    run_id: o.runId ?? 'seed3-0123abcd',
    ...(o.step ? { step: o.step } : {}),
    status: 'finished',
    metric: { name: metric, value: of(test), best_valid: of(bestValid) },
    final: { test_accuracy: test.accuracy, test_loss: test.loss, best_valid_accuracy: bestValid.accuracy, best_epoch: best },
    paper: { metric: 'test_accuracy', value: 0.983 },
    epochs_run: o.epochs,
    wall_time_s: 2.5 * o.epochs + 0.4,
    train_samples_per_s: 1001,
    backend: { device: 'cpu', gemm: 'openblas', simd: 'avx2', threads: 2 },
    evnn_version: '0.1.0',
    finished_at: '2026-12-01T00:00:00.000Z',
  };
  writeSummary(join(dir, 'summary.json'), summary);
  writeFileSync(join(dir, 'config.yaml'), o.configYaml ?? `name: ${o.name}\nseed: 3\nmodel:\n  rnn: { type: ${o.layers > 0 ? 'egru' : 'gru'}, hidden_size: 32 }\n`);
  return { dir, metrics, sparsity, summary };
}
