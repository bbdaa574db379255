// `evnn sweep --backend slurm`: the points as one SLURM job array per submission (one task per
// point, `evnn run` of its config), submitted with `sbatch --parsable` and followed through squeue,
// sacct (when the cluster keeps accounting) and each task's output file. Finished is decided by
// the point's run directory, whatever the scheduler says.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { loadConfig } from '../config/index.js';
import type { SlurmConfig } from '../config/slurm.js';
import { writeFileAtomic } from '../util/atomic.js';
import { mergeSlurm, slurmFlags, type SlurmOptions } from './slurm-options.js';
import { appendSubmission, latestSubmissions, readJobs, slurmDirOf, taskLogOf } from './slurm-jobs.js';
import { runDirState, type RunDirState } from './point-state.js';
import { prepareSweepData } from './prepare-data.js';
import {
  describeExitCode, execCommand, phaseOf, queryAccounting, queryQueue, readLogVerdict, recordOf,
  type AccountingView, type Exec, type QueueView, type TaskRecord,
} from './slurm-queue.js';
import { arraySpec, sbatchScript } from './slurm-script.js';
import type { PointStatus, SweepBackend, SweepPlan, SweepPoint } from '../results/sweep-plan.js';

export type { SlurmOptions } from './slurm-options.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** bin/evnn.js of this installation: the tasks run the same evnn as the one that submitted them. */
const EVNN_BIN = fileURLToPath(new URL('../../bin/evnn.js', import.meta.url));

/** What the backend needs from outside; tests replace the commands. */
export interface SlurmDeps {
  exec?: Exec;
  /** prepares the data of the points before they are submitted (default: prepareSweepData) */
  prepare?: (plan: SweepPlan, points: readonly SweepPoint[]) => Promise<void>;
  node?: string;
  evnn?: string;
  now?: () => Date;
}

export function slurmBackend(opts: SlurmOptions = {}, deps: SlurmDeps = {}): SweepBackend {
  const flags = slurmFlags(opts);
  const log = opts.log ?? (opts.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`));
  const exec = deps.exec ?? execCommand;
  const prepare = deps.prepare ?? ((plan: SweepPlan, points: readonly SweepPoint[]) => prepareSweepData(plan, points, { quiet: opts.quiet ?? false }));

  return {
    name: 'slurm',

    async run(plan: SweepPlan, points: readonly SweepPoint[]): Promise<void> {
      // A point still queued or running keeps its task: a second one would write the same run.
      const status = points.length > 0 ? await statusOf(plan, exec) : [];
      const busy = new Map(status.filter((s) => s.state === 'pending' || s.state === 'running' || s.state === 'finished').map((s) => [s.index, s]));
      for (const p of points) {
        const s = busy.get(p.index);
        if (s) log(`point ${p.index}: ${s.state}${s.detail ? ` (${s.detail})` : ''}; not submitted again`);
      }
      const todo = points.filter((p) => !busy.has(p.index));
      if (todo.length === 0) return;

      const slurm = mergeSlurm(loadConfig(todo[0].configFile).slurm, flags);
      // Prepared here, once: array tasks starting together would otherwise each prepare the data.
      await prepare(plan, todo);

      const slurmDir = slurmDirOf(plan.dir);
      mkdirSync(slurmDir, { recursive: true });
      const submission = readJobs(plan.dir).submissions.length + 1;
      const script = join(slurmDir, `array-${submission}.sbatch`);
      const allCores = new Set(plan.points.filter((p) => loadConfig(p.configFile).threads === 0).map((p) => p.index));
      writeFileAtomic(script, sbatchScript({
        plan, points: todo, submission, slurm, slurmDir, node: deps.node ?? process.execPath, evnn: deps.evnn ?? EVNN_BIN, version: VERSION, allCores,
      }));
      const r = exec('sbatch', ['--parsable', script]);
      if (r.error) throw new Error(`cannot submit ${script}: ${r.error}`);
      if (r.code !== 0) throw new Error(`sbatch ${script} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
      const m = /^(\d+)(?:;(\S+))?\s*$/.exec(r.stdout.trim().split('\n').pop() ?? '');
      if (!m) throw new Error(`sbatch --parsable ${script}: expected a job id, got ${JSON.stringify(r.stdout.trim())}`);
      const array = arraySpec(todo.map((p) => p.index));
      appendSubmission(plan.dir, {
        job_id: m[1], ...(m[2] ? { cluster: m[2] } : {}), array, indices: todo.map((p) => p.index).sort((a, b) => a - b),
        script: relative(slurmDir, script), submitted_at: (deps.now?.() ?? new Date()).toISOString(),
      });
      log(`submitted job ${m[1]}: array ${array} (${todo.length} task${todo.length === 1 ? '' : 's'}) from ${script}${describeResources(slurm)}`);
    },

    status: (plan: SweepPlan) => statusOf(plan, exec),
  };
}

function describeResources(s: SlurmConfig): string {
  const parts = Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `${k.replace(/_/g, '-')}=${v}`);
  return parts.length > 0 ? `; ${parts.join(', ')}` : '';
}

async function statusOf(plan: SweepPlan, exec: Exec): Promise<PointStatus[]> {
  const latest = latestSubmissions(readJobs(plan.dir));
  const runs = plan.points.map((p) => runDirState(plan, p));
  // Ask the scheduler only about jobs that still hold an unfinished point.
  const jobIds = [...new Set(plan.points.filter((p, i) => runs[i].state !== 'finished' && latest.has(p.index)).map((p) => latest.get(p.index)!.job_id))].sort((a, b) => Number(a) - Number(b));
  const queue = queryQueue(exec, jobIds);
  const acct = queryAccounting(exec, jobIds);
  return plan.points.map((p, i) => {
    const run = runs[i];
    if (run.state === 'finished') return { index: p.index, state: 'finished', ...(run.detail ? { detail: run.detail } : {}) };
    const sub = latest.get(p.index);
    if (!sub) return { index: p.index, ...run };
    return taskStatus(plan, p.index, sub.job_id, queue, acct, run);
  });
}

/** A submitted, unfinished point: what SLURM (or failing that, its output file) says of its task. */
export function taskStatus(
  plan: Pick<SweepPlan, 'dir'>, index: number, jobId: string, queue: QueueView, acct: AccountingView, run: RunDirState = { state: 'not started' },
): PointStatus {
  const runDetail = run.detail ? `run ${run.state}: ${run.detail}` : `run ${run.state}`;
  const task = `task ${jobId}_${index}`;
  const log = taskLogOf(plan.dir, jobId, index);
  const logText = existsSync(log) ? readFileSync(log, 'utf8') : undefined;
  const verdict = logText === undefined ? {} : readLogVerdict(logText);
  const withLog = logText === undefined ? {} : { log };
  const q = recordOf(queue, jobId, index);
  const a = recordOf(acct, jobId, index);

  const isActive = (r: TaskRecord | undefined): boolean => r !== undefined && ['pending', 'running'].includes(phaseOf(r.state));
  // squeue is the live view; sacct alone saying a task runs (squeue down, or lagging) is believed too.
  const live: TaskRecord | undefined = isActive(q) ? q : q === undefined && isActive(a) ? a : undefined;
  if (live) {
    const state = phaseOf(live.state) === 'pending' ? 'pending' : 'running';
    return { index, state, detail: `${task} ${live.state}${live.reason ? ` (${live.reason})` : ''}${live === a ? ' (sacct)' : ''}`, ...withLog };
  }
  // An ended task: sacct's record has its exit code; squeue's (kept for MinJobAge) has none.
  const ended = a && !isActive(a) ? a : q && !isActive(q) ? q : undefined;
  const noAcct = acct.unavailable ? `; sacct unavailable (${acct.unavailable}), state from squeue and the task's log` : '';
  if (ended) {
    const phase = phaseOf(ended.state);
    const how = describeExitCode(ended.exitCode) ?? (verdict.exit !== undefined ? `exit code ${verdict.exit}` : undefined);
    const detail = `${task} ${ended.state}${how ? `, ${how}` : ''}${ended === a ? '' : noAcct}`;
    if (phase === 'completed') {
      return { index, state: 'failed', detail: `${detail}, but the run did not finish (${runDetail})`, ...withLog };
    }
    return { index, state: phase === 'interrupted' ? 'stopped' : 'failed', detail, ...withLog };
  }
  // Neither squeue nor sacct knows the task: it ended before MinJobAge, or the scheduler is away.
  if (queue.error) {
    const known = verdict.exit !== undefined ? `its log says exit code ${verdict.exit}` : logText !== undefined ? 'its log has no exit status yet' : 'no log yet';
    const state = verdict.exit !== undefined ? 'failed' : logText !== undefined ? 'running' : 'pending';
    return { index, state, detail: `${task}: ${queue.error}; ${known} (state unknown to SLURM)`, ...withLog };
  }
  const gone = `${task} is no longer in the queue${acct.unavailable ? ` and sacct is unavailable (${acct.unavailable})` : ' nor in sacct'}`;
  if (verdict.state) {
    return { index, state: phaseOf(verdict.state) === 'interrupted' ? 'stopped' : 'failed', detail: `${gone}; its log says ${verdict.state}`, log };
  }
  if (verdict.exit !== undefined) {
    const why = verdict.exit === 0 ? `exit code 0, but the run did not finish (${runDetail})` : `exit code ${verdict.exit}`;
    return { index, state: 'failed', detail: `${gone}; its log says ${why}`, log };
  }
  if (logText !== undefined) {
    return { index, state: 'failed', detail: `${gone}; its log ends without an exit status (killed, or its node failed)`, log };
  }
  return { index, state: 'stopped', detail: `${gone}, and it wrote no log (cancelled before it started?)` };
}
