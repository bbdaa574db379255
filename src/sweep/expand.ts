// Expanding a sweep: one config, the command line's --seeds, --grid and --set, into points (the
// cartesian product of the grid's values, each with every seed), each a complete validated config
// with its own run identity, and the sweep's own identity (a hash of all of it), so that the same
// command finds the same sweep again. Writing it: results/<name>/sweeps/<id>/points/<index>.yaml and
// sweep.json (the SweepPlan, last and atomically); reading it back by id or by directory.
import { isSweepPath, POINTS_DIR, readSweepFile, SWEEP_FILE } from '../results/sweep-file.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, configToYaml, loadConfig, type Config } from '../config/index.js';
import { runDirFor } from '../results/run-dir.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { canonical } from '../util/canonical.js';
import type { SweepPlan, SweepPoint } from '../results/sweep-plan.js';

export const LOGS_DIR = 'logs';

/** The most points one sweep may have (a typo such as --seeds 1..100000 is said, not written). */
const MAX_POINTS = 10_000;

/** What the command line asks for. */
export interface SweepRequest {
  configFile: string;
  /** absent: the config's own seed */
  seeds?: readonly number[];
  /** in the order given on the command line (the first key varies slowest) */
  grid?: readonly GridAxis[];
  sets?: readonly string[];
  resultsDir: string;
  dataDir: string;
}

export interface GridAxis {
  key: string;
  values: unknown[];
}

/** An expanded sweep: the plan and each point's resolved config, by index. */
export interface ExpandedSweep {
  plan: SweepPlan;
  configs: Config[];
}

/** "1..5" (inclusive), "1,3,7", "2", or a mix ("1..3,7"); seeds are integers >= 0, each once. */
export function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  const int = (s: string) => {
    if (!/^\s*(0|[1-9][0-9]*)\s*$/.test(s)) throw new Error(`--seeds ${spec}: "${s.trim()}" is not an integer >= 0 (e.g. --seeds 1..5 or --seeds 1,3,7)`);
    return Number(s);
  };
  for (const part of spec.split(',')) {
    const range = part.split('..');
    if (range.length === 1) seeds.push(int(part));
    else if (range.length === 2) {
      const [a, b] = range.map(int);
      if (b < a) throw new Error(`--seeds ${spec}: the range ${a}..${b} is empty (write the smaller seed first)`);
      if (b - a >= MAX_POINTS) throw new Error(`--seeds ${spec}: more than ${MAX_POINTS} seeds`);
      for (let s = a; s <= b; s++) seeds.push(s);
    } else throw new Error(`--seeds ${spec}: "${part}" is neither a seed nor a range a..b`);
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`--seeds ${spec}: seed ${dup} is given twice`);
  return seeds;
}

const KEY = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/**
 * "key=v1,v2,...": a dotted config key (as --set takes) and its values, each read as YAML like a
 * --set value (numbers, booleans, strings, [lists] and {mappings}, a comma inside brackets or quotes
 * being part of the value).
 */
export function parseGrid(spec: string): GridAxis {
  const eq = spec.indexOf('=');
  const key = eq > 0 ? spec.slice(0, eq).trim() : '';
  if (!key || !KEY.test(key)) throw new Error(`--grid ${spec}: expects key=v1,v2,... with a dotted config key, e.g. --grid model.rnn.hidden_size=64,128`);
  if (key === 'seed') throw new Error(`--grid ${spec}: the seeds are --seeds (e.g. --seeds 1..5), not a grid key`);
  if (key === 'name') throw new Error(`--grid ${spec}: a sweep's points share the config's name (its runs are results/<name>/); grid another field`);
  const text = spec.slice(eq + 1);
  let values: unknown;
  try {
    values = text.trim() === '' ? [] : parse(`[${text}]`);
  } catch (err) {
    throw new Error(`--grid ${spec}: the values are not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(values) || values.length === 0) throw new Error(`--grid ${spec}: no values (expects key=v1,v2,...)`);
  const seen = values.map((v) => JSON.stringify(v));
  const dup = seen.findIndex((v, i) => seen.indexOf(v) !== i);
  if (dup >= 0) throw new Error(`--grid ${spec}: the value ${seen[dup]} is given twice`);
  return { key, values };
}

/** "seed 2, model.rnn.hidden_size=64": a point's seed and grid values, as messages name it. */
export function pointLabel(p: Pick<SweepPoint, 'seed' | 'grid'>): string {
  return [`seed ${p.seed}`, ...Object.entries(p.grid).map(([k, v]) => `${k}=${valueText(v)}`)].join(', ');
}

/** A grid value as the command line would write it. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A value as a --set spec's right-hand side: JSON is YAML, and reads back as the same value. */
function asYaml(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  return JSON.stringify(v);
}

/**
 * The sweep's identity: 12 hex digits of a SHA-256 over the resolved config, the seeds, the grid
 * and the --set overrides. Left out: the config's `slurm:` section and --set slurm.* (where and how
 * long the tasks are scheduled), so a sweep resubmitted with a longer time limit is the same sweep.
 */
export function sweepId(base: Config, seeds: readonly number[], grid: readonly GridAxis[], sets: readonly string[]): string {
  const { slurm: _s, ...config } = base as Config & { slurm?: unknown };
  const computed = sets.filter((s) => !/^\s*slurm\./.test(s));
  const what = { config: canonical(config), seeds, grid: grid.map((a) => [a.key, canonical(a.values)]), sets: computed };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 12);
}

/** The directory of a sweep: <results>/<name>/sweeps/<id>/. */
export function sweepDirFor(resultsDir: string, name: string, id: string): string {
  return join(resultsDir, name, 'sweeps', id);
}

export const pointFile = (dir: string, index: number) => join(dir, POINTS_DIR, `${index}.yaml`);
export const pointLog = (dir: string, index: number) => join(dir, LOGS_DIR, `${index}.log`);

/**
 * Expands the request into its points: every combination of the grid's values (the first key
 * varying slowest), each with every seed in the order given; index = combination × seeds + seed's
 * position. Each point's config is the file with the --set overrides, its grid values and its seed,
 * validated: a problem is a ConfigError naming the point. Two points with the same run directory
 * (a grid key that does not change what a run computes, such as train.checkpoint_every) are an error.
 */
export function expandSweep(req: SweepRequest): ExpandedSweep {
  const configFile = resolve(req.configFile);
  const sets = [...(req.sets ?? [])];
  const grid = [...(req.grid ?? [])];
  const resultsDir = resolve(req.resultsDir);
  const dataDir = resolve(req.dataDir);
  const keys = grid.map((a) => a.key);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined) throw new Error(`--grid ${twice} is given twice (list all its values in one --grid ${twice}=v1,v2,...)`);
  for (const s of sets) {
    const k = s.slice(0, Math.max(0, s.indexOf('='))).trim();
    if (keys.includes(k)) throw new Error(`${k} is given both as --set and as --grid (the grid's values replace it at every point: drop the --set)`);
    if (k === 'seed' && req.seeds !== undefined) throw new Error('--set seed=... and --seeds: give the seeds with --seeds only');
  }
  const base = loadConfig(req.configFile, sets);
  const seeds = req.seeds !== undefined ? [...req.seeds] : [base.seed];
  if (seeds.length === 0) throw new Error('--seeds: no seeds');
  const combos = grid.reduce((n, a) => n * a.values.length, 1);
  if (combos * seeds.length > MAX_POINTS) throw new Error(`the sweep has ${combos * seeds.length} points, more than ${MAX_POINTS}`);
  const id = sweepId(base, seeds, grid, sets);
  const dir = sweepDirFor(resultsDir, base.name, id);

  const points: SweepPoint[] = [];
  const configs: Config[] = [];
  const byRunDir = new Map<string, number>();
  for (let c = 0; c < combos; c++) {
    // The combination's values: mixed radix, the last key varying fastest.
    const values: Record<string, unknown> = {};
    let rest = c;
    for (let k = grid.length - 1; k >= 0; k--) {
      const n = grid[k].values.length;
      values[grid[k].key] = grid[k].values[rest % n];
      rest = Math.floor(rest / n);
    }
    const ordered = Object.fromEntries(grid.map((a) => [a.key, values[a.key]]));
    for (const seed of seeds) {
      const index = points.length;
      const label = `sweep point ${index} (${pointLabel({ seed, grid: ordered })})`;
      const specs = [...sets, ...grid.map((a) => `${a.key}=${asYaml(ordered[a.key])}`), `seed=${seed}`];
      let cfg: Config;
      try {
        cfg = loadConfig(req.configFile, specs);
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(`${err.file} at ${label}`, err.issues);
        throw err;
      }
      if (cfg.name !== base.name) throw new Error(`${label}: its name is ${cfg.name}, not the config's ${base.name}`);
      const runDir = runDirFor(resultsDir, cfg);
      const same = byRunDir.get(runDir);
      if (same !== undefined) {
        throw new Error(
          `${label} and point ${same} (${pointLabel(points[same])}) are the same run (${runDir}): ` +
            'their configs differ only in fields that do not change what a run computes (or not at all)',
        );
      }
      byRunDir.set(runDir, index);
      points.push({ index, seed, grid: ordered, configFile: pointFile(dir, index), runDir });
      configs.push(cfg);
    }
  }
  const plan: SweepPlan = {
    id, name: base.name, dir, resultsDir, dataDir,
    source: { configFile, seeds, grid: Object.fromEntries(grid.map((a) => [a.key, a.values])), sets },
    points,
  };
  return { plan, configs };
}

/** Writes each point's resolved config, then sweep.json (atomically, last). */
export function writeSweep({ plan, configs }: ExpandedSweep): void {
  for (const p of plan.points) {
    const head = `# evnn sweep ${plan.id}, point ${p.index}: ${pointLabel(p)} (from ${plan.source.configFile})\n`;
    writeFileAtomic(p.configFile, head + configToYaml(configs[p.index]));
  }
  writeSweepPlan(plan);
}

export function writeSweepPlan(plan: SweepPlan): void {
  writeJsonAtomic(join(plan.dir, SWEEP_FILE), plan);
}

/** Reads sweep.json (from the file or the sweep's directory). */
/** A sweep by its directory, its sweep.json, or its id (looked up under <results>/<name>/sweeps/). */
export function findSweep(what: string, resultsDir: string): SweepPlan {
  if (isSweepPath(what)) return readSweepFile(what);
  if (existsSync(what)) throw new Error(`${what}: not a sweep (no ${SWEEP_FILE} in it)`);
  if (!/^[0-9a-f]{4,12}$/.test(what)) throw new Error(`${what}: no such sweep directory, and not a sweep id (12 hex digits)`);
  const root = resolve(resultsDir);
  const found: string[] = [];
  if (existsSync(root)) {
    for (const name of readdirSync(root)) {
      const sweeps = join(root, name, 'sweeps');
      if (!existsSync(sweeps) || !statSync(sweeps).isDirectory()) continue;
      for (const id of readdirSync(sweeps)) {
        if (id.startsWith(what) && existsSync(join(sweeps, id, SWEEP_FILE))) found.push(join(sweeps, id));
      }
    }
  }
  if (found.length === 0) throw new Error(`no sweep ${what} under ${root} (give the sweep's directory, or --results-dir where it is)`);
  if (found.length > 1) throw new Error(`sweep id ${what} is ambiguous under ${root}: ${found.join(', ')}`);
  return readSweepFile(found[0]);
}
