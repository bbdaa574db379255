// `evnn table` end to end on a folder of fixture runs: every format, the options, errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, DISPLAY_COLUMNS } from '../../src/results/table-format.js';
import { markdownCells, parseCsv, writeFixture, type Fixture } from '../results/table-fixtures.js';
import { evnn } from './helpers.js';

let fx: Fixture;
let opts: string[];

beforeAll(() => {
  fx = writeFixture();
  opts = ['--configs-dir', fx.configsDir, '--results-dir', fx.resultsDir];
});

describe('evnn table', () => {
  it('prints the terminal table by default: one row per paper benchmark', () => {
    const r = evnn(['table', ...opts]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^benchmark +method +dataset +metric +paper +source +evnn +n +gap /);
    expect(lines.slice(2).map((l) => l.split(' ')[0])).toEqual(['acc', 'err', 'lm', 'missing', 'nonfinite', 'steps', 'stopped']);
    const acc = lines.find((l) => l.startsWith('acc '))!;
    expect(acc).toContain('96.00 ± 1.00%  3  -2.00 pp  activity 35.0%, bwd sparsity 45.0%');
    const missing = lines.find((l) => l.startsWith('missing '))!;
    // The command names the --results-dir given.
    expect(missing).toContain(`not run: evnn run ${fx.configsDir}/missing.yaml --results-dir ${fx.resultsDir}`);
    expect(lines.find((l) => l.startsWith('stopped '))!).toContain('stopped after 3/10 epochs; resume: evnn run');
  });

  it('--format markdown: a table with the same number of cells on every line', () => {
    const r = evnn(['table', ...opts, '--format', 'markdown']);
    expect(r.code).toBe(0);
    const cells = r.stdout.trimEnd().split('\n').map(markdownCells);
    expect(cells).toHaveLength(9);
    for (const c of cells) expect(c).toHaveLength(DISPLAY_COLUMNS.length);
    expect(cells.find((c) => c[0] === 'err')![DISPLAY_COLUMNS.indexOf('gap')]).toBe('-1.00 pp');
  });

  it('--format csv and json carry the same rows, numbers as numbers', () => {
    const csv = evnn(['table', ...opts, '--format', 'csv']);
    const json = evnn(['table', ...opts, '--format', 'json']);
    expect([csv.code, json.code]).toEqual([0, 0]);
    const records = parseCsv(csv.stdout);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records.slice(1).map((r) => r[0])).toEqual(rows.map((r) => r.benchmark));
    const acc = rows.find((r) => r.benchmark === 'acc')!;
    expect(acc).toMatchObject({ n: 3, seeds: [1, 2, 3], status: 'finished' });
    expect(acc.value as number).toBeCloseTo(0.96, 12);
    expect(Number(records[1][CSV_COLUMNS.indexOf('std')])).toBeCloseTo(0.01, 12);
  });

  it('takes configs and run directories; --only leaves the configs folder out', () => {
    const r = evnn(['table', '--only', '--results-dir', fx.resultsDir, '--format', 'json', fx.dirs.acc[2], `${fx.configsDir}/nopaper.yaml`]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { benchmark: string; n: number; seeds: number[]; status: string }[];
    expect(rows.map((x) => [x.benchmark, x.n, x.seeds, x.status])).toEqual([['acc', 1, [3], 'finished'], ['nopaper', 0, [], 'not run']]);
  });

  it('an unknown format or a missing target is an error', () => {
    const bad = evnn(['table', ...opts, '--format', 'html']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/argument 'html' is invalid/);
    const missing = evnn(['table', ...opts, 'nowhere.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nowhere\.yaml: no such config file or run directory/);
    const noConfigs = evnn(['table', '--configs-dir', `${fx.root}/none`]);
    expect(noConfigs.code).toBe(1);
    expect(noConfigs.stderr).toMatch(/none: no such folder of configs/);
  });
});
