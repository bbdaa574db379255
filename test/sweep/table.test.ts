// `evnn table` of a sweep, on runs written with the project's writers: one row per grid point, the
// best by the validation metric (lowest perplexity here), points not run yet, and the extra
// columns of every format (which tables without a sweep do not get).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToYaml, type Config } from '../../src/config/index.js';
import { writeSummary, type Summary } from '../../src/results/summary.js';
import { benchmarkTable } from '../../src/results/table.js';
import { CSV_COLUMNS, DISPLAY_COLUMNS, SWEEP_CSV_COLUMNS, formatTable, gridText } from '../../src/results/table-format.js';
import { expandSweep, parseGrid, writeSweep } from '../../src/sweep/expand.js';
import { LM_CONFIG as LM, markdownCells, parseCsv } from '../results/table-fixtures.js';

function lmSummary(cfg: Config, test: number, valid: number): Summary {
  return {
    config: cfg.name, run_id: 'x', status: 'finished', metric: { name: 'perplexity', value: test, best_valid: valid },
    final: { test_accuracy: 0.2, test_loss: Math.log(test), best_valid_accuracy: 0.2, best_epoch: 1 }, paper: null, epochs_run: cfg.train.epochs,
    wall_time_s: 3, train_samples_per_s: 100, backend: { device: 'cpu', gemm: 'builtin', simd: 'avx2', threads: 1 }, evnn_version: '0.1.0', finished_at: 'now',
  };
}

function writeLmSweep() {
  const root = mkdtempSync(join(tmpdir(), 'evnn-sweep-table-'));
  const file = join(root, 'lm.yaml');
  writeFileSync(file, LM);
  const expanded = expandSweep({
    configFile: file, seeds: [1, 2], grid: [parseGrid('train.optimizer.lr=0.001,0.003,0.01')], resultsDir: join(root, 'results'), dataDir: join(root, 'datasets'),
  });
  writeSweep(expanded);
  const { plan, configs } = expanded;
  // Validation perplexity by lr: 0.001 → 120 and 122, 0.003 → 100 and 104, 0.01 → 90 (seed 1 only; seed 2 not run).
  const figures: [number, number][] = [[125, 120], [127, 122], [105, 100], [109, 104], [95, 90]];
  figures.forEach(([test, valid], i) => {
    const dir = plan.points[i].runDir;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), configToYaml(configs[i]));
    writeSummary(join(dir, 'summary.json'), lmSummary(configs[i], test, valid));
  });
  return { root, plan };
}

describe('evnn table of a sweep', () => {
  it('one row per grid point, means over its seeds, the lowest validation perplexity best (with two seeds or one)', () => {
    const { root, plan } = writeLmSweep();
    const rows = benchmarkTable([plan.dir], { resultsDir: join(root, 'results'), cwd: root });
    expect(rows.map((r) => [r.grid, r.n, r.seeds, r.value, r.valid_value, r.best])).toEqual([
      [{ 'train.optimizer.lr': 0.001 }, 2, [1, 2], 126, 121, false],
      [{ 'train.optimizer.lr': 0.003 }, 2, [1, 2], 107, 102, false],
      [{ 'train.optimizer.lr': 0.01 }, 1, [1], 95, 90, true],
    ]);
    expect(rows.every((r) => r.sweep === plan.id && r.valid_metric === 'valid_perplexity' && r.metric === 'test_perplexity')).toBe(true);
    expect(rows[2]).toMatchObject({ note: 'seed 2: not started', command: `evnn sweep resubmit ${join('results', 'lm', 'sweeps', plan.id)}` });
    expect(rows[0].command).toBeNull();
    // The sweep's sweep.json gives the same rows, and a sweep named twice is one set of rows.
    expect(benchmarkTable([join(plan.dir, 'sweep.json'), plan.dir], { resultsDir: join(root, 'results'), cwd: root })).toEqual(rows);
  });

  it('every format carries the grid, the validation metric and the best point', () => {
    const { root, plan } = writeLmSweep();
    const rows = benchmarkTable([plan.dir], { resultsDir: join(root, 'results'), cwd: root });
    const md = formatTable(rows, 'markdown').trimEnd().split('\n').map(markdownCells);
    const head = md[0];
    expect(head).toHaveLength(DISPLAY_COLUMNS.length + 2);
    expect(head.slice(0, 3)).toEqual(['benchmark', 'method', 'grid']);
    expect(head[head.indexOf('n') + 1]).toBe('valid');
    expect(md.slice(2).map((c) => [c[2], c[head.indexOf('valid')]])).toEqual([['lr=0.001', '121.00'], ['lr=0.003', '102.00'], ['lr=0.01', '90.00 (best)']]);
    const csv = parseCsv(formatTable(rows, 'csv'));
    expect(csv[0]).toEqual([...CSV_COLUMNS, ...SWEEP_CSV_COLUMNS]);
    expect(csv.slice(1).map((r) => r.slice(CSV_COLUMNS.length))).toEqual([
      [plan.id, 'train.optimizer.lr=0.001', 'valid_perplexity', '121', 'false'],
      [plan.id, 'train.optimizer.lr=0.003', 'valid_perplexity', '102', 'false'],
      [plan.id, 'train.optimizer.lr=0.01', 'valid_perplexity', '90', 'true'],
    ]);
    expect(JSON.parse(formatTable(rows, 'json'))).toEqual(rows);
    // Keys keep their full path where the last segment is ambiguous.
    expect(gridText({ 'train.optimizer.lr': 0.1, 'steps.1.train.optimizer.lr': 0.2 })).toBe('train.optimizer.lr=0.1, steps.1.train.optimizer.lr=0.2');
    expect(gridText({})).toBe('—');
  });
});
