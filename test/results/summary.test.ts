// summary.json: written atomically, read back with its fields checked.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSummary, writeSummary, type Summary } from '../../src/results/summary.js';

const summary: Summary = {
  config: 'smnist-gru-quick',
  run_id: 'seed1-0123abcd',
  status: 'finished',
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

  // Root ignores directory permissions, so there the write cannot be made to fail this way.
  it.skipIf(process.getuid?.() === 0)('a failed write leaves the previous summary intact and no temp file', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-sum-'));
    const f = join(d, 'summary.json');
    writeSummary(f, summary);
    chmodSync(d, 0o500);
    try {
      expect(() => writeSummary(f, { ...summary, epochs_run: 9 })).toThrow();
    } finally {
      chmodSync(d, 0o700);
    }
    expect(readSummary(f)).toEqual(summary);
    expect(readdirSync(d)).toEqual(['summary.json']);
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
    const stopped: Summary = { ...summary, status: 'stopped-nonfinite', paper: null, final: { test_accuracy: null, test_loss: null, best_valid_accuracy: null, best_epoch: -1 } };
    writeSummary(f, stopped);
    expect(readSummary(f)).toEqual(stopped);
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
  });
});
