// The local backend: a bounded pool of `evnn run <point.yaml>` child processes on this machine.
// --jobs N run at once, the threads split between them (floor(total / N) each, at least one; total
// = --threads or the cores); each point's output goes to logs/<index>.log under the sweep, headed
// by the command and the child's pid and closed by its exit; the data is prepared once before the
// pool starts; SIGINT and SIGTERM stop the children (their runs resume on the next run). A point's
// state comes from its run directory and its log; while a sweep runs, a lock file (local.lock)
// holds its pid, so another `evnn sweep` of it is refused and its points not yet started are pending.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import type { ProgressStream } from '../log/progress.js';
import { pointLabel, pointLog } from './expand.js';
import { runDirState } from './point-state.js';
import { prepareSweepData } from './prepare-data.js';
import { shownPath } from './status-format.js';
import type { PointStatus, SweepBackend, SweepPlan, SweepPoint } from '../results/sweep-plan.js';

export interface LocalOptions {
  /** points run at once (default 1) */
  jobs?: number;
  /** threads in all, split between the jobs (default: the cores) */
  threads?: number;
  /** no progress lines */
  quiet?: boolean;
  /** where progress goes (default stderr) */
  stream?: ProgressStream;
}

const BIN = fileURLToPath(new URL('../../bin/evnn.js', import.meta.url));
const LOCK_FILE = 'local.lock';

/** Each job's threads: floor(total / jobs), at least 1 (the jobs asked for, so a resumed point gets the same count). */
export function threadsPerJob(jobs: number, threads?: number): number {
  return Math.max(1, Math.floor((threads ?? availableParallelism()) / jobs));
}

/** The command that runs a point (also written at the head of its log). */
export function pointCommand(plan: SweepPlan, p: SweepPoint, threads: number): string[] {
  return [BIN, 'run', p.configFile, '--results-dir', plan.resultsDir, '--data-dir', plan.dataDir, '--threads', String(threads)];
}

export function localBackend(opts: LocalOptions = {}): SweepBackend {
  return {
    name: 'local',
    run: (plan, points) => runLocal(plan, points, opts),
    status: async (plan) => localStatus(plan),
  };
}

// ---- the lock ----

interface Lock {
  pid: number;
  host: string;
  started: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The sweep's lock when a live process on this machine holds it. */
function liveLock(plan: SweepPlan): Lock | undefined {
  const file = join(plan.dir, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as Lock;
    return lock.host === hostname() && pidAlive(lock.pid) ? lock : undefined;
  } catch {
    return undefined;
  }
}

function acquireLock(plan: SweepPlan): void {
  const held = liveLock(plan);
  if (held) throw new Error(`sweep ${plan.id} is already running (pid ${held.pid}, since ${held.started}); \`evnn sweep status ${plan.id}\` follows it`);
  mkdirSync(plan.dir, { recursive: true });
  writeFileSync(join(plan.dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }));
}

function releaseLock(plan: SweepPlan): void {
  const file = join(plan.dir, LOCK_FILE);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as Lock).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // gone or damaged: nothing to release
  }
}

// ---- a point's log ----

interface LogRecord {
  pid?: number;
  host?: string;
  /** the closing line: how the child ended */
  end?: { failed: boolean; text: string };
  /** the last line the run wrote (its latest epoch, or its error) */
  lastLine?: string;
  /** the CLI's error line (`evnn: ...`), if any */
  error?: string;
}

function readEnds(file: string, bytes = 8192): { head: string; tail: string } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (pos: number, n: number) => {
      const buf = Buffer.alloc(n);
      const got = readSync(fd, buf, 0, n, pos);
      return buf.subarray(0, got).toString('utf8');
    };
    return { head: read(0, Math.min(size, 1024)), tail: read(Math.max(0, size - bytes), Math.min(size, bytes)) };
  } finally {
    closeSync(fd);
  }
}

export function readPointLog(file: string): LogRecord {
  const { head, tail } = readEnds(file);
  const rec: LogRecord = {};
  const pid = /^# pid (\d+) on ([^\s,]+)/m.exec(head);
  if (pid) {
    rec.pid = Number(pid[1]);
    rec.host = pid[2];
  }
  const lines = tail.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^# (exit|killed by|interrupted by) (\S+)/.exec(lines[i]);
    if (m) {
      rec.end = { failed: m[1] === 'killed by' || (m[1] === 'exit' && m[2] !== '0'), text: lines[i].slice(2) };
      break;
    }
  }
  rec.lastLine = [...lines].reverse().find((l) => !l.startsWith('# '));
  rec.error = [...lines].reverse().find((l) => l.startsWith('evnn: '));
  return rec;
}

// ---- status ----

function localStatus(plan: SweepPlan): PointStatus[] {
  const sweepRunning = liveLock(plan) !== undefined;
  return plan.points.map((p): PointStatus => {
    const run = runDirState(plan, p);
    const log = pointLog(plan.dir, p.index);
    const rec = existsSync(log) ? readPointLog(log) : undefined;
    if (run.state === 'finished') return { index: p.index, state: 'finished', detail: run.detail };
    if (rec && !rec.end && rec.pid !== undefined && rec.host === hostname() && pidAlive(rec.pid)) {
      return { index: p.index, state: 'running', log, detail: rec.lastLine };
    }
    if (rec?.end?.failed) return { index: p.index, state: 'failed', log, detail: rec.error ? `${rec.end.text}: ${rec.error}` : rec.end.text };
    if (run.state === 'failed') return { index: p.index, state: 'failed', log: rec ? log : run.log, detail: run.detail };
    if (run.state === 'stopped') return { index: p.index, state: 'stopped', log: rec ? log : run.log, detail: run.detail };
    return { index: p.index, state: sweepRunning ? 'pending' : 'not started' };
  });
}

// ---- running ----

async function runLocal(plan: SweepPlan, points: readonly SweepPoint[], opts: LocalOptions): Promise<void> {
  if (points.length === 0) return;
  const jobs = opts.jobs ?? 1;
  const threads = threadsPerJob(jobs, opts.threads);
  acquireLock(plan);
  try {
    await prepareSweepData(plan, points, { quiet: opts.quiet ?? false });
    await new Pool(plan, points, jobs, threads, new Display(plan, opts)).run();
  } finally {
    releaseLock(plan);
  }
}

interface Running {
  point: SweepPoint;
  child: ChildProcess;
  log: string;
  started: number;
}

/** Signals by which a child was stopped rather than failed (Ctrl-C reaches the children too). */
const INTERRUPTS = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);

class Pool {
  private readonly queue: SweepPoint[];
  private readonly running = new Map<number, Running>();
  private interrupted: NodeJS.Signals | null = null;
  private readonly stopped: number[] = [];

  constructor(
    private readonly plan: SweepPlan,
    points: readonly SweepPoint[],
    private readonly jobs: number,
    private readonly threads: number,
    private readonly display: Display,
  ) {
    this.queue = [...points];
  }

  async run(): Promise<void> {
    const onSignal = (sig: NodeJS.Signals) => {
      // A second signal kills what is left.
      const how: NodeJS.Signals = this.interrupted ? 'SIGKILL' : 'SIGTERM';
      this.interrupted = sig;
      this.queue.length = 0;
      for (const r of this.running.values()) r.child.kill(how);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.display.start(this.queue.length, this.jobs, this.threads);
    try {
      await new Promise<void>((done) => {
        const next = () => {
          while (this.running.size < this.jobs && this.queue.length > 0) this.start(this.queue.shift()!, next);
          if (this.running.size === 0 && this.queue.length === 0) done();
        };
        next();
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      this.display.stop();
    }
    if (this.interrupted) {
      const stopped = [...this.stopped].sort((a, b) => a - b);
      const which = stopped.length > 0 ? `; ${stopped.length === 1 ? 'point' : 'points'} ${stopped.join(', ')} stopped, ` : '; ';
      const err = new Error(`sweep ${this.plan.id} interrupted (${this.interrupted})${which}\`evnn sweep resubmit ${this.plan.id}\` runs what is left`);
      (err as Error & { exitCode: number }).exitCode = this.interrupted === 'SIGINT' ? 130 : 143;
      throw err;
    }
  }

  private start(point: SweepPoint, next: () => void): void {
    const log = pointLog(this.plan.dir, point.index);
    mkdirSync(dirname(log), { recursive: true });
    const args = pointCommand(this.plan, point, this.threads);
    writeFileSync(log, `# evnn sweep ${this.plan.id}, point ${point.index}: ${pointLabel(point)}\n# ${[process.execPath, ...args].join(' ')}\n`);
    const fd = openSync(log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env: process.env });
    } finally {
      closeSync(fd);
    }
    const started = Date.now();
    if (child.pid !== undefined) appendFileSync(log, `# pid ${child.pid} on ${hostname()}, started ${new Date(started).toISOString()}\n`);
    const r: Running = { point, child, log, started };
    this.running.set(point.index, r);
    this.display.started(r);
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (ended) return;
      ended = true;
      this.running.delete(point.index);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const interrupted = signal !== null && (INTERRUPTS.has(signal) || this.interrupted !== null);
      const trailer = error
        ? `exit -1 after ${secs} s: could not start: ${error.message}`
        : signal !== null
          ? `${interrupted ? 'interrupted by' : 'killed by'} ${signal} after ${secs} s`
          : `exit ${code} after ${secs} s`;
      appendFileSync(log, `# ${trailer}\n`);
      const failed = !interrupted && (error !== undefined || code !== 0);
      if (interrupted) this.stopped.push(point.index);
      this.display.ended(r, failed ? 'failed' : interrupted ? 'stopped' : 'done', trailer);
      next();
    };
    child.on('error', (err) => end(null, null, err));
    child.on('exit', (code, signal) => end(code, signal));
  }
}

// ---- progress ----

/** One line per point start and end; on a terminal, a live line per running point (its log's latest line). */
class Display {
  private readonly stream: ProgressStream;
  private readonly live: boolean;
  private readonly quiet: boolean;
  private multi: cliProgress.MultiBar | null = null;
  private header: cliProgress.SingleBar | null = null;
  private readonly bars = new Map<number, { bar: cliProgress.SingleBar; r: Running }>();
  private timer: NodeJS.Timeout | null = null;
  private total = 0;
  private done = 0;
  private failed = 0;

  constructor(private readonly plan: SweepPlan, opts: LocalOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.quiet = opts.quiet ?? false;
    this.live = !this.quiet && this.stream.isTTY === true;
  }

  private label(p: SweepPoint): string {
    return `point ${p.index} (${pointLabel(p)})`;
  }

  private line(text: string): void {
    if (this.quiet) return;
    if (this.multi) this.multi.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  private headline(): string {
    return `sweep ${this.plan.id}: ${this.done}/${this.total} points done${this.failed ? `, ${this.failed} failed` : ''}, ${this.bars.size} running`;
  }

  start(total: number, jobs: number, threads: number): void {
    this.total = total;
    this.line(`sweep ${this.plan.id}: ${total} ${total === 1 ? 'point' : 'points'} to run, ${jobs} at a time, ${threads} ${threads === 1 ? 'thread' : 'threads'} each; logs in ${shownPath(join(this.plan.dir, 'logs'))}`);
    if (!this.live) return;
    this.multi = new cliProgress.MultiBar(
      { stream: this.stream, format: '{text}', hideCursor: true, clearOnComplete: true, gracefulExit: false, linewrap: false, fps: 4 },
      cliProgress.Presets.legacy,
    );
    this.header = this.multi.create(1, 0, { text: this.headline() });
    this.timer = setInterval(() => this.refresh(), 500);
  }

  private refresh(): void {
    const width = Math.max(40, (this.stream.columns || 80) - 1);
    for (const { bar, r } of this.bars.values()) {
      let last = '';
      try {
        last = readPointLog(r.log).lastLine ?? '';
      } catch {
        // the log is being rewritten
      }
      const secs = Math.round((Date.now() - r.started) / 1000);
      bar.update(0, { text: `${this.label(r.point)} ${secs} s: ${last || 'starting'}`.slice(0, width) });
    }
    this.header?.update(0, { text: this.headline() });
  }

  started(r: Running): void {
    if (this.multi) {
      this.bars.set(r.point.index, { bar: this.multi.create(1, 0, { text: `${this.label(r.point)}: starting` }), r });
      this.refresh();
    } else this.line(`${this.label(r.point)}: started, log ${shownPath(r.log)}`);
  }

  ended(r: Running, how: 'done' | 'failed' | 'stopped', trailer: string): void {
    const entry = this.bars.get(r.point.index);
    if (entry && this.multi) {
      this.multi.remove(entry.bar);
      this.bars.delete(r.point.index);
    }
    this.done++;
    const secs = ((Date.now() - r.started) / 1000).toFixed(1);
    if (how === 'failed') {
      this.failed++;
      let error = '';
      try {
        error = readPointLog(r.log).error ?? '';
      } catch {
        // unreadable log: its path is said anyway
      }
      this.line(`${this.label(r.point)}: failed (${trailer}${error ? `; ${error}` : ''}), log ${shownPath(r.log)}`);
    } else if (how === 'stopped') {
      this.line(`${this.label(r.point)}: stopped (${trailer}); it resumes on the next run`);
    } else {
      let detail = '';
      try {
        const s = runDirState(this.plan, r.point);
        detail = s.state === 'finished' ? (s.detail ? `: ${s.detail}` : '') : ` but ${s.state}${s.detail ? ` (${s.detail})` : ''}`;
      } catch (err) {
        detail = ` (${(err as Error).message})`;
      }
      this.line(`${this.label(r.point)}: finished in ${secs} s${detail}`);
    }
    this.header?.update(0, { text: this.headline() });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.multi) {
      // stop() does not write the lines still buffered by log(); update() does.
      this.multi.update();
      this.multi.stop();
      this.multi = null;
    }
  }
}
