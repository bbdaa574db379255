// `evnn sweep` end to end with the local backend on tiny real MNIST: 2 seeds × 2 hidden sizes in a
// pool of 2 jobs, one point SIGKILLed mid-run (reported failed with its log), resubmitted (it
// resumes; the others are skipped), the same command finding the same sweep, and `evnn table`
// aggregating the sweep into one row per grid point with the best marked.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SweepPlan } from '../../src/results/sweep-plan.js';
import { bin, evnn, root, tempDir, tinyConfig, writeConfig, type CliResult } from './helpers.js';

const dataDir = tempDir('sweep-data');
const results = tempDir('sweep-results');
const cfgDir = tempDir('sweep-cfg');
// 3 epochs of 3000 samples: long enough to be killed between two epochs' checkpoints.
const cfg = writeConfig(cfgDir, 'tiny', `${tinyConfig({ trainLimit: 3000, epochs: 3, hidden: 8 })}report: false\n`);
const SWEEP = ['sweep', cfg, '--seeds', '1..2', '--grid', 'model.rnn.hidden_size=8,16', '--jobs', '2', '--threads', '2', '--data-dir', dataDir, '--results-dir', results];

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The one sweep under results/tiny/sweeps/, once its sweep.json is written. */
function sweepPlan(): SweepPlan | undefined {
  const dir = join(results, 'tiny', 'sweeps');
  if (!existsSync(dir)) return undefined;
  const ids = readdirSync(dir).filter((id) => existsSync(join(dir, id, 'sweep.json')));
  return ids.length === 1 ? json(join(dir, ids[0], 'sweep.json')) : undefined;
}

/** Runs the CLI in the background, collecting its output; `watch` is polled every 5 ms until it returns true. */
function evnnWatched(args: string[], watch: () => boolean): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let watching = true;
  const poll = () => {
    if (!watching) return;
    if (watch()) watching = false;
    else setTimeout(poll, 5);
  };
  poll();
  return new Promise((res) => child.on('close', (code) => {
    watching = false;
    res({ code, stdout, stderr });
  }));
}

describe('evnn sweep, local backend', () => {
  let plan: SweepPlan;
  let killed = -1;

  it('runs the points in a pool; a point killed mid-run is reported failed with its log, and the sweep exits 1', async () => {
    // Kill the first point seen between epochs: its last.safetensors written, its summary.json not yet.
    const r = await evnnWatched(SWEEP, () => {
      const p = sweepPlan();
      if (!p) return false;
      for (const pt of p.points) {
        const log = join(p.dir, 'logs', `${pt.index}.log`);
        if (!existsSync(join(pt.runDir, 'last.safetensors')) || existsSync(join(pt.runDir, 'summary.json')) || !existsSync(log)) continue;
        const pid = /^# pid (\d+)/m.exec(readFileSync(log, 'utf8'));
        if (!pid) continue;
        process.kill(Number(pid[1]), 'SIGKILL');
        killed = pt.index;
        return true;
      }
      return false;
    });
    expect(killed, `no point was caught mid-run:\n${r.stderr}`).toBeGreaterThanOrEqual(0);
    plan = sweepPlan()!;
    expect(plan.points).toHaveLength(4);
    expect(plan.backend).toEqual({ name: 'local', options: { jobs: 2, threads: 2 } });
    expect(r.code).toBe(1);
    const p = plan.points[killed];
    const label = `point ${killed} (seed ${p.seed}, model.rnn.hidden_size=${p.grid['model.rnn.hidden_size']})`;
    expect(r.stderr).toContain(`sweep ${plan.id}: 4 points (2 grid points × 2 seeds)`);
    expect(r.stderr).toContain('4 points to run, 2 at a time, 1 thread each');
    expect(r.stderr).toMatch(new RegExp(`failed: ${label.replace(/[()]/g, '\\$&')}: killed by SIGKILL after [0-9.]+ s; log \\S+/logs/${killed}\\.log`));
    expect(r.stdout).toContain('3 finished, 1 failed');
    // The other points finished, each with its share of the threads.
    for (const q of plan.points.filter((q) => q.index !== killed)) {
      expect(json(join(q.runDir, 'summary.json')).backend.threads).toBe(1);
      expect(readFileSync(join(plan.dir, 'logs', `${q.index}.log`), 'utf8')).toMatch(/\n# exit 0 after [0-9.]+ s\n$/);
    }
    expect(existsSync(join(p.runDir, 'summary.json'))).toBe(false);
  });

  it('status says which point failed and where its log is', () => {
    const r = evnn(['sweep', 'status', plan.id, '--results-dir', results, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { id: string; points: { index: number; state: string; log?: string; detail?: string }[] };
    expect(s.id).toBe(plan.id);
    expect(s.points.map((x) => x.state)).toEqual(plan.points.map((q) => (q.index === killed ? 'failed' : 'finished')));
    expect(s.points[killed].log).toBe(join(plan.dir, 'logs', `${killed}.log`));
    expect(s.points[killed].detail).toMatch(/^killed by SIGKILL/);
    const text = evnn(['sweep', 'status', plan.dir]);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[1]).toMatch(/^point +seed +model\.rnn\.hidden_size +state +run +detail$/);
    expect(text.stdout.split('\n').find((l) => l.startsWith(`${killed} `))).toMatch(/ failed .*log \S+\.log/);
  });

  it('resubmit runs only the failed point, which resumes; the finished ones are left alone', () => {
    const others = plan.points.filter((q) => q.index !== killed);
    const mtimes = () => others.map((q) => statSync(join(q.runDir, 'summary.json')).mtimeMs);
    const before = mtimes();
    const r = evnn(['sweep', 'resubmit', plan.id, '--results-dir', results]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`sweep ${plan.id}: skipping 3 of 4 points (3 finished)`);
    expect(r.stderr).toContain('1 point to run, 2 at a time, 1 thread each');
    expect(r.stdout).toContain('4 finished');
    expect(mtimes()).toEqual(before);
    const p = plan.points[killed];
    const log = readFileSync(join(p.runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.some((l) => l.event === 'resume')).toBe(true);
    expect(json(join(p.runDir, 'summary.json'))).toMatchObject({ status: 'finished', epochs_run: 3 });
  });

  it('the same command finds the same sweep, with nothing left to run; wait returns at once', () => {
    const again = evnn(SWEEP);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`sweep ${plan.id}: nothing to run (4 finished)`);
    const wait = evnn(['sweep', 'wait', plan.id, '--results-dir', results]);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('4 finished');
  });

  it('evnn table aggregates the sweep: a row per grid point, mean over its 2 seeds, the best by validation marked', () => {
    const r = evnn(['table', '--only', plan.dir, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { method: string; grid: Record<string, number>; n: number; seeds: number[]; value: number; valid_value: number; best: boolean; sweep: string }[];
    expect(rows.map((x) => [x.method, x.grid, x.n, x.seeds, x.sweep])).toEqual([
      ['GRU 8', { 'model.rnn.hidden_size': 8 }, 2, [1, 2], plan.id],
      ['GRU 16', { 'model.rnn.hidden_size': 16 }, 2, [1, 2], plan.id],
    ]);
    for (const [i, row] of rows.entries()) {
      const summaries = plan.points.filter((q) => q.grid['model.rnn.hidden_size'] === [8, 16][i]).map((q) => json(join(q.runDir, 'summary.json')));
      expect(row.value).toBeCloseTo((summaries[0].metric.value + summaries[1].metric.value) / 2, 12);
      expect(row.valid_value).toBeCloseTo((summaries[0].metric.best_valid + summaries[1].metric.best_valid) / 2, 12);
    }
    expect(rows.filter((x) => x.best)).toHaveLength(1);
    const best = rows.find((x) => x.best)!;
    expect(best.valid_value).toBe(Math.max(...rows.map((x) => x.valid_value)));

    // The terminal table: a grid and a valid column; the sweep.json path gives the same rows.
    const text = evnn(['table', '--only', join(plan.dir, 'sweep.json')]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^benchmark +method +grid +dataset .* evnn +n +valid +gap /);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^tiny +GRU 8 +hidden_size=8 /);
    expect(lines[2 + rows.indexOf(best)]).toMatch(/ 2 +\d+\.\d\d% \(best\) /);
  });
});

describe('evnn sweep, interrupted', () => {
  it('SIGTERM stops the children (their runs resume later): exit 143, the points stopped, none failed', async () => {
    const results3 = tempDir('sweep-term');
    const args = ['sweep', cfg, '--seeds', '1..2', '--jobs', '2', '--threads', '2', '--data-dir', dataDir, '--results-dir', results3, '--set', 'train.epochs=20'];
    const logs = () => {
      const dir = join(results3, 'tiny', 'sweeps');
      if (!existsSync(dir)) return [];
      const [id] = readdirSync(dir);
      const logDir = join(dir, id, 'logs');
      return existsSync(logDir) ? readdirSync(logDir).map((f) => join(logDir, f)) : [];
    };
    const pids: number[] = [];
    let sweepPid = 0;
    const r = await new Promise<CliResult>((res) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CI: '1' } });
      sweepPid = child.pid!;
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const poll = () => {
        // Once both points have written an epoch line, stop the sweep (not its children: it must stop them).
        const texts = logs().map((f) => readFileSync(f, 'utf8'));
        if (texts.length === 2 && texts.every((t) => /^epoch 1\/20/m.test(t))) {
          for (const t of texts) pids.push(Number(/^# pid (\d+)/m.exec(t)![1]));
          process.kill(sweepPid, 'SIGTERM');
        } else setTimeout(poll, 10);
      };
      poll();
      child.on('close', (code) => res({ code, stdout, stderr }));
    });
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/interrupted \(SIGTERM\); points 0, 1 stopped, `evnn sweep resubmit [0-9a-f]{12}` runs what is left/);
    // The children are gone, and their logs say they were interrupted.
    const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    expect(pids.filter(alive)).toEqual([]);
    for (const f of logs()) expect(readFileSync(f, 'utf8')).toMatch(/\n# interrupted by SIGTERM after [0-9.]+ s\n$/);
    const s = evnn(['sweep', 'status', join(results3, 'tiny', 'sweeps', readdirSync(join(results3, 'tiny', 'sweeps'))[0]), '--format', 'json']);
    expect((JSON.parse(s.stdout) as { points: { state: string }[] }).points.map((x) => x.state)).toEqual(['stopped', 'stopped']);
  });
});

describe('evnn sweep: what is checked before anything runs', () => {
  it('a bad grid value is a config error naming the point; --dry-run writes the points and runs nothing', () => {
    const results2 = tempDir('sweep-dry');
    const bad = evnn(['sweep', cfg, '--seeds', '1,2', '--grid', 'model.rnn.hidden_size=8,abc', '--results-dir', results2, '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/evnn: invalid config \S+tiny\.yaml at sweep point 2 \(seed 1, model\.rnn\.hidden_size=abc\)\nmodel\.rnn\.hidden_size: /);
    const key = evnn(['sweep', cfg, '--grid', 'model.rnn.hiden_size=8', '--results-dir', results2, '--data-dir', dataDir]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain('at sweep point 0 (seed 3, model.rnn.hiden_size=8)');
    expect(key.stderr).toContain('model.rnn.hiden_size');
    expect(existsSync(join(results2, 'tiny'))).toBe(false);

    const dry = evnn(['sweep', cfg, '--grid', 'train.optimizer.lr=0.01,0.003', '--results-dir', results2, '--data-dir', dataDir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 not started');
    expect(dry.stdout).toContain('dry run: nothing was run');
    const [id] = readdirSync(join(results2, 'tiny', 'sweeps'));
    expect(readdirSync(join(results2, 'tiny', 'sweeps', id, 'points')).sort()).toEqual(['0.yaml', '1.yaml']);
    expect(readdirSync(join(results2, 'tiny'))).toEqual(['sweeps']);
    const usage = evnn(['sweep', cfg, '--jobs', '2', '--backend', 'slurm', '--results-dir', results2, '--dry-run']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('--jobs: for --backend local');
  });
});
