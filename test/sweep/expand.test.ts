// Sweep expansion: seeds × grid into points with their own run identities, a stable sweep id, errors
// that name the point, the files written, finding a sweep again, and which points are left to run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configToYaml, loadConfig, type Config } from '../../src/config/index.js';
import { runDirFor } from '../../src/results/run-dir.js';
import { writeSummary, type Summary } from '../../src/results/summary.js';
import { expandSweep, findSweep, parseGrid, parseSeeds, pointLog, writeSweep, type SweepRequest } from '../../src/sweep/expand.js';
import { readSweepFile } from '../../src/results/sweep-file.js';
import { localBackend, threadsPerJob } from '../../src/sweep/local-backend.js';
import { runUnfinished, unfinishedPoints } from '../../src/sweep/sweep.js';
import type { SweepBackend, SweepPoint } from '../../src/results/sweep-plan.js';

const CONFIG = `
seed: 3
threads: 2
data:
  dataset: mnist
  view: smnist-rows
  limit: { train: 200, valid: 100, test: 100 }
model:
  rnn: { type: gru, hidden_size: 16 }
train:
  epochs: 2
  batch_size: 50
  optimizer: { type: adam, lr: 0.01 }
`;

function setup(text = CONFIG) {
  const root = mkdtempSync(join(tmpdir(), 'evnn-expand-'));
  const file = join(root, 'tiny.yaml');
  writeFileSync(file, text);
  const req = (o: Partial<SweepRequest> = {}): SweepRequest => ({
    configFile: file, resultsDir: join(root, 'results'), dataDir: join(root, 'datasets'), ...o,
  });
  return { root, file, req };
}

const grid = (...specs: string[]) => specs.map(parseGrid);

describe('parsing --seeds and --grid', () => {
  it('--seeds: ranges, lists, both; errors say what is wrong', () => {
    expect(parseSeeds('1..5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeeds('1,3,7')).toEqual([1, 3, 7]);
    expect(parseSeeds('0')).toEqual([0]);
    expect(parseSeeds('1..3,7')).toEqual([1, 2, 3, 7]);
    expect(() => parseSeeds('5..1')).toThrow(/range 5\.\.1 is empty/);
    expect(() => parseSeeds('1,x')).toThrow(/"x" is not an integer >= 0/);
    expect(() => parseSeeds('-1')).toThrow(/not an integer >= 0/);
    expect(() => parseSeeds('1..3,2')).toThrow(/seed 2 is given twice/);
  });

  it('--grid: values read as YAML like --set values (a comma inside brackets or quotes belongs to the value)', () => {
    expect(parseGrid('model.rnn.hidden_size=64,128')).toEqual({ key: 'model.rnn.hidden_size', values: [64, 128] });
    expect(parseGrid('train.optimizer.lr=0.01,1e-3')).toEqual({ key: 'train.optimizer.lr', values: [0.01, 0.001] });
    expect(parseGrid('data.view=smnist-rows,psmnist')).toEqual({ key: 'data.view', values: ['smnist-rows', 'psmnist'] });
    expect(parseGrid('x.y=[1,2],[3,4]').values).toEqual([[1, 2], [3, 4]]);
    expect(parseGrid('x.y="a,b",true,{ type: adam }').values).toEqual(['a,b', true, { type: 'adam' }]);
    expect(() => parseGrid('hidden')).toThrow(/expects key=v1,v2/);
    expect(() => parseGrid('model.rnn.hidden_size=')).toThrow(/no values/);
    expect(() => parseGrid('model.rnn.hidden_size=8,8')).toThrow(/the value 8 is given twice/);
    expect(() => parseGrid('seed=1,2')).toThrow(/--seeds/);
    expect(() => parseGrid('name=a,b')).toThrow(/share the config's name/);
  });
});

describe('expanding a sweep', () => {
  it('points are the grid\'s combinations (first key slowest), each with every seed; each config has its values', () => {
    const { req } = setup();
    const { plan, configs } = expandSweep(req({ seeds: [1, 2], grid: grid('model.rnn.hidden_size=8,16', 'train.optimizer.lr=0.01,0.001') }));
    expect(plan.points).toHaveLength(8);
    expect(plan.points.map((p) => [p.index, p.seed, p.grid['model.rnn.hidden_size'], p.grid['train.optimizer.lr']])).toEqual([
      [0, 1, 8, 0.01], [1, 2, 8, 0.01], [2, 1, 8, 0.001], [3, 2, 8, 0.001],
      [4, 1, 16, 0.01], [5, 2, 16, 0.01], [6, 1, 16, 0.001], [7, 2, 16, 0.001],
    ]);
    for (const p of plan.points) {
      const c = configs[p.index];
      expect([c.seed, c.model.rnn.hidden_size, c.train.optimizer.lr]).toEqual([p.seed, p.grid['model.rnn.hidden_size'], p.grid['train.optimizer.lr']]);
      expect(c.train.epochs).toBe(2);
      expect(p.runDir).toBe(runDirFor(plan.resultsDir, c));
    }
    // Every point is a run of its own.
    expect(new Set(plan.points.map((p) => p.runDir)).size).toBe(8);
    expect(plan.dir).toBe(join(plan.resultsDir, 'tiny', 'sweeps', plan.id));
    expect(plan.source).toMatchObject({ seeds: [1, 2], grid: { 'model.rnn.hidden_size': [8, 16], 'train.optimizer.lr': [0.01, 0.001] }, sets: [] });
  });

  it('without --seeds one seed, the config\'s; --set applies to every point', () => {
    const { req } = setup();
    const { plan, configs } = expandSweep(req({ grid: grid('model.rnn.hidden_size=8,16'), sets: ['train.epochs=1'] }));
    expect(plan.points.map((p) => p.seed)).toEqual([3, 3]);
    expect(configs.map((c) => c.train.epochs)).toEqual([1, 1]);
  });

  it('the id is stable: the same config, seeds, grid and sets give the same sweep; any change gives another', () => {
    const { root, file, req } = setup();
    const base = { seeds: [1, 2], grid: grid('model.rnn.hidden_size=8,16'), sets: ['train.epochs=1'] };
    const id = expandSweep(req(base)).plan.id;
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(expandSweep(req(base)).plan.id).toBe(id);
    // Where the results go is not part of it; the values and their order are.
    expect(expandSweep(req({ ...base, resultsDir: join(root, 'elsewhere') })).plan.id).toBe(id);
    const others = [
      { ...base, seeds: [1, 3] },
      { ...base, grid: grid('model.rnn.hidden_size=16,8') },
      { ...base, grid: grid('model.rnn.hidden_size=8,16,32') },
      { ...base, sets: ['train.epochs=2'] },
      { ...base, sets: [] },
    ].map((o) => expandSweep(req(o)).plan.id);
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
    // The config's resolved content counts, not its text: a comment changes nothing, a value does.
    writeFileSync(file, `${CONFIG}# a comment\n`);
    expect(expandSweep(req(base)).plan.id).toBe(id);
    writeFileSync(file, CONFIG.replace('batch_size: 50', 'batch_size: 25'));
    expect(expandSweep(req(base)).plan.id).not.toBe(id);
  });

  it('a bad grid key or value is a config error naming the point', () => {
    const { req } = setup();
    const bad = (o: Partial<SweepRequest>) => {
      try {
        expandSweep(req(o));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error('no error');
    };
    const key = bad({ seeds: [1, 2], grid: grid('model.rnn.hiden_size=8,16') });
    expect(key.file).toMatch(/tiny\.yaml at sweep point 0 \(seed 1, model\.rnn\.hiden_size=8\)$/);
    expect(key.issues.map((i) => i.path)).toContain('model.rnn.hiden_size');
    const value = bad({ seeds: [1, 2], grid: grid('model.rnn.hidden_size=8,abc') });
    expect(value.file).toMatch(/at sweep point 2 \(seed 1, model\.rnn\.hidden_size=abc\)$/);
    expect(value.issues.map((i) => i.path)).toEqual(['model.rnn.hidden_size']);
    // A --set and a --grid of one key, a key given twice, a --set seed with --seeds.
    expect(() => expandSweep(req({ grid: grid('train.epochs=1,2'), sets: ['train.epochs=3'] }))).toThrow(/both as --set and as --grid/);
    expect(() => expandSweep(req({ grid: grid('train.epochs=1,2', 'train.epochs=3') }))).toThrow(/given twice/);
    expect(() => expandSweep(req({ seeds: [1], sets: ['seed=4'] }))).toThrow(/--seeds only/);
  });

  it('points that would be the same run are an error (a grid key that does not change what is computed)', () => {
    const { req } = setup();
    expect(() => expandSweep(req({ grid: grid('train.checkpoint_every=1,2') }))).toThrow(/sweep point 1 .* and point 0 .* are the same run/);
  });

  it('writes each point\'s resolved config and sweep.json; the files read back to the same runs; found by id, directory or file', () => {
    const { root, req } = setup();
    const expanded = expandSweep(req({ seeds: [1, 2], grid: grid('model.rnn.hidden_size=8,16') }));
    writeSweep(expanded);
    const { plan, configs } = expanded;
    for (const p of plan.points) {
      expect(p.configFile).toBe(join(plan.dir, 'points', `${p.index}.yaml`));
      const back = loadConfig(p.configFile);
      expect(back).toEqual(configs[p.index]);
      expect(runDirFor(plan.resultsDir, back)).toBe(p.runDir);
    }
    const file = join(plan.dir, 'sweep.json');
    expect(readSweepFile(file)).toEqual(plan);
    expect(findSweep(plan.dir, '/nowhere')).toEqual(plan);
    expect(findSweep(file, '/nowhere')).toEqual(plan);
    expect(findSweep(plan.id, join(root, 'results'))).toEqual(plan);
    expect(findSweep(plan.id.slice(0, 6), join(root, 'results'))).toEqual(plan);
    expect(() => findSweep('abcdef123456', join(root, 'results'))).toThrow(/no sweep abcdef123456 under/);
    expect(() => findSweep(root, join(root, 'results'))).toThrow(/not a sweep/);
  });
});

describe('which points run', () => {
  const summaryOf = (cfg: Config): Summary => ({
    config: cfg.name, run_id: 'x', status: 'finished', metric: { name: 'accuracy', value: 0.5, best_valid: 0.6 },
    final: { test_accuracy: 0.5, test_loss: 1, best_valid_accuracy: 0.6, best_epoch: 1 }, paper: null, epochs_run: cfg.train.epochs,
    wall_time_s: 1, train_samples_per_s: 100, backend: { device: 'cpu', gemm: 'builtin', simd: 'avx2', threads: 1 }, evnn_version: '0.1.0', finished_at: 'now',
  });

  it('a finished point is skipped; an interrupted, failed or unstarted one runs', async () => {
    const { req } = setup();
    const expanded = expandSweep(req({ seeds: [1, 2], grid: grid('model.rnn.hidden_size=8,16') }));
    writeSweep(expanded);
    const { plan, configs } = expanded;
    // Point 1 finished, point 2 interrupted (its directory without a summary), point 3's process failed.
    const write = (i: number, finished: boolean) => {
      mkdirSync(plan.points[i].runDir, { recursive: true });
      writeFileSync(join(plan.points[i].runDir, 'config.yaml'), configToYaml(configs[i]));
      if (finished) writeSummary(join(plan.points[i].runDir, 'summary.json'), summaryOf(configs[i]));
    };
    write(1, true);
    write(2, false);
    mkdirSync(join(plan.dir, 'logs'), { recursive: true });
    writeFileSync(pointLog(plan.dir, 3), '# evnn sweep x, point 3\n# pid 1 on nowhere, started now\nevnn: something broke\n# exit 1 after 0.5 s\n');

    const statuses = await localBackend().status(plan);
    expect(statuses.map((s) => s.state)).toEqual(['not started', 'finished', 'stopped', 'failed']);
    expect(statuses[1].detail).toBe('test accuracy 50.00%, best valid 60.00%');
    expect(statuses[3]).toMatchObject({ log: pointLog(plan.dir, 3), detail: 'exit 1 after 0.5 s: evnn: something broke' });
    expect(unfinishedPoints(plan, statuses).map((p) => p.index)).toEqual([0, 2, 3]);

    // runUnfinished hands the backend only those.
    const ran: SweepPoint[][] = [];
    const backend: SweepBackend = { name: 'local', status: (p) => localBackend().status(p), run: async (_p, pts) => void ran.push([...pts]) };
    const said: string[] = [];
    await runUnfinished(plan, backend, (l) => said.push(l));
    expect(ran.map((pts) => pts.map((p) => p.index))).toEqual([[0, 2, 3]]);
    expect(said).toEqual([`sweep ${plan.id}: skipping 1 of 4 points (1 finished)`]);

    // Once every point finished, nothing runs.
    for (const i of [0, 2, 3]) write(i, true);
    ran.length = 0;
    await runUnfinished(plan, backend, () => {});
    expect(ran).toEqual([]);
    expect(existsSync(plan.points[0].runDir)).toBe(true);
    expect(readFileSync(join(plan.dir, 'sweep.json'), 'utf8')).toContain(plan.id);
  });

  it('threads are split between the jobs, at least one each', () => {
    expect(threadsPerJob(2, 2)).toBe(1);
    expect(threadsPerJob(3, 8)).toBe(2);
    expect(threadsPerJob(4, 2)).toBe(1);
    expect(threadsPerJob(1, 6)).toBe(6);
  });
});
