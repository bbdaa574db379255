// The formats of `evnn table`: an aligned terminal table, a GitHub markdown table (both with the
// figures as people read them: percentages, durations), CSV (RFC 4180) and JSON (both with the
// row's fields as numbers: fractions as fractions, seconds as seconds). A table with a sweep's rows
// has more columns: the grid's values, the validation metric and which point is best by it.
import type { TableRow } from './table.js';

export const TABLE_FORMATS = ['text', 'markdown', 'csv', 'json'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** The table in a format, ending with a newline. */
export function formatTable(rows: readonly TableRow[], format: TableFormat): string {
  switch (format) {
    case 'text':
      return textTable(displayRows(rows));
    case 'markdown':
      return markdownTable(displayRows(rows));
    case 'csv':
      return csvTable(rows);
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
  }
}

/** The columns of the terminal and markdown tables. */
export const DISPLAY_COLUMNS = [
  'benchmark', 'method', 'dataset', 'metric', 'paper', 'source', 'evnn', 'n', 'gap', 'activity / sparsity',
  'device', 'time / epoch', 'total', 'status', 'run',
] as const;

const DASH = '—';
const FRACTION_METRICS = new Set(['test_accuracy', 'test_error']);

const pct = (x: number, digits: number) => `${(100 * x).toFixed(digits)}%`;
const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(digits)}`;

/** "12.3 s", "4 min 05 s", "3 h 02 min", "2 d 03 h". */
export function formatDuration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const two = (n: number) => String(n).padStart(2, '0');
  const t = Math.round(s);
  if (t < 3600) return `${Math.floor(t / 60)} min ${two(t % 60)} s`;
  if (t < 86400) return `${Math.floor(t / 3600)} h ${two(Math.floor((t % 3600) / 60))} min`;
  return `${Math.floor(t / 86400)} d ${two(Math.floor((t % 86400) / 3600))} h`;
}

/** A metric value: accuracy and error in percent, perplexity as a number; "mean ± std" over seeds. */
function metricText(metric: string, value: number, std: number | null): string {
  if (FRACTION_METRICS.has(metric)) return std === null ? pct(value, 2) : `${(100 * value).toFixed(2)} ± ${(100 * std).toFixed(2)}%`;
  return std === null ? value.toFixed(2) : `${value.toFixed(2)} ± ${std.toFixed(2)}`;
}

function gapText(r: TableRow): string {
  if (r.gap === null) return DASH;
  return FRACTION_METRICS.has(r.metric) ? `${signed(100 * r.gap, 2)} pp` : signed(r.gap, 2);
}

/** The figures each family reports: EGRU activity and backward sparsity, delta networks' zero Δx and Δh, S3GD's active fraction and backward speed-up. */
function sparsityText(r: TableRow): string {
  const parts: string[] = [];
  if (r.activity !== null) parts.push(`activity ${pct(r.activity, 1)}${r.test_activity !== null ? ` (test ${pct(r.test_activity, 1)})` : ''}`);
  else if (r.test_activity !== null) parts.push(`test activity ${pct(r.test_activity, 1)}`);
  if (r.backward_sparsity !== null) parts.push(`bwd sparsity ${pct(r.backward_sparsity, 1)}`);
  if (r.delta_x_zero !== null) parts.push(`Δx zero ${pct(r.delta_x_zero, 1)}`);
  if (r.delta_h_zero !== null) parts.push(`Δh zero ${pct(r.delta_h_zero, 1)}`);
  if (r.active_fraction !== null) {
    parts.push(`active ${pct(r.active_fraction, 1)}`);
    if (r.backward_speedup !== null) parts.push(`bwd ×${r.backward_speedup.toFixed(2)} (MACs)`);
  }
  return parts.length > 0 ? parts.join(', ') : DASH;
}

function statusText(r: TableRow): string {
  if (r.status === 'not run') return r.command ? `not run: ${r.command}` : 'not run';
  const parts: string[] = r.status === 'finished' ? ['finished'] : [];
  if (r.note !== '') parts.push(r.note);
  if (r.command) parts.push(`resume: ${r.command}`);
  return parts.join('; ');
}

/** A row as the terminal and markdown tables show it. */
export function displayRow(r: TableRow): Record<(typeof DISPLAY_COLUMNS)[number], string> {
  const orDash = (s: string | null) => (s === null || s === '' ? DASH : s);
  return {
    benchmark: r.benchmark,
    method: r.method,
    dataset: r.dataset,
    metric: r.metric.replace('_', ' '),
    paper: r.paper_value === null ? DASH : metricText(r.metric, r.paper_value, null),
    source: orDash(r.paper_source),
    evnn: r.value !== null ? metricText(r.metric, r.value, r.std) : r.status === 'finished' ? DASH : r.status,
    n: String(r.n),
    gap: gapText(r),
    'activity / sparsity': sparsityText(r),
    device: orDash(r.device),
    'time / epoch': r.epoch_time_s === null ? DASH : formatDuration(r.epoch_time_s),
    total: r.total_time_s === null ? DASH : formatDuration(r.total_time_s),
    status: statusText(r),
    run: r.run_dir === null ? DASH : r.run_dirs.length > 1 ? `${r.run_dir} (+${r.run_dirs.length - 1} more)` : r.run_dir,
  };
}

/** The columns a sweep's rows add: after method, the grid's values; after n, the validation metric (best marked). */
export const SWEEP_DISPLAY_COLUMNS = { grid: 'method', valid: 'n' } as const;

const hasSweep = (rows: readonly TableRow[]) => rows.some((r) => r.grid !== undefined);

/** "hidden_size=64, lr=0.01": each key by its last segment when that names one key of the table alone. */
export function gridText(grid: Record<string, unknown> | undefined, allKeys: readonly string[] = Object.keys(grid ?? {})): string {
  const entries = Object.entries(grid ?? {});
  if (entries.length === 0) return DASH;
  const last = (k: string) => k.split('.').pop()!;
  const short = (k: string) => (allKeys.filter((o) => last(o) === last(k)).length === 1 ? last(k) : k);
  return entries.map(([k, v]) => `${short(k)}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

function validText(r: TableRow): string {
  if (r.valid_value === null || r.valid_value === undefined) return DASH;
  const v = r.valid_metric === 'valid_perplexity' ? r.valid_value.toFixed(2) : pct(r.valid_value, 2);
  return r.best ? `${v} (best)` : v;
}

function displayRows(rows: readonly TableRow[]): string[][] {
  if (!hasSweep(rows)) return [[...DISPLAY_COLUMNS], ...rows.map((r) => Object.values(displayRow(r)))];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.grid ?? {})))];
  const withSweep = (cells: Record<string, string>, r: TableRow | null): string[] =>
    Object.entries(cells).flatMap(([c, v]) => {
      if (c === SWEEP_DISPLAY_COLUMNS.grid) return [v, r ? (r.grid === undefined ? DASH : gridText(r.grid, keys)) : 'grid'];
      if (c === SWEEP_DISPLAY_COLUMNS.valid) return [v, r ? validText(r) : 'valid'];
      return [v];
    });
  const head = withSweep(Object.fromEntries(DISPLAY_COLUMNS.map((c) => [c, c])), null);
  return [head, ...rows.map((r) => withSweep(displayRow(r), r))];
}

function textTable(lines: string[][]): string {
  const widths = lines[0].map((_, j) => Math.max(...lines.map((l) => l[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd();
  return [line(lines[0]), line(widths.map((w) => '-'.repeat(w))), ...lines.slice(1).map(line)].join('\n') + '\n';
}

function markdownTable(lines: string[][]): string {
  const cell = (c: string) => c.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(lines[0]), line(lines[0].map(() => '---')), ...lines.slice(1).map(line)].join('\n') + '\n';
}

/** The CSV's columns: every field of a row but `runs`; lists are joined with ";". */
export const CSV_COLUMNS = [
  'benchmark', 'config', 'method', 'dataset', 'metric', 'paper_value', 'paper_source', 'value', 'std', 'n', 'gap',
  'activity', 'test_activity', 'backward_sparsity', 'delta_x_zero', 'delta_h_zero', 'active_fraction', 'backward_speedup',
  'device', 'epoch_time_s', 'total_time_s', 'status', 'note', 'command', 'run_dir', 'seeds', 'run_dirs',
] as const satisfies readonly (keyof TableRow)[];

/** RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled; records end with CRLF. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(';') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV's columns after CSV_COLUMNS when the table has a sweep's rows; grid is "key=value;key=value". */
export const SWEEP_CSV_COLUMNS = ['sweep', 'grid', 'valid_metric', 'valid_value', 'best'] as const satisfies readonly (keyof TableRow)[];

function csvValue(r: TableRow, c: (typeof CSV_COLUMNS)[number] | (typeof SWEEP_CSV_COLUMNS)[number]): unknown {
  if (c === 'grid') return r.grid === undefined ? null : Object.entries(r.grid).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return r[c];
}

function csvTable(rows: readonly TableRow[]): string {
  const columns = hasSweep(rows) ? [...CSV_COLUMNS, ...SWEEP_CSV_COLUMNS] : [...CSV_COLUMNS];
  const records = [columns.join(','), ...rows.map((r) => columns.map((c) => csvField(csvValue(r, c))).join(','))];
  return records.map((l) => `${l}\r\n`).join('');
}
