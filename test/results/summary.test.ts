// summary.json: written atomically, read back with its fields checked.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSummary, writeSummary, type Summary } from '../../src/results/summary.js';

const summary: Summary = {
  config: 'smnist-gru-quick',
  run_id: 'seed1-0123abcd',
  status: 'finished',
  metric: { name: 'accuracy', value: 0.9712, best_valid: 0.975 },
  final: { test_accuracy: 0.9712, test_loss: 0.0931, best_valid_accuracy: 0.975, best_epoch: 3 },
  paper: { metric: 'test_accuracy', value: 0.983 },
  epochs_run: 4,
  wall_time_s: 118.5,
  train_samples_per_s: 2100.25,
  backend: { device: 'cpu', gemm: 'openblas', simd: 'avx2', threads: 2 },
  evnn_version: '0.1.0',
  finished_at: '2025-01-01T00:00:00.000Z',
};

describe('summary.json', () => {
  it('round-trips, as pretty JSON, leaving no temp file beside it', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'run', 'summary.json');
    writeSummary(f, summary);
    writeSummary(f, { ...summary, epochs_run: 5 });
    expect(readSummary(f)).toEqual({ ...summary, epochs_run: 5 });
    expect(readFileSync(f, 'utf8')).toMatch(/^\{\n {2}"config": "smnist-gru-quick",\n/);
    expect(readdirSync(join(d, 'run'))).toEqual(['summary.json']);
  });

  it('a failed write leaves the previous summary intact and no temp file', () => {
    // The write fails structurally, also as root (CI), which ignores permission bits: the target's
    // name has 250 characters, so the temp file beside it (.<name>.<pid>.<ms>.tmp) exceeds the
    // 255-byte name limit and cannot be created (ENAMETOOLONG). The previous summary is written
    // directly, as an earlier run would have left it.
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const name = `summary-${'x'.repeat(237)}.json`;
    expect(name).toHaveLength(250);
    const f = join(d, name);
    writeFileSync(f, JSON.stringify(summary));
    expect(() => writeSummary(f, { ...summary, epochs_run: 9 })).toThrow(/ENAMETOOLONG/);
    expect(readSummary(f)).toEqual(summary);
    expect(readdirSync(d)).toEqual([name]);
  });

  it('a write that cannot replace the target keeps the target and cleans up', () => {
    // The target is a directory: the rename fails after the temp file was written.
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    mkdirSync(join(f, 'x'), { recursive: true });
    expect(() => writeSummary(f, summary)).toThrow();
    expect(readdirSync(d)).toEqual(['summary.json']);
    expect(readdirSync(f)).toEqual(['x']);
  });

  it('a stopped run has no test numbers', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    const stopped: Summary = {
      ...summary, status: 'stopped-nonfinite', paper: null, metric: { name: 'accuracy', value: null, best_valid: null },
      final: { test_accuracy: null, test_loss: null, best_valid_accuracy: null, best_epoch: -1 },
    };
    writeSummary(f, stopped);
    expect(readSummary(f)).toEqual(stopped);
  });

  it('is headed by the task metric; a step of a config with steps names its step', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    const lm: Summary = { ...summary, step: 'retrain', metric: { name: 'perplexity', value: 112.5, best_valid: 118.25 } };
    writeSummary(f, lm);
    expect(readSummary(f)).toEqual(lm);
  });

  it('a summary written before task metrics reads back with accuracy as its metric', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    const { metric: _m, ...old } = summary;
    writeFileSync(f, JSON.stringify(old));
    expect(readSummary(f)).toEqual({ ...old, metric: { name: 'accuracy', value: 0.9712, best_valid: 0.975 } });
  });

  it('a damaged or foreign summary names the file and the field', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    writeFileSync(f, '{"config": "x", ');
    expect(() => readSummary(f)).toThrow(`${f}: not a readable summary (`);
    writeFileSync(f, JSON.stringify({ ...summary, status: 'done' }));
    expect(() => readSummary(f)).toThrow(`${f}: not a valid summary (status: `);
    writeFileSync(f, JSON.stringify({ ...summary, final: { ...summary.final, test_accuracy: 97.1 } }));
    expect(() => readSummary(f)).toThrow(`${f}: not a valid summary (final.test_accuracy: `);
    writeFileSync(f, JSON.stringify({ ...summary, metric: { ...summary.metric, name: 'bleu' } }));
    expect(() => readSummary(f)).toThrow(`${f}: not a valid summary (metric.name: `);
  });
});
