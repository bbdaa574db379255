// `evnn table`'s rows and formats on a folder of fixture runs (several seeds, one benchmark never
// run, interrupted ones, a language model, a config with steps).
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchmarkTable, lastEpochSparsity, type TableRow } from '../../src/results/table.js';
import { CSV_COLUMNS, DISPLAY_COLUMNS, displayRow, formatDuration, formatTable } from '../../src/results/table-format.js';
import type { SparsityRow } from '../../src/results/sparsity.js';
import { markdownCells, parseCsv, writeFixture, type Fixture } from './table-fixtures.js';

let fx: Fixture;
let rows: TableRow[];
const row = (name: string) => rows.find((r) => r.benchmark === name)!;
const rel = (p: string) => relative(fx.root, p);

beforeAll(() => {
  fx = writeFixture();
  rows = benchmarkTable([], { resultsDir: 'results', configsDir: 'configs', cwd: fx.root });
});

describe('evnn table: rows', () => {
  it('has one row per config of the configs folder that names a paper value, in file order', () => {
    expect(rows.map((r) => r.benchmark)).toEqual(['acc', 'err', 'lm', 'missing', 'nonfinite', 'steps', 'stopped']);
    expect(row('acc')).toMatchObject({ config: 'configs/acc.yaml', method: 'EGRU 2×16', dataset: 'mnist/smnist-rows', paper_source: 'Paper A, Table 1' });
  });

  it('averages the seeds of a benchmark: mean ± sample std, n; another config under the same name is not a seed', () => {
    const r = row('acc');
    // 95, 96, 97%: mean 96%, sample std sqrt((0.01² + 0 + 0.01²) / 2) = 0.01.
    expect(r.value).toBeCloseTo(0.96, 12);
    expect(r.std).toBeCloseTo(0.01, 12);
    expect(r.n).toBe(3);
    expect(r.gap).toBeCloseTo(-0.02, 12);
    expect(r.seeds).toEqual([1, 2, 3]);
    // The config's own seed first, then the others in seed order; the interrupted seed 4 is listed.
    expect(r.run_dirs).toEqual([...fx.dirs.acc, fx.dirs.accStopped].map(rel));
    expect(r.run_dirs).not.toContain(rel(fx.dirs.accOther));
    expect(r.run_dir).toBe(rel(fx.dirs.acc[0]));
    expect(r.status).toBe('finished');
    expect(r.note).toBe('seed 4: stopped after 2/4 epochs');
    expect(r.command).toBe('evnn run configs/acc.yaml --set seed=4');
  });

  it('takes activity and sparsity from the last epoch (means over layers, then over seeds), time per epoch from metrics.arrow', () => {
    const r = row('acc');
    // Layer means a + 0.05 for a = 0.2, 0.3, 0.4; backward sparsity (0.4 + 0.5) / 2.
    expect(r.activity).toBeCloseTo(0.35, 12);
    expect(r.backward_sparsity).toBeCloseTo(0.45, 12);
    expect(r.backward_speedup).toBeCloseTo(3, 12);
    expect([r.delta_x_zero, r.delta_h_zero, r.active_fraction, r.test_activity]).toEqual([null, null, null, null]);
    expect(r.epoch_time_s).toBeCloseTo(2.5, 12);
    expect(r.total_time_s).toBeCloseTo(10.25, 12);
    expect(r.device).toBe('cpu (builtin, avx2, 2 threads)');
  });

  it('compares like with like: test error is 1 − accuracy', () => {
    const r = row('err');
    expect(r.metric).toBe('test_error');
    expect(r.value).toBeCloseTo(0.04, 12);
    expect(r.gap).toBeCloseTo(-0.01, 12);
    expect(r.std).toBeNull();
    expect(r.n).toBe(1);
    expect([r.activity, r.backward_speedup]).toEqual([null, null]);
  });

  it('a benchmark never run says so and gives the command', () => {
    expect(row('missing')).toMatchObject({ status: 'not run', note: 'not run', command: 'evnn run configs/missing.yaml', value: null, n: 0, run_dir: null, runs: [] });
  });

  it('an interrupted run says after how many epochs, with the command that resumes it, and its figures so far', () => {
    expect(row('stopped')).toMatchObject({
      status: 'stopped', note: 'stopped after 3/10 epochs', command: 'evnn run configs/stopped.yaml', value: null, n: 0,
      epoch_time_s: 2.5, total_time_s: 7.5, device: null, run_dir: rel(fx.dirs.stopped),
    });
    expect(row('stopped').activity).toBeCloseTo(0.25, 12);
    expect(row('nonfinite')).toMatchObject({ status: 'stopped', note: 'stopped: non-finite loss after 1/5 epochs', command: null, value: null });
  });

  it('a language model: perplexity, its gap in perplexity, the test activity of summary.json', () => {
    const r = row('lm');
    expect(r).toMatchObject({ metric: 'test_perplexity', value: 110, gap: 10, n: 1, method: 'EGRU LM 16-8', dataset: 'ptb' });
    expect(r.test_activity).toBeCloseTo(0.2, 12);
  });

  it('a config with steps: the eval result, the last training step, every step\'s time', () => {
    const r = row('steps');
    // Seeds 1 and 2 (found through their config.yaml with steps): 93% and 95%.
    expect(r).toMatchObject({ n: 2, seeds: [1, 2], status: 'finished', note: '', run_dir: rel(fx.dirs.steps[0]) });
    expect(r.value).toBeCloseTo(0.94, 12);
    expect(r.std).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(r.runs[0]).toMatchObject({ step: 'retrain', epochs_run: 3, epochs: 3 });
    expect(r.total_time_s).toBeCloseTo(5.25 + 7.75 + 1.5, 12);
  });

  it('configs and run directories given: a config without a paper value, a run directory on its own, a folder of runs', () => {
    const given = benchmarkTable(['configs/nopaper.yaml', 'configs/acc.yaml', rel(fx.dirs.acc[1]), 'results/acc'], { resultsDir: 'results', cwd: fx.root });
    expect(given.map((r) => [r.benchmark, r.n, r.run_dirs.length])).toEqual([
      ['nopaper', 0, 0],
      ['acc', 3, 4],
      ['acc', 1, 1], // the run directory alone
      ['acc', 3, 4], // results/acc: the benchmark's runs (grouped by config apart from the seed)...
      ['acc', 1, 1], // ...and the other config's run
    ]);
    expect(given[0]).toMatchObject({ metric: 'test_accuracy', paper_value: null, gap: null, config: 'configs/nopaper.yaml' });
    expect(given[2]).toMatchObject({ config: null, command: null, seeds: [2] });
    expect(given[2].value).toBeCloseTo(0.96, 12);
    expect(given[4].value).toBe(0.5);
    // The configs folder's rows come first; a config given that is among them is not repeated.
    const both = benchmarkTable(['configs/acc.yaml', 'configs/nopaper.yaml'], { resultsDir: 'results', configsDir: 'configs', cwd: fx.root });
    expect(both.map((r) => r.benchmark)).toEqual(['acc', 'err', 'lm', 'missing', 'nonfinite', 'steps', 'stopped', 'nopaper']);
    expect(() => benchmarkTable(['nowhere.yaml'], { resultsDir: 'results', cwd: fx.root })).toThrow(/nowhere\.yaml: no such config file or run directory/);
    expect(() => benchmarkTable(['configs'], { resultsDir: 'results', cwd: fx.root })).toThrow(/not a run directory/);
  });

  it('commands name a --results-dir that is not the default', () => {
    const r = benchmarkTable(['configs/missing.yaml'], { resultsDir: 'results', cwd: fx.root, resultsDirArg: 'results' });
    expect(r[0].command).toBe('evnn run configs/missing.yaml --results-dir results');
  });

  it('sparsity of other families: delta networks\' zero Δx and Δh, S3GD\'s active fraction and backward MACs', () => {
    const base = { epoch: 1, activity: NaN, backward_sparsity: NaN, macs_forward: NaN, macs_forward_dense: NaN };
    const rowsIn: SparsityRow[] = [
      { ...base, epoch: 0, layer: 'rnn.0', family: 'delta', active_fraction: NaN, delta_x_zero: 0, delta_h_zero: 0, macs_backward: NaN, macs_backward_dense: NaN },
      { ...base, layer: 'rnn.0', family: 'delta', active_fraction: NaN, delta_x_zero: 0.6, delta_h_zero: 0.8, macs_backward: NaN, macs_backward_dense: NaN },
      { ...base, layer: 'rnn.1', family: 's3gd', active_fraction: 0.1, delta_x_zero: NaN, delta_h_zero: NaN, macs_backward: 10, macs_backward_dense: 40 },
      { ...base, layer: 'rnn.2', family: 's3gd', active_fraction: 0.3, delta_x_zero: NaN, delta_h_zero: NaN, macs_backward: 30, macs_backward_dense: 80 },
    ];
    const s = lastEpochSparsity(rowsIn);
    expect(s).toEqual({ activity: null, backward_sparsity: null, delta_x_zero: 0.6, delta_h_zero: 0.8, active_fraction: 0.2, backward_speedup: 3 });
  });
});

describe('evnn table: formats', () => {
  it('shows percentages for fractions, mean ± std, signed gaps and durations', () => {
    const acc = displayRow(row('acc'));
    expect(acc).toMatchObject({
      metric: 'test accuracy', paper: '98.00%', evnn: '96.00 ± 1.00%', n: '3', gap: '-2.00 pp',
      'activity / sparsity': 'activity 35.0%, bwd sparsity 45.0%', 'time / epoch': '2.5 s', total: '10.3 s',
      status: 'finished; seed 4: stopped after 2/4 epochs; resume: evnn run configs/acc.yaml --set seed=4',
      run: `${rel(fx.dirs.acc[0])} (+3 more)`,
    });
    expect(displayRow(row('err'))).toMatchObject({ metric: 'test error', paper: '5.00%', evnn: '4.00%', gap: '-1.00 pp' });
    expect(displayRow(row('lm'))).toMatchObject({ paper: '100.00', evnn: '110.00', gap: '+10.00', 'activity / sparsity': 'activity 25.0% (test 20.0%), bwd sparsity 45.0%' });
    expect(displayRow(row('missing'))).toMatchObject({ evnn: 'not run', status: 'not run: evnn run configs/missing.yaml', run: '—', device: '—' });
    expect(displayRow(row('stopped'))).toMatchObject({ evnn: 'stopped', status: 'stopped after 3/10 epochs; resume: evnn run configs/stopped.yaml' });
    expect([12.34, 65, 3725, 2 * 86400 + 3 * 3600].map(formatDuration)).toEqual(['12.3 s', '1 min 05 s', '1 h 02 min', '2 d 03 h']);
  });

  it('text: aligned columns under a header', () => {
    const lines = formatTable(rows, 'text').trimEnd().split('\n');
    expect(lines).toHaveLength(rows.length + 2);
    expect(lines[1]).toMatch(/^-+( {2}-+)+$/);
    // Every column starts at the same offset on every line.
    const starts = [...lines[1].matchAll(/-+/g)].map((m) => m.index);
    for (const l of [lines[0], ...lines.slice(2)]) for (const s of starts.slice(1)) expect(l[s - 1]).toBe(' ');
    expect(lines[0].startsWith('benchmark')).toBe(true);
  });

  it('markdown: a GitHub table, the same number of cells on every line, pipes escaped', () => {
    const lines = formatTable(rows, 'markdown').trimEnd().split('\n');
    expect(lines).toHaveLength(rows.length + 2);
    for (const l of lines) expect(l).toMatch(/^\| .* \|$/);
    const cells = lines.map(markdownCells);
    for (const c of cells) expect(c).toHaveLength(DISPLAY_COLUMNS.length);
    expect(cells[0]).toEqual([...DISPLAY_COLUMNS]);
    expect(cells[1].every((c) => c === '---')).toBe(true);
    const err = cells.find((c) => c[0] === 'err')!;
    expect(err[DISPLAY_COLUMNS.indexOf('source')]).toBe('Paper B | errors');
    expect(cells.find((c) => c[0] === 'acc')![DISPLAY_COLUMNS.indexOf('evnn')]).toBe('96.00 ± 1.00%');
  });

  it('csv: RFC 4180, round-trips through a parser', () => {
    const text = formatTable(rows, 'csv');
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parseCsv(text);
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(rows.length + 1);
    for (const [i, r] of rows.entries()) {
      const rec = Object.fromEntries(CSV_COLUMNS.map((c, j) => [c, records[i + 1][j]]));
      for (const c of CSV_COLUMNS) {
        const v = r[c];
        expect(rec[c]).toBe(v === null ? '' : Array.isArray(v) ? v.join(';') : String(v));
      }
      // Numbers read back exactly.
      if (r.value !== null) expect(Number(rec.value)).toBe(r.value);
    }
    // A quote and a comma inside a field.
    const tricky = { ...rows[0], paper_source: 'He said "hi", twice\nthen left' };
    expect(parseCsv(formatTable([tricky], 'csv'))[1][CSV_COLUMNS.indexOf('paper_source')]).toBe('He said "hi", twice\nthen left');
  });

  it('json: an array of the row objects, numbers as numbers', () => {
    const parsed = JSON.parse(formatTable(rows, 'json')) as TableRow[];
    expect(parsed).toEqual(rows);
    expect(typeof parsed[0].value).toBe('number');
    expect(parsed.find((r) => r.benchmark === 'missing')!.value).toBeNull();
    expect(join(fx.root, parsed[0].run_dir!)).toBe(fx.dirs.acc[0]);
  });
});
