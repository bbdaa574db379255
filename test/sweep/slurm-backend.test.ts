// The SLURM backend without a cluster: the sbatch script (its text, and bash running it with a
// stand-in for node), squeue/sacct/log parsing, and submission and status with the commands
// replaced by canned answers. test/cli/sweep-slurm.test.ts runs the same on a real SLURM.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { configToYaml, parseConfigText } from '../../src/config/index.js';
import { runDirFor } from '../../src/results/run-dir.js';
import { writeSummary } from '../../src/results/summary.js';
import { slurmBackend } from '../../src/sweep/slurm-backend.js';
import { jobsFileOf, readJobs } from '../../src/sweep/slurm-jobs.js';
import {
  describeExitCode, parseSacct, parseSqueue, phaseOf, queryAccounting, queryQueue, readLogVerdict, taskIndices,
  type CommandResult, type Exec,
} from '../../src/sweep/slurm-queue.js';
import { arraySpec, sbatchScript, shellQuote } from '../../src/sweep/slurm-script.js';
import type { SweepPlan } from '../../src/results/sweep-plan.js';

const work = mkdtempSync(join(tmpdir(), 'evnn-slurm-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const configText = (seed: number, slurm = '') => `
name: tiny
seed: ${seed}
threads: 1
data: { dataset: mnist, view: smnist-rows, limit: { train: 100, valid: 50, test: 50 } }
model: { rnn: { type: gru, hidden_size: 4 } }
train: { epochs: 1, batch_size: 50, optimizer: { type: adam, lr: 0.01 } }
${slurm}`;

/** A sweep of three seeds written by hand (the expansion is tested elsewhere). */
function makePlan(dir: string, slurm = ''): SweepPlan {
  const resultsDir = join(dir, 'results');
  const sweepDir = join(resultsDir, 'tiny', 'sweeps', 'abcdef012345');
  mkdirSync(join(sweepDir, 'points'), { recursive: true });
  const points = [1, 2, 3].map((seed, index) => {
    const cfg = parseConfigText(configText(seed, slurm));
    const configFile = join(sweepDir, 'points', `${index}.yaml`);
    writeFileSync(configFile, configToYaml(cfg));
    return { index, seed, grid: {}, configFile, runDir: runDirFor(resultsDir, cfg) };
  });
  return {
    id: 'abcdef012345', name: 'tiny', dir: sweepDir, resultsDir, dataDir: join(dir, 'datasets'),
    source: { configFile: join(dir, 'tiny.yaml'), seeds: [1, 2, 3], grid: {}, sets: [] }, points,
  };
}

function finish(runDir: string): void {
  writeSummary(join(runDir, 'summary.json'), {
    config: 'tiny', run_id: 'x', status: 'finished', metric: { name: 'accuracy', value: 0.5, best_valid: 0.5 },
    final: { test_accuracy: 0.5, test_loss: 1, best_valid_accuracy: 0.5, best_epoch: 0 }, paper: null, epochs_run: 1,
    wall_time_s: 1, train_samples_per_s: 100, backend: { device: 'cpu', gemm: 'builtin', simd: 'none', threads: 1 },
    evnn_version: '0.1.0', finished_at: '2026-01-01T00:00:00.000Z',
  });
}

/** Canned answers by command; every call is recorded. */
function fakeSlurm(answers: Partial<Record<'sbatch' | 'squeue' | 'sacct', CommandResult | (() => CommandResult)>>) {
  const calls: { cmd: string; args: readonly string[] }[] = [];
  const exec: Exec = (cmd, args) => {
    calls.push({ cmd, args });
    const a = answers[cmd as 'sbatch'];
    if (!a) return { code: null, stdout: '', stderr: '', error: `${cmd}: not found` };
    return typeof a === 'function' ? a() : a;
  };
  return { exec, calls };
}
const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const noAccounting: CommandResult = { code: 1, stdout: '', stderr: 'sacct: error: Slurm accounting storage is disabled\n' };
const quiet = { log: () => {} };
const noPrepare = { prepare: async () => {} };

describe('sbatch script', () => {
  it('names the array indices compactly', () => {
    expect(arraySpec([0, 1, 2, 3])).toBe('0-3');
    expect(arraySpec([0, 2, 5])).toBe('0,2,5');
    expect(arraySpec([8, 5, 0, 1, 2, 7])).toBe('0-2,5,7,8');
    expect(arraySpec([4])).toBe('4');
    expect(arraySpec([0, 1])).toBe('0,1');
    expect(() => arraySpec([])).toThrow(/at least one task/);
  });

  it('quotes words for bash', () => {
    expect(shellQuote('/a/b.yaml')).toBe('/a/b.yaml');
    expect(shellQuote("/my dir/it's")).toBe(`'/my dir/it'\\''s'`);
  });

  const plan = makePlan(join(work, 'script'));
  const input = {
    plan, points: [plan.points[0], plan.points[2]], submission: 2, slurmDir: join(plan.dir, 'slurm'), node: '/opt/node/bin/node', evnn: '/opt/evnn/bin/evnn.js', version: '0.1.0',
  };

  it('asks for what the options say, one task per point', () => {
    const text = sbatchScript({ ...input, slurm: { account: 'lab', partition: 'gpu', time: '2:00:00', mem: '8G', cpus_per_task: 4, gpus: 'a100:1' } });
    const directives = text.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --job-name=evnn-tiny-abcdef012345',
      '#SBATCH --array=0,2',
      `#SBATCH --output=${plan.dir}/slurm/%A_%a.out`,
      '#SBATCH --ntasks=1',
      '#SBATCH --account=lab',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=2:00:00',
      '#SBATCH --mem=8G',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gpus=a100:1',
    ]);
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    // Every point has an arm (a task resubmitted by hand still finds its config).
    for (const p of plan.points) expect(text).toContain(`  ${p.index}) point=${p.configFile} ;;`);
    expect(text).toContain(`/opt/node/bin/node /opt/evnn/bin/evnn.js run "$point" --results-dir ${plan.resultsDir} --data-dir ${plan.dataDir} \${threads:+--threads "$threads"} --quiet`);
    expect(spawnSync('bash', ['-n'], { input: text }).status).toBe(0);
  });

  it('asks for nothing more than the array when no option is given', () => {
    const directives = sbatchScript({ ...input, slurm: {} }).split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives.map((d) => d.split('=')[0])).toEqual(['#SBATCH --job-name', '#SBATCH --array', '#SBATCH --output', '#SBATCH --ntasks']);
  });

  it('refuses a path sbatch would read as a pattern', () => {
    expect(() => sbatchScript({ ...input, slurm: {}, slurmDir: '/tmp/100%/slurm' })).toThrow(/file-name patterns/);
  });

  it('runs the task id\'s point with the task\'s CPUs as threads and writes its exit status last', () => {
    const dir = join(work, 'fake-node');
    mkdirSync(dir, { recursive: true });
    const node = join(dir, 'node with space');
    writeFileSync(node, '#!/bin/bash\necho "args: $*"\nexit "${FAKE_EXIT:-0}"\n');
    chmodSync(node, 0o755);
    const script = join(dir, 'array.sbatch');
    writeFileSync(script, sbatchScript({ ...input, node, slurm: {} }));
    const run = (env: Record<string, string>) => spawnSync('bash', [script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

    const a = run({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_JOB_ID: '77', SLURM_CPUS_PER_TASK: '4' });
    expect(a.status).toBe(0);
    expect(a.stdout).toContain(`args: /opt/evnn/bin/evnn.js run ${plan.points[2].configFile} --results-dir ${plan.resultsDir} --data-dir ${plan.dataDir} --threads 4 --quiet`);
    expect(a.stdout).toContain('job 77_2');
    expect(a.stdout.trimEnd().split('\n').pop()).toBe('evnn-slurm: exit 0');

    // Without --cpus-per-task the config's threads decide; a failure's status is passed on.
    const b = run({ SLURM_ARRAY_TASK_ID: '0', FAKE_EXIT: '3' });
    expect(b.status).toBe(3);
    expect(b.stdout).toContain(`args: /opt/evnn/bin/evnn.js run ${plan.points[0].configFile} --results-dir ${plan.resultsDir} --data-dir ${plan.dataDir} --quiet`);
    expect(b.stdout.trimEnd().split('\n').pop()).toBe('evnn-slurm: exit 3');

    // A config of all cores (threads: 0) gets the CPUs SLURM allocated, not the node's.
    const d = run({ SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_ON_NODE: '3' });
    expect(d.stdout).toContain(`args: /opt/evnn/bin/evnn.js run ${plan.points[2].configFile} --results-dir ${plan.resultsDir} --data-dir ${plan.dataDir} --quiet`);
    writeFileSync(script, sbatchScript({ ...input, node, slurm: {}, allCores: new Set([2]) }));
    const e = run({ SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_ON_NODE: '3' });
    expect(e.stdout).toContain(`args: /opt/evnn/bin/evnn.js run ${plan.points[2].configFile} --results-dir ${plan.resultsDir} --data-dir ${plan.dataDir} --threads 3 --quiet`);
    const f = run({ SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_ON_NODE: '3', SLURM_CPUS_PER_TASK: '2' });
    expect(f.stdout).toContain('--threads 2 --quiet');

    const c = run({ SLURM_ARRAY_TASK_ID: '9' });
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('no point 9 in sweep abcdef012345');
  });
});

describe('squeue, sacct and task logs', () => {
  it('reads array task ids, ranges included', () => {
    expect(taskIndices('12_3')).toEqual({ jobId: '12', indices: [3] });
    expect(taskIndices('12_[0-2,5%2]')).toEqual({ jobId: '12', indices: [0, 1, 2, 5] });
    expect(taskIndices('12_[0-6:3]')).toEqual({ jobId: '12', indices: [0, 3, 6] });
    expect(taskIndices('12')).toBeUndefined();
    expect(taskIndices('12_3.batch')).toBeUndefined();
  });

  it('parses squeue -r -t all -o %i|%T|%r', () => {
    expect(parseSqueue('12_0|RUNNING|None\n12_[3-4]|PENDING|JobArrayTaskLimit\n13|RUNNING|None\n\n')).toEqual([
      { jobId: '12', index: 0, state: 'RUNNING' },
      { jobId: '12', index: 3, state: 'PENDING', reason: 'JobArrayTaskLimit' },
      { jobId: '12', index: 4, state: 'PENDING', reason: 'JobArrayTaskLimit' },
    ]);
  });

  it('parses sacct -n -P -X -o JobID,State,ExitCode', () => {
    expect(parseSacct('12_0|COMPLETED|0:0\n12_1|FAILED|1:0\n12_1.batch|FAILED|1:0\n12_2|CANCELLED by 0|0:15\n12_[3-4]|PENDING|0:0\n')).toEqual([
      { jobId: '12', index: 0, state: 'COMPLETED', exitCode: '0:0' },
      { jobId: '12', index: 1, state: 'FAILED', exitCode: '1:0' },
      { jobId: '12', index: 2, state: 'CANCELLED', exitCode: '0:15' },
      { jobId: '12', index: 3, state: 'PENDING', exitCode: '0:0' },
      { jobId: '12', index: 4, state: 'PENDING', exitCode: '0:0' },
    ]);
    expect(describeExitCode('1:0')).toBe('exit code 1');
    expect(describeExitCode('0:9')).toBe('signal 9');
  });

  it('maps SLURM states onto what they mean for a point', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING', 'COMPLETED', 'CANCELLED', 'PREEMPTED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'].map(phaseOf)).toEqual([
      'pending', 'running', 'running', 'completed', 'interrupted', 'interrupted', 'failed', 'failed', 'failed', 'failed',
    ]);
  });

  it('asks squeue and sacct once for all jobs, and tolerates what they cannot say', () => {
    const f = fakeSlurm({ squeue: { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n' }, sacct: noAccounting });
    expect(queryQueue(f.exec, ['5', '9'])).toEqual({ tasks: new Map() });
    expect(f.calls[0]).toEqual({ cmd: 'squeue', args: ['-h', '-r', '-t', 'all', '-j', '5,9', '-o', '%i|%T|%r'] });
    expect(queryAccounting(f.exec, ['5', '9']).unavailable).toBe('no accounting storage');
    expect(f.calls[1]).toEqual({ cmd: 'sacct', args: ['-n', '-P', '-X', '-j', '5,9', '-o', 'JobID,State,ExitCode'] });
    const down = fakeSlurm({ squeue: { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n' } });
    expect(queryQueue(down.exec, ['5']).error).toBe('squeue failed (exit 1): slurm_load_jobs error: Unable to contact slurm controller (connect failure)');
    expect(queryAccounting(down.exec, ['5']).unavailable).toBe('sacct: not found');
    expect(queryQueue(down.exec, []).tasks.size).toBe(0);
    expect(down.calls).toHaveLength(2);
  });

  it('reads how a task ended from its output file', () => {
    expect(readLogVerdict('evnn-slurm: point 1\nevnn: EEXIST\nevnn-slurm: exit 1\n')).toEqual({ exit: 1 });
    expect(readLogVerdict('slurmstepd: error: *** JOB 12 ON vm CANCELLED AT 2026-01-01T10:00:00 DUE TO TIME LIMIT ***\n')).toEqual({ state: 'TIMEOUT' });
    expect(readLogVerdict('slurmstepd: error: *** JOB 12 ON vm CANCELLED AT 2026-01-01T10:00:00 ***\n')).toEqual({ state: 'CANCELLED' });
    expect(readLogVerdict('slurmstepd: error: Detected 1 oom-kill event(s) in StepId=12.batch\n')).toEqual({ state: 'OUT_OF_MEMORY' });
    expect(readLogVerdict('evnn-slurm: point 1\n')).toEqual({});
  });
});

describe('slurmBackend', () => {
  let plan: SweepPlan;
  let n = 0;
  beforeEach(() => {
    plan = makePlan(join(work, `backend-${n++}`), 'slurm: { account: lab, time: 30 }');
  });

  it('writes one array script per submission, submits it with sbatch --parsable and records the job', async () => {
    const f = fakeSlurm({ sbatch: ok('41\n') });
    const lines: string[] = [];
    const prepared: number[][] = [];
    const b = slurmBackend({ time: '45', cpusPerTask: 2, log: (l) => lines.push(l) }, {
      exec: f.exec, prepare: async (_p, pts) => { prepared.push(pts.map((p) => p.index)); }, node: '/usr/bin/node', evnn: '/x/bin/evnn.js', now: () => new Date('2026-01-02T03:04:05Z'),
    });
    expect(b.name).toBe('slurm');
    await b.run(plan, plan.points);
    const script = join(plan.dir, 'slurm', 'array-1.sbatch');
    expect(f.calls).toEqual([{ cmd: 'sbatch', args: ['--parsable', script] }]);
    expect(prepared).toEqual([[0, 1, 2]]);
    const text = readFileSync(script, 'utf8');
    // The config's section, the flags on top.
    expect(text).toContain('#SBATCH --account=lab\n');
    expect(text).toContain('#SBATCH --time=45\n');
    expect(text).toContain('#SBATCH --cpus-per-task=2\n');
    expect(text).toContain('#SBATCH --array=0-2\n');
    // These configs say threads: 1, so no point takes all the task's CPUs by itself.
    expect(text).not.toContain('all_cores=1');
    expect(readJobs(plan.dir)).toEqual({ submissions: [{ job_id: '41', array: '0-2', indices: [0, 1, 2], script: 'array-1.sbatch', submitted_at: '2026-01-02T03:04:05.000Z' }] });
    expect(lines).toEqual([`submitted job 41: array 0-2 (3 tasks) from ${script}; account=lab, time=45, cpus-per-task=2`]);
  });

  it('does not submit a point again while its task is queued or running, nor a finished one', async () => {
    mkdirSync(join(plan.dir, 'slurm'), { recursive: true });
    writeFileSync(jobsFileOf(plan.dir), JSON.stringify({ submissions: [{ job_id: '41', array: '0-2', indices: [0, 1, 2], script: 'array-1.sbatch', submitted_at: 'x' }] }));
    finish(plan.points[2].runDir);
    const f = fakeSlurm({ sbatch: ok('52;evnn\n'), squeue: ok('41_0|RUNNING|None\n41_1|FAILED|NonZeroExitCode\n'), sacct: noAccounting });
    const lines: string[] = [];
    await slurmBackend({ log: (l) => lines.push(l) }, { exec: f.exec, ...noPrepare }).run(plan, plan.points);
    expect(lines[0]).toBe('point 0: running (task 41_0 RUNNING); not submitted again');
    expect(lines[1]).toMatch(/^point 2: finished .*; not submitted again$/);
    expect(readFileSync(join(plan.dir, 'slurm', 'array-2.sbatch'), 'utf8')).toContain('#SBATCH --array=1\n');
    const jobs = readJobs(plan.dir).submissions;
    expect(jobs.map((s) => [s.job_id, s.cluster, s.array])).toEqual([['41', undefined, '0-2'], ['52', 'evnn', '1']]);
  });

  it('marks the points whose config asks for all cores', async () => {
    const p = makePlan(join(work, 'all-cores'));
    writeFileSync(p.points[1].configFile, readFileSync(p.points[1].configFile, 'utf8').replace('threads: 1', 'threads: 0'));
    await slurmBackend(quiet, { exec: fakeSlurm({ sbatch: ok('7\n') }).exec, ...noPrepare }).run(p, p.points);
    const text = readFileSync(join(p.dir, 'slurm', 'array-1.sbatch'), 'utf8');
    expect(text).toContain(`  1) point=${p.points[1].configFile}; all_cores=1 ;;`);
    expect(text).toContain(`  0) point=${p.points[0].configFile} ;;`);
  });

  it('says what sbatch said when it refuses', async () => {
    const f = fakeSlurm({ sbatch: { code: 1, stdout: '', stderr: 'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n' } });
    await expect(slurmBackend(quiet, { exec: f.exec, ...noPrepare }).run(plan, plan.points)).rejects.toThrow(/failed \(exit 1\): sbatch: error: Batch job submission failed: Invalid account/);
    expect(existsSync(jobsFileOf(plan.dir))).toBe(false);
    const none = fakeSlurm({});
    await expect(slurmBackend(quiet, { exec: none.exec, ...noPrepare }).run(plan, plan.points)).rejects.toThrow(/cannot submit .*array-1\.sbatch: sbatch: not found/);
  });

  it('refuses bad flags before anything is written', () => {
    expect(() => slurmBackend({ mem: 'lots' })).toThrow(/--mem "lots"/);
  });

  const submitted = () => {
    mkdirSync(join(plan.dir, 'slurm'), { recursive: true });
    writeFileSync(jobsFileOf(plan.dir), JSON.stringify({
      submissions: [
        { job_id: '41', array: '0-2', indices: [0, 1, 2], script: 'array-1.sbatch', submitted_at: 'x' },
        { job_id: '52', array: '1', indices: [1], script: 'array-2.sbatch', submitted_at: 'y' },
      ],
    }));
  };
  const out = (job: string, index: number, text: string) => writeFileSync(join(plan.dir, 'slurm', `${job}_${index}.out`), text);

  it('status: the run directory first, then the latest submission\'s task as sacct has it', async () => {
    submitted();
    finish(plan.points[0].runDir);
    out('41', 1, 'evnn-slurm: exit 1\n');
    out('52', 1, 'evnn: EEXIST\nevnn-slurm: exit 1\n');
    const f = fakeSlurm({ squeue: ok('41_2|PENDING|Resources\n'), sacct: ok('41_2|PENDING|0:0\n52_1|FAILED|1:0\n') });
    const st = await slurmBackend(quiet, { exec: f.exec }).status(plan);
    expect(st[0]).toMatchObject({ index: 0, state: 'finished' });
    expect(st[1]).toEqual({ index: 1, state: 'failed', detail: 'task 52_1 FAILED, exit code 1', log: join(plan.dir, 'slurm', '52_1.out') });
    expect(st[2]).toEqual({ index: 2, state: 'pending', detail: 'task 41_2 PENDING (Resources)' });
    // Only the jobs that hold an unfinished point are asked about.
    expect(f.calls.map((c) => c.args[c.args.indexOf('-j') + 1])).toEqual(['41,52', '41,52']);
  });

  it('status without accounting: squeue while it keeps the task, then the task\'s log', async () => {
    submitted();
    out('52', 1, 'evnn-slurm: point 1\nevnn: EEXIST: file already exists\nevnn-slurm: exit 1\n');
    out('41', 2, 'slurmstepd: error: *** JOB 43 ON vm CANCELLED AT 2026-01-01T10:00:00 DUE TO TIME LIMIT ***\n');
    const f = fakeSlurm({ squeue: ok('41_0|CANCELLED|None\n'), sacct: noAccounting });
    const st = await slurmBackend(quiet, { exec: f.exec }).status(plan);
    expect(st[0]).toEqual({ index: 0, state: 'stopped', detail: 'task 41_0 CANCELLED; sacct unavailable (no accounting storage), state from squeue and the task\'s log' });
    expect(st[1]).toEqual({
      index: 1, state: 'failed', log: join(plan.dir, 'slurm', '52_1.out'),
      detail: 'task 52_1 is no longer in the queue and sacct is unavailable (no accounting storage); its log says exit code 1',
    });
    expect(st[2]).toMatchObject({ index: 2, state: 'failed', detail: expect.stringMatching(/its log says TIMEOUT$/) });
  });

  it('status: a task that ended well but left no finished run is a failure; an unknown one is said', async () => {
    submitted();
    out('41', 0, 'evnn-slurm: exit 0\n');
    out('52', 1, 'evnn-slurm: point 1\n');
    const f = fakeSlurm({ squeue: ok('41_0|COMPLETED|None\n'), sacct: noAccounting });
    const st = await slurmBackend(quiet, { exec: f.exec }).status(plan);
    expect(st[0]).toMatchObject({ state: 'failed', detail: expect.stringMatching(/^task 41_0 COMPLETED, exit code 0; sacct unavailable .*, but the run did not finish \(run not started\)$/) });
    expect(st[1]).toMatchObject({ state: 'failed', detail: expect.stringMatching(/its log ends without an exit status/) });
    expect(st[2]).toEqual({ index: 2, state: 'stopped', detail: 'task 41_2 is no longer in the queue and sacct is unavailable (no accounting storage), and it wrote no log (cancelled before it started?)' });

    const down = fakeSlurm({ squeue: { code: 1, stdout: '', stderr: 'Unable to contact slurm controller\n' }, sacct: noAccounting });
    const st2 = await slurmBackend(quiet, { exec: down.exec }).status(plan);
    expect(st2[1]).toMatchObject({ state: 'running', detail: expect.stringMatching(/squeue failed .*; its log has no exit status yet \(state unknown to SLURM\)/) });
  });

  it('status of a sweep never submitted: its run directories alone, and no SLURM command', async () => {
    finish(plan.points[1].runDir);
    const f = fakeSlurm({});
    const st = await slurmBackend(quiet, { exec: f.exec }).status(plan);
    expect(st.map((s) => s.state)).toEqual(['not started', 'finished', 'not started']);
    expect(f.calls).toEqual([]);
  });
});
