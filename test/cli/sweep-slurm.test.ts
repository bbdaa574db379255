// `evnn sweep --backend slurm` on a real SLURM: a single node started on this machine by
// scripts/slurm-single-node.sh (Debian's slurmctld, slurmd and munge; root), a 3-task array of tiny
// MNIST configs, `evnn sweep wait`, the table of the sweep, then one task failing for real (its run
// directory is blocked by a file, so `evnn run` exits 1 under SLURM) and `evnn sweep resubmit`
// running only that point again. Outside CI the test is skipped (with the reason) when SLURM is not
// installed or this is not root; in CI (CI set) that is a failure, as is a node that cannot start.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, evnn, root, tempDir, tinyConfig, writeConfig } from './helpers.js';

const script = join(root, 'scripts', 'slurm-single-node.sh');
const inCI = Boolean(process.env.CI);

function unavailable(): string | undefined {
  const missing = ['sbatch', 'squeue', 'scancel', 'sinfo', 'slurmctld', 'slurmd', 'munged'].filter(
    (b) => spawnSync('bash', ['-c', `command -v ${b} || test -x /usr/sbin/${b}`]).status !== 0,
  );
  if (missing.length > 0) return `SLURM is not installed (missing ${missing.join(', ')}; apt-get install slurmctld slurmd munge slurm-client)`;
  if (process.getuid?.() !== 0) return 'scripts/slurm-single-node.sh must run as root to write /etc/slurm/slurm.conf and start the daemons';
  return undefined;
}

const why = unavailable();
if (why && !inCI) console.warn(`test/cli/sweep-slurm.test.ts skipped: ${why}`);

const sh = (...args: string[]) => spawnSync(script, args, { encoding: 'utf8', timeout: 180_000 });

describe.skipIf(why !== undefined && !inCI)('evnn sweep --backend slurm on a single-node SLURM', () => {
  const work = tempDir('sweep-slurm');
  const results = join(work, 'results');
  const data = join(work, 'datasets');
  const dirs = ['--results-dir', results, '--data-dir', data];
  let startedHere = false;
  let id = '';
  let sweepDir = '';
  let points: { index: number; seed: number; runDir: string }[] = [];

  beforeAll(() => {
    if (why) throw new Error(`CI: ${why}`);
    startedHere = sh('status').status !== 0;
    const r = sh('start');
    if (r.status !== 0) throw new Error(`scripts/slurm-single-node.sh start failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  });

  afterAll(() => {
    // Cancel whatever this test submitted and is still queued or running, then stop what it started.
    const jobsFile = join(sweepDir, 'slurm', 'jobs.json');
    if (sweepDir && existsSync(jobsFile)) {
      const ids = (JSON.parse(readFileSync(jobsFile, 'utf8')) as { submissions: { job_id: string }[] }).submissions.map((s) => s.job_id);
      if (ids.length > 0) spawnSync('scancel', ids, { encoding: 'utf8' });
    }
    if (startedHere) {
      const r = sh('stop');
      if (r.status !== 0) console.warn(`scripts/slurm-single-node.sh stop: ${r.stderr}`);
    }
    rmSync(work, { recursive: true, force: true });
  });

  const status = () => {
    const r = evnn(['sweep', 'status', id, '--results-dir', results, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { backend: string; points: { index: number; state: string; detail?: string; log?: string }[] };
  };
  /** `evnn sweep wait`, given up after 4 minutes with what SLURM says (a task stuck pending would hang it). */
  const wait = () => {
    const r = spawnSync(process.execPath, [bin, 'sweep', 'wait', id, '--results-dir', results, '--interval', '1'], {
      cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CI: '1' },
    });
    if (r.error || r.status === null) {
      const q = spawnSync('bash', ['-c', 'squeue -r -t all; sinfo; scontrol show node'], { encoding: 'utf8' });
      throw new Error(`evnn sweep wait did not return within 4 minutes (${r.error?.message ?? r.signal}):\n${r.stderr}\n${q.stdout}${q.stderr}`);
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const tableRow = () => {
    const r = evnn(['table', sweepDir, '--only', '--format', 'json', '--results-dir', results]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { n: number; sweep?: string; value: number | null }[];
    expect(rows).toHaveLength(1);
    return rows[0];
  };
  /**
   * Each task's state once SLURM has it ended (squeue keeps ended tasks for MinJobAge). A point is
   * finished as soon as its summary.json is written; its task still writes report.html and its
   * output, so `evnn sweep wait` can return a moment before the task ends.
   */
  const endedTasks = async (jobId: string) => {
    for (let tries = 0; ; tries++) {
      const r = spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%i %T'], { encoding: 'utf8' });
      const states: Record<string, string> = Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ')));
      if (r.status === 0 && !Object.values(states).some((s) => ['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING'].includes(s))) return states;
      if (tries > 120) throw new Error(`job ${jobId}'s tasks did not end: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  };
  const submissions = () => (JSON.parse(readFileSync(join(sweepDir, 'slurm', 'jobs.json'), 'utf8')) as { submissions: { job_id: string; array: string; indices: number[] }[] }).submissions;

  it('submits one array task per seed, and every task finishes its run', async () => {
    // The config's slurm: section gives the time and memory; the flag gives the CPUs (and so the threads).
    const config = writeConfig(work, 'tiny-slurm', `${tinyConfig({ trainLimit: 200, epochs: 1, hidden: 8 })}slurm: { time: 10, mem: 1G }\n`);
    const r = evnn(['sweep', config, '--seeds', '1..3', '--backend', 'slurm', '--cpus-per-task', '1', ...dirs]);
    expect(r.code, r.stderr).toBe(0);
    const m = /sweep ([0-9a-f]{12}): 3 points/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    id = m![1];
    sweepDir = join(results, 'tiny-slurm', 'sweeps', id);
    expect(r.stderr).toMatch(/submitted job \d+: array 0-2 \(3 tasks\)/);
    const sbatch = readFileSync(join(sweepDir, 'slurm', 'array-1.sbatch'), 'utf8');
    for (const line of [`--job-name=evnn-tiny-slurm-${id}`, '--array=0-2', `--output=${sweepDir}/slurm/%A_%a.out`, '--time=10', '--mem=1G', '--cpus-per-task=1']) {
      expect(sbatch).toContain(`#SBATCH ${line}\n`);
    }
    expect(status().backend).toBe('slurm');

    const w = wait();
    expect(w.code, `${w.stdout}\n${w.stderr}`).toBe(0);
    const plan = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { points: typeof points };
    points = plan.points;
    expect(points.map((p) => p.seed)).toEqual([1, 2, 3]);
    const [job] = submissions();
    expect(await endedTasks(job.job_id)).toEqual({ [`${job.job_id}_0`]: 'COMPLETED', [`${job.job_id}_1`]: 'COMPLETED', [`${job.job_id}_2`]: 'COMPLETED' });
    for (const p of points) {
      const summary = JSON.parse(readFileSync(join(p.runDir, 'summary.json'), 'utf8')) as { status: string; epochs_run: number; backend: { threads: number } };
      expect(summary).toMatchObject({ status: 'finished', epochs_run: 1, backend: { threads: 1 } });
      const out = readFileSync(join(sweepDir, 'slurm', `${job.job_id}_${p.index}.out`), 'utf8');
      expect(out, out).toContain(`finished: ${p.runDir}`);
      expect(out.trimEnd().split('\n').pop()).toBe('evnn-slurm: exit 0');
    }
    expect(status().points.map((p) => p.state)).toEqual(['finished', 'finished', 'finished']);
  }, 300_000);

  it('aggregates the sweep in the table', () => {
    const row = tableRow();
    expect(row.n).toBe(3);
    expect(row.sweep).toBe(id);
    expect(row.value).not.toBeNull();
  });

  it('reports a failed task with its log, and resubmit runs only the unfinished point', async () => {
    const failing = points[1];
    // A file where the run directory goes: `evnn run` cannot create it and exits 1 inside the task.
    rmSync(failing.runDir, { recursive: true, force: true });
    writeFileSync(failing.runDir, 'in the way\n');
    const r = evnn(['sweep', 'resubmit', id, '--results-dir', results]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/submitted job \d+: array 1 \(1 task\)/);
    expect(readFileSync(join(sweepDir, 'slurm', 'array-2.sbatch'), 'utf8')).toContain('#SBATCH --array=1\n');
    const failedJob = submissions()[1];
    expect(failedJob.indices).toEqual([1]);

    const w = wait();
    expect(w.code).toBe(1);
    expect(await endedTasks(failedJob.job_id)).toEqual({ [`${failedJob.job_id}_1`]: 'FAILED' });
    const log = join(sweepDir, 'slurm', `${failedJob.job_id}_1.out`);
    expect(w.stderr).toContain('failed: ');
    expect(w.stderr).toContain(`${failedJob.job_id}_1.out`);
    const st = status().points;
    expect(st.map((p) => p.state)).toEqual(['finished', 'failed', 'finished']);
    expect(st[1].log).toBe(log);
    // With accounting (a cluster's slurmdbd) sacct gives the exit code; this node has none, and says so.
    expect(st[1].detail).toMatch(new RegExp(`task ${failedJob.job_id}_1 .*(FAILED|exit code 1)`));
    const out = readFileSync(log, 'utf8');
    expect(out).toContain('EEXIST');
    expect(out.trimEnd().split('\n').pop()).toBe('evnn-slurm: exit 1');

    // Cleared, the point runs again on its own; the finished ones are not touched.
    rmSync(failing.runDir);
    const before = points.filter((p) => p !== failing).map((p) => readFileSync(join(p.runDir, 'summary.json'), 'utf8'));
    const again = evnn(['sweep', 'resubmit', id, '--results-dir', results]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/submitted job \d+: array 1 \(1 task\)/);
    expect(submissions().map((s) => s.indices)).toEqual([[0, 1, 2], [1], [1]]);
    const w2 = wait();
    expect(w2.code, `${w2.stdout}\n${w2.stderr}`).toBe(0);
    const rerun = submissions()[2].job_id;
    expect(await endedTasks(rerun)).toEqual({ [`${rerun}_1`]: 'COMPLETED' });
    expect(existsSync(join(failing.runDir, 'summary.json'))).toBe(true);
    expect(points.filter((p) => p !== failing).map((p) => readFileSync(join(p.runDir, 'summary.json'), 'utf8'))).toEqual(before);
    expect(tableRow().n).toBe(3);

    // Nothing is left to submit.
    const none = evnn(['sweep', 'resubmit', id, '--results-dir', results]);
    expect(none.code, none.stderr).toBe(0);
    expect(submissions()).toHaveLength(3);
  }, 300_000);
});
