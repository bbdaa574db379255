// The sbatch script of one submission: a job array with one task per sweep point, each task
// running `evnn run <point's config>` (a finished point is skipped, an interrupted one resumes).
import type { SlurmConfig } from '../config/slurm.js';
import type { SweepPlan, SweepPoint } from '../results/sweep-plan.js';

/** Array indices in sbatch's --array form: sorted, runs of three or more as ranges ("0-3,5,7,8"). */
export function arraySpec(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error('a job array needs at least one task');
  for (const i of sorted) if (!Number.isInteger(i) || i < 0) throw new Error(`not an array index: ${i}`);
  const parts: string[] = [];
  for (let s = 0; s < sorted.length;) {
    let e = s;
    while (e + 1 < sorted.length && sorted[e + 1] === sorted[e] + 1) e++;
    if (e - s >= 2) parts.push(`${sorted[s]}-${sorted[e]}`);
    else for (let k = s; k <= e; k++) parts.push(String(sorted[k]));
    s = e + 1;
  }
  return parts.join(',');
}

/** Quotes a word for bash (single quotes; a single quote inside is closed, escaped and reopened). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A path on an #SBATCH line: sbatch reads these lines itself, without a shell. */
function sbatchPath(p: string, what: string): string {
  if (/["\n\r]/.test(p)) throw new Error(`${what} ${JSON.stringify(p)}: a path with a double quote or a line break cannot go on an #SBATCH line`);
  return /\s/.test(p) ? `"${p}"` : p;
}

export interface ScriptInput {
  plan: SweepPlan;
  /** the points this submission runs */
  points: readonly SweepPoint[];
  /** 1-based number of this submission in the sweep */
  submission: number;
  slurm: SlurmConfig;
  /** the sweep's slurm/ folder (absolute): the tasks' output files go there */
  slurmDir: string;
  /** the node binary and bin/evnn.js (absolute) */
  node: string;
  evnn: string;
  version: string;
  /**
   * The points whose config says `threads: 0` (all cores): without --cpus-per-task they get the
   * CPUs SLURM gave the task (SLURM_CPUS_ON_NODE), not every core of a node shared with others.
   */
  allCores?: ReadonlySet<number>;
}

/** The line a task's script writes last: how `evnn sweep status` learns the exit status without sacct. */
export const EXIT_MARK = 'evnn-slurm: exit ';

export function sbatchScript(s: ScriptInput): string {
  const { plan, slurm } = s;
  if (s.slurmDir.includes('%')) {
    throw new Error(`${s.slurmDir}: a "%" in the sweep's path would be read as one of sbatch's file-name patterns; use a results directory without one`);
  }
  const array = arraySpec(s.points.map((p) => p.index));
  const opt: string[] = [
    `--job-name=evnn-${plan.name}-${plan.id}`,
    `--array=${array}`,
    `--output=${sbatchPath(`${s.slurmDir}/%A_%a.out`, 'the output file')}`,
    `--ntasks=1`,
  ];
  if (slurm.account !== undefined) opt.push(`--account=${slurm.account}`);
  if (slurm.partition !== undefined) opt.push(`--partition=${slurm.partition}`);
  if (slurm.time !== undefined) opt.push(`--time=${slurm.time}`);
  if (slurm.mem !== undefined) opt.push(`--mem=${slurm.mem}`);
  if (slurm.cpus_per_task !== undefined) opt.push(`--cpus-per-task=${slurm.cpus_per_task}`);
  if (slurm.gpus !== undefined) opt.push(`--gpus=${slurm.gpus}`);
  // Every point of the sweep has an arm, so a task id resubmitted by hand still finds its config.
  const arms = plan.points.map((p) => `  ${p.index}) point=${shellQuote(p.configFile)}${s.allCores?.has(p.index) ? '; all_cores=1' : ''} ;;`);
  const q = shellQuote;
  return [
    '#!/bin/bash',
    `# evnn sweep ${plan.id} of ${plan.name}: submission ${s.submission}, points ${array} (of ${plan.points.length}), written by evnn ${s.version}.`,
    '# Each array task runs one point with `evnn run` (a finished point is skipped, an interrupted',
    '# one resumes) and writes its exit status last, for `evnn sweep status`.',
    ...opt.map((o) => `#SBATCH ${o}`),
    '',
    'set -u',
    'all_cores=0',
    'case "${SLURM_ARRAY_TASK_ID:-}" in',
    ...arms,
    `  *) echo "evnn-slurm: no point \${SLURM_ARRAY_TASK_ID:-(not an array task)} in sweep ${plan.id}" >&2; echo "${EXIT_MARK}2"; exit 2 ;;`,
    'esac',
    `echo "evnn-slurm: point \${SLURM_ARRAY_TASK_ID} of sweep ${plan.id}, job \${SLURM_ARRAY_JOB_ID:-?}_\${SLURM_ARRAY_TASK_ID} on $(hostname)"`,
    // The task's CPUs (--cpus-per-task) are its threads; without it the config's threads decide,
    // and "all cores" (threads: 0) means the CPUs allocated to the task.
    'threads="${SLURM_CPUS_PER_TASK:-}"',
    'if [ -z "$threads" ] && [ "$all_cores" = 1 ]; then threads="${SLURM_CPUS_ON_NODE:-}"; fi',
    `${q(s.node)} ${q(s.evnn)} run "$point" --results-dir ${q(plan.resultsDir)} --data-dir ${q(plan.dataDir)} \${threads:+--threads "$threads"} --quiet`,
    'status=$?',
    `echo "${EXIT_MARK}$status"`,
    'exit "$status"',
    '',
  ].join('\n');
}
