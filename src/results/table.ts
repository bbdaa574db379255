// `evnn table`: one row per paper benchmark, evnn's measured number next to the paper's. A row is
// a config (every config of configs/ that names a paper value, and any config given) with all its
// runs: the config's own run and the same config run with other seeds (results/<name>/seed*-*/
// whose config.yaml is the config apart from its seed); or the runs found in a directory given
// (a run directory is a row of its own). The figures come from the files each run writes:
// summary.json (the test metric, total time, backend, an LM's test activity), eval/result.json
// (the test metric of a config with steps), metrics.arrow (time per epoch, epochs of an
// interrupted run) and sparsity.arrow (the last epoch's activity and sparsity, means over layers).
// A sweep (its directory or its sweep.json, written by `evnn sweep`) gives one row per grid point:
// its seeds' runs, the grid's values, the mean validation metric, and which point is best by it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { configHash, isTrainingStepConfig, loadConfig, parseConfigText, type Config, type PaperConfig } from '../config/index.js';
import { planRun } from './run-plan.js';
import { readEvalResult } from './eval-result.js';
import { MetricsTable, type MetricRow } from './metrics.js';
import { runIdFor } from './run-dir.js';
import { SparsityTable, type SparsityRow } from './sparsity.js';
import { readSummary, type Summary } from './summary.js';
import { isSweepPath, readSweepFile } from './sweep-file.js';
import { canonicalJson } from '../util/canonical.js';
import type { SweepPlan, SweepPoint } from './sweep-plan.js';

export type TableMetric = PaperConfig['metric'];

/** The activity, sparsity and time figures of a run, and of a row (there: means over its runs). */
export interface RunFigures {
  activity: number | null;
  test_activity: number | null;
  backward_sparsity: number | null;
  delta_x_zero: number | null;
  delta_h_zero: number | null;
  active_fraction: number | null;
  backward_speedup: number | null;
  device: string | null;
  epoch_time_s: number | null;
  total_time_s: number | null;
}

/** One run of a row: a seed's run directory and what it holds. */
export interface TableRun extends RunFigures {
  seed: number;
  dir: string;
  /** finished; stopped (interrupted); stopped-nonfinite (a non-finite loss); unreadable (a damaged file). */
  status: 'finished' | 'stopped' | 'stopped-nonfinite' | 'unreadable';
  /** The training step the run finished with or stopped in (configs with steps only). */
  step: string | null;
  epochs_run: number;
  epochs: number;
  /** The test metric in the row's terms (accuracy, error or perplexity); null unless finished. */
  value: number | null;
  /** Why there is no value, or how the run stopped; "" when finished. */
  note: string;
}

/**
 * A row of the table (also the JSON output's objects). Its RunFigures are means over the finished
 * runs (over the stopped ones when none finished).
 */
export interface TableRow extends RunFigures {
  benchmark: string;
  /** The config file as given (relative to the working directory when inside it); null for a directory of runs. */
  config: string | null;
  method: string;
  dataset: string;
  /** The paper's metric, or the run's own (test_accuracy, test_perplexity) when the config names no paper value. */
  metric: TableMetric;
  paper_value: number | null;
  paper_source: string | null;
  /** Mean of the finished runs' values; std is the sample standard deviation (n − 1), null below 2 runs. */
  value: number | null;
  std: number | null;
  n: number;
  /** value − paper_value in the metric's units (fractions for accuracy and error). */
  gap: number | null;
  /** finished: at least one run finished; stopped: runs exist, none finished; not run: none exists. */
  status: 'finished' | 'stopped' | 'not run';
  /** "stopped after 3/10 epochs", "seed 2: stopped after …", "" when every run finished. */
  note: string;
  /** The command that runs (or resumes) the benchmark; null when there is nothing to run. */
  command: string | null;
  /** The config's own seed's run (else the first), and every run directory of the row. */
  run_dir: string | null;
  seeds: number[];
  run_dirs: string[];
  runs: TableRun[];
  /** A sweep's row only (`evnn table <sweep>`): the sweep's id. */
  sweep?: string;
  /** A sweep's row only: the grid's values at this point, by dotted config key ({} for a sweep over seeds alone). */
  grid?: Record<string, unknown>;
  /** A sweep's row only: the validation metric (the task metric on the valid split, at each run's best epoch). */
  valid_metric?: 'valid_accuracy' | 'valid_perplexity';
  /** A sweep's row only: its mean over the finished runs (summary.json's metric.best_valid); null when none finished. */
  valid_value?: number | null;
  /** A sweep's row only: the best point by valid_value (highest accuracy, lowest perplexity), when two or more points have one. */
  best?: boolean;
}

export interface TableOptions {
  /** Where `evnn run` writes runs (the --results-dir). */
  resultsDir: string;
  /** The folder whose configs with a paper value are rows of their own; absent: none. */
  configsDir?: string;
  /** Paths are shown relative to this directory when inside it (default: the process's). */
  cwd?: string;
  /** The --results-dir as the user wrote it, for the commands the table suggests (default: none, the CLI's default). */
  resultsDirArg?: string;
}

/** The table's rows: the paper configs of configsDir, then each argument (a config file or a directory of runs). */
export function benchmarkTable(args: readonly string[], opts: TableOptions): TableRow[] {
  const cwd = opts.cwd ?? process.cwd();
  const ctx: Ctx = { resultsDir: resolve(cwd, opts.resultsDir), cwd, resultsDirArg: opts.resultsDirArg };
  const rows: TableRow[] = [];
  const seenConfigs = new Set<string>();
  const seenKeys = new Set<string>();
  const addConfig = (file: string, cfg: Config) => {
    const key = identityKey(cfg);
    seenConfigs.add(resolve(cwd, file));
    if (seenKeys.has(key)) return;
    seenKeys.add(key);
    rows.push(configRow(file, cfg, ctx));
  };
  if (opts.configsDir !== undefined) {
    const dir = resolve(cwd, opts.configsDir);
    for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n)).sort()) {
      const file = join(dir, f);
      const cfg = loadConfig(file);
      if (cfg.paper) addConfig(shown(file, cwd), cfg);
    }
  }
  for (const arg of args) {
    const path = resolve(cwd, arg);
    if (!existsSync(path)) throw new Error(`${arg}: no such config file or run directory`);
    if (isSweepPath(path)) {
      const plan = readSweepFile(path);
      const key = `sweep|${plan.id}`;
      if (seenKeys.has(key)) continue;
      seenKeys.add(key);
      rows.push(...sweepRows(plan, ctx));
    } else if (statSync(path).isDirectory()) {
      const runs = collectRunDirs(path, 2);
      if (runs.length === 0) throw new Error(`${arg}: not a run directory (no config.yaml in it or in the folders below it)`);
      for (const group of groupRuns(runs)) {
        const key = `${identityKey(group.cfg)}|${group.dirs.join('|')}`;
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
        rows.push(dirRow(group.cfg, group.dirs, ctx));
      }
    } else if (!seenConfigs.has(path)) {
      addConfig(shown(path, cwd), loadConfig(path));
    }
  }
  return rows;
}

interface Ctx {
  resultsDir: string;
  cwd: string;
  resultsDirArg?: string;
}

/** A config's identity apart from its seed: runs with equal keys are seeds of one benchmark. */
function identityKey(cfg: Config): string {
  return `${cfg.name}/${configHash({ ...cfg, seed: 0 })}`;
}

/** A path relative to cwd when it lies inside it, else absolute. */
function shown(path: string, cwd: string): string {
  const r = relative(cwd, path);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? path : r;
}

const RUN_ID = /^seed(\d+)-[0-9a-f]{8}$/;

/** The run's resolved config (its config.yaml), or null when it has none or it no longer validates. */
function runConfig(dir: string): Config | null {
  const file = join(dir, 'config.yaml');
  if (!existsSync(file)) return null;
  try {
    return parseConfigText(readFileSync(file, 'utf8'), file);
  } catch {
    return null;
  }
}

/** The run directories of `cfg` under resultsDir: its own seed's, then the other seeds' in seed order. */
function runsOf(cfg: Config, ctx: Ctx): string[] {
  const base = join(ctx.resultsDir, cfg.name);
  if (!existsSync(base)) return [];
  const own = runIdFor(cfg);
  const key = identityKey(cfg);
  const found: { seed: number; dir: string }[] = [];
  for (const id of readdirSync(base)) {
    const m = RUN_ID.exec(id);
    const dir = join(base, id);
    if (!m || !statSync(dir).isDirectory()) continue;
    if (id === own) {
      found.push({ seed: cfg.seed, dir });
      continue;
    }
    const other = runConfig(dir);
    if (other && other.name === cfg.name && identityKey(other) === key && runIdFor(other) === id) found.push({ seed: other.seed, dir });
  }
  const ownDir = join(base, own);
  const rank = (f: { dir: string }) => (f.dir === ownDir ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || a.seed - b.seed).map((f) => f.dir);
}

/** Run directories (ones with a config.yaml) at dir or up to `depth` levels below it. */
function collectRunDirs(dir: string, depth: number): string[] {
  if (existsSync(join(dir, 'config.yaml'))) return [dir];
  if (depth === 0) return [];
  return readdirSync(dir)
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .flatMap((p) => collectRunDirs(p, depth - 1));
}

/** Runs grouped by config identity apart from the seed, in the order first seen, each group by seed. */
function groupRuns(dirs: readonly string[]): { cfg: Config; dirs: string[] }[] {
  const groups = new Map<string, { cfg: Config; runs: { seed: number; dir: string }[] }>();
  for (const dir of dirs) {
    const cfg = runConfig(dir);
    if (!cfg) throw new Error(`${dir}: its config.yaml is not a valid config (written by another version of evnn?)`);
    const key = identityKey(cfg);
    const g = groups.get(key) ?? { cfg, runs: [] };
    g.runs.push({ seed: cfg.seed, dir });
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const runs = g.runs.sort((a, b) => a.seed - b.seed);
    return { cfg: runConfig(runs[0].dir)!, dirs: runs.map((r) => r.dir) };
  });
}

function configRow(file: string, cfg: Config, ctx: Ctx): TableRow {
  const runs = runsOf(cfg, ctx);
  const cmd = (seed: number) =>
    `evnn run ${file}${seed === cfg.seed ? '' : ` --set seed=${seed}`}${ctx.resultsDirArg !== undefined ? ` --results-dir ${ctx.resultsDirArg}` : ''}`;
  return buildRow(cfg, file, runs, ctx, cmd);
}

function dirRow(cfg: Config, dirs: string[], ctx: Ctx): TableRow {
  return buildRow(cfg, null, dirs, ctx, null);
}

/**
 * A sweep's rows: one per grid point (in the sweep's order), its seeds' runs aggregated like a
 * config's; the best point by the mean validation metric is marked. A point whose run is not there
 * yet is noted, and the row's command resubmits the sweep.
 */
function sweepRows(plan: SweepPlan, ctx: Ctx): TableRow[] {
  const groups = new Map<string, SweepPoint[]>();
  for (const p of plan.points) {
    const key = canonicalJson(p.grid);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const resubmit = `evnn sweep resubmit ${shown(plan.dir, ctx.cwd)}`;
  const rows = [...groups.values()].map((points): TableRow => {
    if (!existsSync(points[0].configFile)) throw new Error(`${points[0].configFile}: the sweep's point config is missing (was the sweep directory moved?)`);
    const cfg = loadConfig(points[0].configFile);
    const started = points.filter((p) => existsSync(join(p.runDir, 'config.yaml')));
    const row = buildRow(cfg, null, started.map((p) => p.runDir), ctx, null);
    const missing = points.filter((p) => !started.includes(p)).map((p) => `seed ${p.seed}: not started`);
    const note = [row.note === 'not run' ? '' : row.note, ...missing].filter((n) => n !== '').join('; ');
    const unfinished = row.runs.length < points.length || row.runs.some((r) => r.status !== 'finished');
    const valid = started.map((p, i) => (row.runs[i].status === 'finished' && row.runs[i].value !== null ? bestValid(p.runDir) : null)).filter((v) => v !== null);
    const perplexity = valid.length > 0 ? valid[0].name === 'perplexity' : cfg.model.type === 'language-model';
    const { benchmark, config, method, ...rest } = row;
    return {
      benchmark, config, method, sweep: plan.id, grid: points[0].grid, ...rest,
      note: row.runs.length === 0 ? 'not run' : note,
      command: unfinished ? resubmit : null,
      valid_metric: perplexity ? 'valid_perplexity' : 'valid_accuracy',
      valid_value: valid.length > 0 ? mean(valid.map((v) => v.value)) : null,
      best: false,
    };
  });
  const scored = rows.filter((r) => r.valid_value !== null && r.valid_value !== undefined);
  if (scored.length >= 2) {
    const lower = scored[0].valid_metric === 'valid_perplexity';
    const best = scored.reduce((a, r) => ((lower ? r.valid_value! < a.valid_value! : r.valid_value! > a.valid_value!) ? r : a));
    best.best = true;
  }
  return rows;
}

/** The validation metric at the best epoch of a finished run's last training step. */
function bestValid(dir: string): { name: 'accuracy' | 'perplexity'; value: number } | null {
  const cfg = runConfig(dir);
  if (!cfg) return null;
  const plan = planRun(cfg, '/');
  const last = [...plan.steps].reverse().find((s) => s.kind === 'train');
  if (!last) return null;
  const file = join(dir, relative(plan.runDir, last.dir), 'summary.json');
  if (!existsSync(file)) return null;
  const m = readSummary(file).metric;
  return m.best_valid === null ? null : { name: m.name, value: m.best_valid };
}

function buildRow(cfg: Config, file: string | null, dirs: readonly string[], ctx: Ctx, command: ((seed: number) => string) | null): TableRow {
  const metric: TableMetric = cfg.paper?.metric ?? (cfg.model.type === 'language-model' ? 'test_perplexity' : 'test_accuracy');
  const runs = dirs.map((d) => readRun(d, metric, ctx));
  const finished = runs.filter((r) => r.status === 'finished' && r.value !== null);
  const figured = finished.length > 0 ? finished : runs.filter((r) => r.status !== 'unreadable');
  const values = finished.map((r) => r.value!);
  const value = values.length > 0 ? mean(values) : null;
  const paper = cfg.paper ?? null;
  const status: TableRow['status'] = runs.length === 0 ? 'not run' : finished.length > 0 ? 'finished' : 'stopped';
  const several = runs.length > 1;
  const notes = runs.filter((r) => r.note !== '').map((r) => (several ? `seed ${r.seed}: ${r.note}` : r.note));
  let cmd: string | null = null;
  if (command) {
    if (runs.length === 0) cmd = command(cfg.seed);
    else {
      const resumable = runs.filter((r) => r.status === 'stopped');
      if (resumable.length > 0) cmd = resumable.map((r) => command(r.seed)).join('; ');
    }
  }
  const avg = (f: (r: TableRun) => number | null) => {
    const v = figured.map(f).filter((x): x is number => x !== null);
    return v.length > 0 ? mean(v) : null;
  };
  const devices = [...new Set(figured.map((r) => r.device).filter((d): d is string => d !== null))];
  return {
    benchmark: cfg.name,
    config: file,
    method: methodOf(cfg),
    dataset: cfg.data.view ? `${cfg.data.dataset}/${cfg.data.view}` : cfg.data.dataset,
    metric,
    paper_value: paper ? paper.value : null,
    paper_source: paper?.source ?? null,
    value,
    std: values.length > 1 ? sampleStd(values) : null,
    n: values.length,
    gap: value !== null && paper ? value - paper.value : null,
    activity: avg((r) => r.activity),
    test_activity: avg((r) => r.test_activity),
    backward_sparsity: avg((r) => r.backward_sparsity),
    delta_x_zero: avg((r) => r.delta_x_zero),
    delta_h_zero: avg((r) => r.delta_h_zero),
    active_fraction: avg((r) => r.active_fraction),
    backward_speedup: avg((r) => r.backward_speedup),
    device: devices.length > 0 ? devices.join('; ') : null,
    epoch_time_s: avg((r) => r.epoch_time_s),
    total_time_s: avg((r) => r.total_time_s),
    status,
    note: runs.length === 0 ? 'not run' : notes.join('; '),
    command: cmd,
    run_dir: runs.length > 0 ? runs[0].dir : null,
    seeds: finished.map((r) => r.seed),
    run_dirs: runs.map((r) => r.dir),
    runs,
  };
}

const FAMILY_NAMES: Record<string, string> = { gru: 'GRU', lstm: 'LSTM', egru: 'EGRU' };

/** "EGRU 590", "GRU 2×128", "EGRU LM 1350-1350-750", "LIF S3GD 200-200" (the last training step's model). */
export function methodOf(cfg: Config): string {
  const steps = (cfg.steps ?? []).filter(isTrainingStepConfig);
  const m = steps.length > 0 ? steps[steps.length - 1].model : cfg.model;
  if (!m.rnn) {
    const snn = m.snn!;
    return `LIF ${snn.backward === 's3gd' ? 'S3GD' : 'BPTT'} ${snn.hidden_sizes.join('-')}`;
  }
  const family = FAMILY_NAMES[m.rnn.type] ?? m.rnn.type;
  const L = m.rnn.num_layers;
  if (m.type === 'language-model') {
    const sizes = [...new Array<number>(L - 1).fill(m.rnn.hidden_size), m.emb_dim!];
    return `${family} LM ${sizes.join('-')}`;
  }
  return `${family} ${L > 1 ? `${L}×` : ''}${m.rnn.hidden_size}`;
}

export function mean(v: readonly number[]): number {
  return v.reduce((a, x) => a + x, 0) / v.length;
}

/** Sample standard deviation (divides by n − 1). */
export function sampleStd(v: readonly number[]): number {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1));
}

/** A run's test metric in the row's terms, or why it has none. */
function inRowTerms(measured: { name: 'accuracy' | 'perplexity'; value: number | null }, metric: TableMetric): { value: number | null; note: string } {
  const wants = metric === 'test_perplexity' ? 'perplexity' : 'accuracy';
  if (measured.name !== wants) return { value: null, note: `measures ${measured.name}, not ${metric.replace('_', ' ')}` };
  if (measured.value === null) return { value: null, note: 'no test result' };
  return { value: metric === 'test_error' ? 1 - measured.value : measured.value, note: '' };
}

interface StepFiles {
  name: string;
  dir: string;
  epochs: number;
  summary: Summary | null;
  metrics: MetricRow[];
  sparsity: SparsityRow[];
  started: boolean;
}

function readStepFiles(name: string, dir: string, epochs: number): StepFiles {
  const at = (f: string) => join(dir, f);
  return {
    name,
    dir,
    epochs,
    summary: existsSync(at('summary.json')) ? readSummary(at('summary.json')) : null,
    metrics: existsSync(at('metrics.arrow')) ? MetricsTable.read(at('metrics.arrow')).rows : [],
    sparsity: existsSync(at('sparsity.arrow')) ? SparsityTable.read(at('sparsity.arrow')).rows : [],
    started: existsSync(dir),
  };
}

const EMPTY_FIGURES = {
  activity: null, test_activity: null, backward_sparsity: null, delta_x_zero: null, delta_h_zero: null,
  active_fraction: null, backward_speedup: null, device: null, epoch_time_s: null, total_time_s: null,
} as const;

/** One run directory: its training steps' files (and eval/result.json), read into the row's figures. */
function readRun(dir: string, metric: TableMetric, ctx: Ctx): TableRun {
  const cfg = runConfig(dir);
  const seed = cfg?.seed ?? Number(RUN_ID.exec(basename(dir))?.[1] ?? NaN);
  const shownDir = shown(dir, ctx.cwd);
  const base = { seed, dir: shownDir, step: null, epochs_run: 0, epochs: 0, value: null, ...EMPTY_FIGURES };
  if (!cfg) return { ...base, status: 'unreadable', note: `${join(shownDir, 'config.yaml')}: missing or not a valid config` };
  try {
    return readRunFiles(dir, cfg, metric, shownDir);
  } catch (err) {
    return { ...base, status: 'unreadable', note: (err as Error).message };
  }
}

function readRunFiles(dir: string, cfg: Config, metric: TableMetric, shownDir: string): TableRun {
  // The plan names the steps and their directories; they are placed under the directory read.
  const plan = planRun(cfg, '/');
  const under = (d: string) => join(dir, relative(plan.runDir, d));
  const trainPlans = plan.steps.filter((s) => s.kind === 'train');
  const evalPlan = plan.steps.find((s) => s.kind === 'eval');
  const steps = trainPlans.map((s) => readStepFiles(s.name, under(s.dir), s.cfg.train.epochs));
  const stepName = (s: StepFiles) => (plan.flat ? null : s.name);

  // The first training step that has not finished all its epochs decides how the run stopped.
  const open = steps.find((s) => !(s.summary?.status === 'finished' && s.summary.epochs_run >= s.epochs));
  const reached = steps.filter((s) => s.started);
  const last = open ?? steps[steps.length - 1];
  const epochsRun = (s: StepFiles) => s.summary?.epochs_run ?? new Set(s.metrics.filter((r) => r.split === 'train').map((r) => r.epoch)).size;

  let status: TableRun['status'] = 'finished';
  let value: number | null = null;
  let note = '';
  if (open) {
    const where = plan.flat ? '' : `${open.name} `;
    const n = epochsRun(open);
    if (open.summary?.status === 'stopped-nonfinite') {
      status = 'stopped-nonfinite';
      note = `${where}stopped: non-finite loss after ${n}/${open.epochs} epochs`;
    } else {
      status = 'stopped';
      note = open.started ? `${where}stopped after ${n}/${open.epochs} epochs` : `${where}not started`;
    }
  } else {
    const resultFile = evalPlan ? join(under(evalPlan.dir), 'result.json') : null;
    const result = resultFile && existsSync(resultFile) ? readEvalResult(resultFile) : null;
    const measured = result && result.split === 'test' ? result.metric : last.summary!.metric;
    ({ value, note } = inRowTerms(measured, metric));
    if (evalPlan && !result && note === '') note = 'eval not run (the last training step\'s test result)';
  }

  // Sparsity: the last epoch of the latest step that recorded one.
  const withSparsity = [...reached].reverse().find((s) => s.sparsity.length > 0);
  const sp = withSparsity ? lastEpochSparsity(withSparsity.sparsity) : null;
  const lastSummary = [...reached].reverse().find((s) => s.summary !== null)?.summary ?? null;
  const testActivity = lastSummary?.test_activity ? Object.values(lastSummary.test_activity) : [];
  // Delta networks' temporal sparsity as the reference reports it: on the test pass (training's last epoch otherwise).
  const testSparsity = Object.values(lastSummary?.test_sparsity ?? {});
  const testMean = (f: (t: (typeof testSparsity)[number]) => number | undefined): number | null => {
    const v = testSparsity.map(f).filter((x): x is number => x !== undefined);
    return v.length > 0 ? mean(v) : null;
  };
  const perEpoch = reached.flatMap((s) => epochSeconds(s.metrics));
  const total = reached.reduce((a, s) => a + (s.summary ? s.summary.wall_time_s : s.metrics.reduce((b, r) => b + r.wall_s, 0)), 0);
  const evalFile = evalPlan ? join(under(evalPlan.dir), 'result.json') : null;
  const evalSeconds = evalFile && existsSync(evalFile) ? readEvalResult(evalFile).wall_time_s : 0;
  const b = lastSummary?.backend;
  return {
    seed: cfg.seed,
    dir: shownDir,
    status,
    step: stepName(last),
    epochs_run: epochsRun(last),
    epochs: last.epochs,
    value,
    note,
    activity: sp?.activity ?? null,
    test_activity: testActivity.length > 0 ? mean(testActivity) : null,
    backward_sparsity: sp?.backward_sparsity ?? null,
    delta_x_zero: testMean((t) => t.delta_x_zero) ?? sp?.delta_x_zero ?? null,
    delta_h_zero: testMean((t) => t.delta_h_zero) ?? sp?.delta_h_zero ?? null,
    active_fraction: sp?.active_fraction ?? null,
    backward_speedup: sp?.backward_speedup ?? null,
    device: b ? `${b.device} (${b.gemm}, ${b.simd}, ${b.threads} threads)` : null,
    epoch_time_s: perEpoch.length > 0 ? mean(perEpoch) : null,
    total_time_s: reached.length > 0 ? total + evalSeconds : null,
  };
}

/** Seconds of each epoch: its train and valid rows' wall_s. */
function epochSeconds(rows: readonly MetricRow[]): number[] {
  const by = new Map<number, number>();
  for (const r of rows) if (r.split !== 'test') by.set(r.epoch, (by.get(r.epoch) ?? 0) + r.wall_s);
  return [...by.values()];
}

/**
 * The last epoch's figures, means over the layers that report each one (NaN: not that layer
 * family's figure); the backward speed-up is the layers' dense over done backward MACs.
 */
export function lastEpochSparsity(rows: readonly SparsityRow[]) {
  const epoch = Math.max(...rows.map((r) => r.epoch));
  const at = rows.filter((r) => r.epoch === epoch);
  const avg = (f: (r: SparsityRow) => number) => {
    const v = at.map(f).filter(Number.isFinite);
    return v.length > 0 ? mean(v) : null;
  };
  const macs = at.filter((r) => Number.isFinite(r.macs_backward) && Number.isFinite(r.macs_backward_dense));
  const done = macs.reduce((a, r) => a + r.macs_backward, 0);
  return {
    activity: avg((r) => r.activity),
    backward_sparsity: avg((r) => r.backward_sparsity),
    delta_x_zero: avg((r) => r.delta_x_zero),
    delta_h_zero: avg((r) => r.delta_h_zero),
    active_fraction: avg((r) => r.active_fraction),
    backward_speedup: done > 0 ? macs.reduce((a, r) => a + r.macs_backward_dense, 0) / done : null,
  };
}
