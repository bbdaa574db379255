// The `evnn sweep` commands behind the command line: expand and run a sweep, and follow, wait for
// and resubmit one found by its id or directory. Each returns the exit code: 0 when every point
// asked about finished (or, for status, always), 1 when a point failed (or, for wait, did not finish).
import { BACKEND_NAMES, backendOf, makeBackend, recordedOptions, type BackendName, type SlurmFlags } from './backends.js';
import { expandSweep, findSweep, parseGrid, parseSeeds, writeSweep, writeSweepPlan } from './expand.js';
import { runDirState } from './point-state.js';
import { pointName, shownPath, stateCounts, statusText } from './status-format.js';
import { runUnfinished, waitForSweep } from './sweep.js';
import type { PointStatus, SweepPlan } from '../results/sweep-plan.js';

export interface SweepFlags extends SlurmFlags {
  seeds?: string;
  grid: string[];
  set: string[];
  backend?: BackendName;
  jobs?: number;
  threads?: number;
  resultsDir: string;
  dataDir: string;
  dryRun?: boolean;
  quiet?: boolean;
}

type Out = (text: string) => void;
const stdout: Out = (t) => process.stdout.write(`${t}\n`);
const stderr: Out = (t) => process.stderr.write(`${t}\n`);

/** The backend's options from the flags: jobs and threads for local, the SLURM flags for slurm. */
function optionsOf(name: BackendName, f: Partial<SweepFlags>): Record<string, unknown> {
  if (name === 'local') {
    for (const k of ['account', 'partition', 'time', 'mem', 'cpusPerTask', 'gpus'] as const) {
      if (f[k] !== undefined) throw new Error(`--${k === 'cpusPerTask' ? 'cpus-per-task' : k}: a SLURM flag (give --backend slurm)`);
    }
    return recordedOptions({ jobs: f.jobs, threads: f.threads });
  }
  if (f.jobs !== undefined) throw new Error('--jobs: for --backend local (a SLURM array runs as many tasks at once as the cluster allows)');
  if (f.threads !== undefined) throw new Error('--threads: for --backend local (a SLURM task\'s run uses its --cpus-per-task)');
  return recordedOptions({ account: f.account, partition: f.partition, time: f.time, mem: f.mem, cpusPerTask: f.cpusPerTask, gpus: f.gpus });
}

/** --quiet as each backend takes it: the local one's progress lines, the SLURM one's log. */
function withQuiet(name: BackendName, options: Record<string, unknown>, quiet: boolean | undefined): Record<string, unknown> {
  if (!quiet) return options;
  return name === 'local' ? { ...options, quiet: true } : { ...options, quiet: true, log: () => {} };
}

function failedLines(plan: SweepPlan, statuses: readonly PointStatus[]): string[] {
  return statuses
    .filter((s) => s.state === 'failed')
    .map((s) => `failed: ${pointName(plan, s.index)}${s.detail ? `: ${s.detail}` : ''}${s.log ? `; log ${shownPath(s.log)}` : ''}`);
}

/** Prints the points and their failures; 1 when one failed. */
function report(plan: SweepPlan, statuses: readonly PointStatus[], out: Out, err: Out): number {
  out(statusText(plan, statuses));
  const failed = failedLines(plan, statuses);
  for (const l of failed) err(l);
  if (failed.length > 0) err(`\`evnn sweep resubmit ${plan.id}\` runs the failed and unfinished points again`);
  return failed.length > 0 ? 1 : 0;
}

/** `evnn sweep <config>`: expand, write, and run the points not yet finished. */
export async function sweepCommand(configFile: string, f: SweepFlags, out: Out = stdout, err: Out = stderr): Promise<number> {
  const name = f.backend ?? 'local';
  if (!BACKEND_NAMES.includes(name)) throw new Error(`--backend ${name}: one of ${BACKEND_NAMES.join(', ')}`);
  const options = optionsOf(name, f);
  const expanded = expandSweep({
    configFile, seeds: f.seeds === undefined ? undefined : parseSeeds(f.seeds), grid: f.grid.map(parseGrid), sets: f.set,
    resultsDir: f.resultsDir, dataDir: f.dataDir,
  });
  const { plan } = expanded;
  plan.backend = { name, options };
  writeSweep(expanded);
  const seeds = plan.source.seeds.length;
  const combos = plan.points.length / seeds;
  const say = f.quiet ? () => {} : err;
  say(`sweep ${plan.id}: ${plan.points.length} points (${combos} grid ${combos === 1 ? 'point' : 'points'} × ${seeds} ${seeds === 1 ? 'seed' : 'seeds'}) in ${shownPath(plan.dir)}`);
  if (f.dryRun) {
    out(statusText(plan, plan.points.map((p) => ({ index: p.index, ...runDirState(plan, p) }))));
    out(`dry run: nothing was run; \`evnn sweep resubmit ${plan.id}\` runs the unfinished points with backend ${name}`);
    return 0;
  }
  return report(plan, await runUnfinished(plan, makeBackend(name, withQuiet(name, options, f.quiet)), say), out, err);
}

export interface FollowFlags {
  resultsDir: string;
  format?: 'text' | 'json';
}

function statusJson(plan: SweepPlan, statuses: readonly PointStatus[]): string {
  const by = new Map(statuses.map((s) => [s.index, s]));
  const points = plan.points.map((p) => ({ ...p, state: by.get(p.index)?.state ?? 'not started', ...by.get(p.index) }));
  return JSON.stringify({ id: plan.id, name: plan.name, dir: plan.dir, backend: plan.backend?.name ?? 'local', counts: stateCounts(statuses), points }, null, 2);
}

/** `evnn sweep status <id|dir>`: one line per point; exit 0 whatever the states. */
export async function sweepStatus(what: string, f: FollowFlags, out: Out = stdout): Promise<number> {
  const plan = findSweep(what, f.resultsDir);
  const statuses = await backendOf(plan).status(plan);
  out(f.format === 'json' ? statusJson(plan, statuses) : statusText(plan, statuses));
  return 0;
}

/** `evnn sweep wait <id|dir>`: until no point is pending or running; exit 0 when every point finished. */
export async function sweepWait(what: string, f: FollowFlags & { interval?: number; quiet?: boolean }, out: Out = stdout, err: Out = stderr): Promise<number> {
  const plan = findSweep(what, f.resultsDir);
  const statuses = await waitForSweep(plan, backendOf(plan), { intervalS: f.interval ?? 10, say: f.quiet ? undefined : err });
  const code = report(plan, statuses, (t) => out(f.format === 'json' ? statusJson(plan, statuses) : t), err);
  const unfinished = statuses.filter((s) => s.state !== 'finished').length;
  return code !== 0 || unfinished > 0 ? 1 : 0;
}

/** `evnn sweep resubmit <id|dir>`: runs (local) or submits (slurm) only the points not finished, not queued and not running. */
export async function sweepResubmit(what: string, f: Partial<SweepFlags> & FollowFlags, out: Out = stdout, err: Out = stderr): Promise<number> {
  const plan = findSweep(what, f.resultsDir);
  const name = f.backend ?? ((plan.backend?.name ?? 'local') as BackendName);
  const given = optionsOf(name, f);
  const options = name === (plan.backend?.name ?? 'local') ? { ...(plan.backend?.options ?? {}), ...given } : given;
  if (name !== plan.backend?.name || Object.keys(given).length > 0) {
    plan.backend = { name, options };
    writeSweepPlan(plan);
  }
  const say = f.quiet ? () => {} : err;
  return report(plan, await runUnfinished(plan, makeBackend(name, withQuiet(name, options, f.quiet)), say), out, err);
}
