// Asking SLURM about a sweep's array tasks: squeue (pending, running, and finished ones for
// MinJobAge), sacct (the accounting record with exit codes; absent without accounting storage),
// and a task's output file (the exit status the script writes last, slurmstepd's cancel notices).
import { spawnSync } from 'node:child_process';
import { EXIT_MARK } from './slurm-script.js';

export interface CommandResult {
  /** null when the command could not be started (error then says why) */
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Runs a SLURM command; injectable so that the parsing and the state logic can be tested alone. */
export type Exec = (cmd: string, args: readonly string[]) => CommandResult;

export const execCommand: Exec = (cmd, args) => {
  const r = spawnSync(cmd, args as string[], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `${cmd}: not found (is SLURM's client installed and on PATH?)` : `${cmd}: ${r.error.message}`;
    return { code: null, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: why };
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** One array task as the scheduler reports it. */
export interface TaskRecord {
  jobId: string;
  index: number;
  /** SLURM's state, first word ("CANCELLED by 0" → CANCELLED) */
  state: string;
  /** sacct's ExitCode ("1:0"); squeue has none */
  exitCode?: string;
  /** squeue's reason (why a task is pending) */
  reason?: string;
}

const taskKey = (jobId: string, index: number) => `${jobId}_${index}`;

/**
 * The task indices of an id as squeue and sacct write it: "12_3" → [3]; "12_[0-2,5%2]" → [0,1,2,5];
 * a plain job id (not an array task, or a step such as "12_3.batch") → undefined.
 */
export function taskIndices(id: string): { jobId: string; indices: number[] } | undefined {
  const m = /^(\d+)_(\d+|\[([0-9,\-%:]+)\])$/.exec(id.trim());
  if (!m) return undefined;
  if (m[3] === undefined) return { jobId: m[1], indices: [Number(m[2])] };
  const indices: number[] = [];
  for (const part of m[3].split('%')[0].split(',')) {
    const [range, stepText] = part.split(':');
    const [a, b] = range.split('-').map(Number);
    const step = stepText ? Number(stepText) : 1;
    for (let i = a; i <= (b ?? a); i += step) indices.push(i);
  }
  return { jobId: m[1], indices };
}

/** `squeue -h -r -t all -o '%i|%T|%r'` lines → tasks (other lines, such as plain jobs, are skipped). */
export function parseSqueue(text: string): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const line of text.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (!id || !state) continue;
    const t = taskIndices(id);
    if (!t) continue;
    for (const index of t.indices) out.push({ jobId: t.jobId, index, state: state.trim().split(/\s+/)[0], ...(reason && reason !== 'None' ? { reason: reason.trim() } : {}) });
  }
  return out;
}

/** `sacct -n -P -X -o JobID,State,ExitCode` lines → tasks (steps such as 12_3.batch are skipped). */
export function parseSacct(text: string): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const line of text.split('\n')) {
    const [id, state, exitCode] = line.trim().split('|');
    if (!id || !state) continue;
    const t = taskIndices(id);
    if (!t) continue;
    for (const index of t.indices) out.push({ jobId: t.jobId, index, state: state.trim().split(/\s+/)[0], ...(exitCode ? { exitCode: exitCode.trim() } : {}) });
  }
  return out;
}

export interface QueueView {
  /** by "<job>_<index>" */
  tasks: Map<string, TaskRecord>;
  /** why squeue could not answer (the controller is down, no SLURM here) */
  error?: string;
}

export interface AccountingView {
  tasks: Map<string, TaskRecord>;
  /** why sacct has nothing to say: no accounting storage, not installed, … */
  unavailable?: string;
}

const firstLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';

/** The tasks of the given jobs that squeue still knows (finished ones for the cluster's MinJobAge). */
export function queryQueue(exec: Exec, jobIds: readonly string[]): QueueView {
  const tasks = new Map<string, TaskRecord>();
  if (jobIds.length === 0) return { tasks };
  const r = exec('squeue', ['-h', '-r', '-t', 'all', '-j', jobIds.join(','), '-o', '%i|%T|%r']);
  if (r.error) return { tasks, error: r.error };
  if (r.code !== 0) {
    // One unknown job id (purged after MinJobAge) is an error of squeue's, not of the cluster's.
    if (/invalid job id/i.test(r.stderr)) return { tasks };
    return { tasks, error: `squeue failed (exit ${r.code}): ${firstLine(r.stderr) || firstLine(r.stdout)}` };
  }
  for (const t of parseSqueue(r.stdout)) tasks.set(taskKey(t.jobId, t.index), t);
  return { tasks };
}

/** The accounting records of the given jobs, or why there are none. */
export function queryAccounting(exec: Exec, jobIds: readonly string[]): AccountingView {
  const tasks = new Map<string, TaskRecord>();
  if (jobIds.length === 0) return { tasks };
  const r = exec('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State,ExitCode']);
  if (r.error) return { tasks, unavailable: r.error };
  if (r.code !== 0) {
    const why = firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`;
    return { tasks, unavailable: /storage is disabled/i.test(why) ? 'no accounting storage' : `sacct failed: ${why}` };
  }
  for (const t of parseSacct(r.stdout)) tasks.set(taskKey(t.jobId, t.index), t);
  return { tasks };
}

export const recordOf = (view: { tasks: Map<string, TaskRecord> }, jobId: string, index: number) => view.tasks.get(taskKey(jobId, index));

/** What a task's output file says about how it ended. */
export interface LogVerdict {
  /** the exit status the script wrote last, when it got that far */
  exit?: number;
  /** a state slurmstepd wrote into the file: CANCELLED, TIMEOUT, PREEMPTED, OUT_OF_MEMORY */
  state?: string;
}

export function readLogVerdict(text: string): LogVerdict {
  const v: LogVerdict = {};
  const exits = [...text.matchAll(new RegExp(`^${EXIT_MARK}(\\d+)\\s*$`, 'gm'))];
  if (exits.length > 0) v.exit = Number(exits[exits.length - 1][1]);
  // slurmstepd: error: *** JOB 12 ON node CANCELLED AT 2026-01-01T10:00:00 DUE TO TIME LIMIT ***
  const cancel = /\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+(?: DUE TO (TIME LIMIT|PREEMPTION|NODE FAILURE))?/.exec(text);
  if (cancel) v.state = cancel[1] === 'TIME LIMIT' ? 'TIMEOUT' : cancel[1] === 'PREEMPTION' ? 'PREEMPTED' : cancel[1] === 'NODE FAILURE' ? 'NODE_FAIL' : 'CANCELLED';
  else if (/oom-kill|out-of-memory|Exceeded job memory limit/i.test(text)) v.state = 'OUT_OF_MEMORY';
  return v;
}

/** SLURM's states, by what they mean for a point. */
const PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'CONFIGURING', 'SUSPENDED']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING', 'STOPPED', 'RESIZING']);
/** Ended by someone or something else than the run: resubmitting it continues the run. */
const INTERRUPTED = new Set(['CANCELLED', 'PREEMPTED']);

export type TaskPhase = 'pending' | 'running' | 'completed' | 'interrupted' | 'failed';

export function phaseOf(state: string): TaskPhase {
  if (PENDING.has(state)) return 'pending';
  if (RUNNING.has(state)) return 'running';
  if (state === 'COMPLETED') return 'completed';
  if (INTERRUPTED.has(state)) return 'interrupted';
  return 'failed';
}

/** sacct's "1:0" → "exit code 1"; "0:9" → "signal 9". */
export function describeExitCode(code: string | undefined): string | undefined {
  if (!code) return undefined;
  const m = /^(\d+):(\d+)$/.exec(code);
  if (!m) return `exit code ${code}`;
  const [exit, signal] = [Number(m[1]), Number(m[2])];
  if (signal !== 0) return `signal ${signal}`;
  return `exit code ${exit}`;
}
