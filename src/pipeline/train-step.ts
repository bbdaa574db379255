// A training step (pretrain, retrain): resumes from last.safetensors when its directory has one;
// otherwise starts from the seeded initialisation or, with init_from, from an earlier step's best
// checkpoint. Trains the remaining epochs with validation after each, keeps the checkpoint that is
// best under the model's task metric, then tests it. Everything a step writes goes through atomic
// writes, so an interruption loses at most the epoch in progress.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { configToYaml } from '../config/index.js';
import type { StateRecord } from '../layers/parameters.js';
import { createRunLogger } from '../log/logger.js';
import { EpochProgress } from '../log/progress.js';
import type { LayerSparsity } from '../models/sequence-classifier.js';
import type { TaskMetric } from '../models/task-metric.js';
import { native } from '../native/addon.js';
import { MetricsTable, type MetricRow } from '../results/metrics.js';
import { SparsityTable, sparsityRow } from '../results/sparsity.js';
import { readSummary, writeSummary, type Summary } from '../results/summary.js';
import { loadBestCheckpoint, loadLast, loadModelState, saveBest, saveLast, type LoopState } from '../train/checkpoint.js';
import { NonFiniteLossError } from '../train/errors.js';
import { learningRate } from '../train/schedule.js';
import { plateauStart, plateauStep } from '../train/plateau.js';
import { writeFileAtomic } from '../util/atomic.js';
import { updateBest } from './best.js';
import { prepareInputs } from './data-source.js';
import { setUpEngine } from './engine.js';
import { buildOptimizer, scheduleOf } from './model-from-config.js';
import { openTask } from './task.js';
import type { PipelineOptions, RunOutcome } from './options.js';
import type { RunPlan, TrainingStepPlan } from '../results/run-plan.js';
import { StepOrderError } from './step-errors.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const stepFiles = (dir: string) => ({
  config: join(dir, 'config.yaml'),
  last: join(dir, 'last.safetensors'),
  best: join(dir, 'best.safetensors'),
  metrics: join(dir, 'metrics.arrow'),
  sparsity: join(dir, 'sparsity.arrow'),
  summary: join(dir, 'summary.json'),
});

/** The step's summary when it has finished, else null. */
export function finishedSummary(step: TrainingStepPlan): Summary | null {
  const file = stepFiles(step.dir).summary;
  if (!existsSync(file)) return null;
  const s = readSummary(file);
  return s.status === 'finished' ? s : null;
}

export async function trainStep(run: RunPlan, step: TrainingStepPlan, opts: PipelineOptions): Promise<RunOutcome> {
  const cfg = step.cfg;
  const engine = setUpEngine(cfg, opts);
  const files = stepFiles(step.dir);
  const done = finishedSummary(step);
  if (done) return { runDir: step.dir, summary: done, skipped: true };
  if (step.from && !finishedSummary(step.from.step)) {
    throw new StepOrderError(step.name, step.from.step.name, step.from.step.dir, opts.configFile, `starts from ${step.from.step.name}'s best checkpoint`);
  }
  mkdirSync(step.dir, { recursive: true });
  writeFileAtomic(files.config, run.flat ? configToYaml(cfg) : stepConfigYaml(run, step));
  const log = createRunLogger(step.dir, { quiet: opts.quiet });
  const hash = step.hash;

  await prepareInputs(cfg, opts.dataDir, (m) => log.info({ event: 'prepare' }, m));
  // Opens every split now, so a damaged file stops the run before any training.
  const task = openTask(cfg, opts.dataDir);
  const model = task.model;
  const metric: TaskMetric = model.taskMetric;
  const opt = buildOptimizer(cfg, model);
  const schedule = scheduleOf(cfg);
  const t = cfg.train;

  let loop: LoopState = { epochsDone: 0, bestValidMetric: NaN, bestEpoch: -1 };
  const metrics = new MetricsTable();
  const sparsity = new SparsityTable();
  if (existsSync(files.last)) {
    const resumed = loadLast(files.last, opt, hash);
    model.loadState(resumed.model);
    loop = resumed.loop;
    // Rows of epochs after the checkpoint belong to work that is redone now.
    if (existsSync(files.metrics)) metrics.appendAll(MetricsTable.read(files.metrics).rows.filter((r) => r.epoch < loop.epochsDone));
    if (existsSync(files.sparsity)) sparsity.appendAll(SparsityTable.read(files.sparsity).rows.filter((r) => r.epoch < loop.epochsDone));
    log.info({ event: 'resume', epochsDone: loop.epochsDone }, `resuming ${step.dir} after epoch ${loop.epochsDone}`);
  } else {
    log.info({ event: 'start', runDir: step.dir, step: run.flat ? undefined : step.name, backend: native().info() }, `starting ${step.dir}`);
    if (step.from) {
      const init = initialState(step, model.parameters().map((p) => p.name));
      try {
        model.loadState(init.state);
      } catch (err) {
        throw new Error(
          `${step.name} cannot start from ${step.from.step.name}'s best checkpoint ${init.file}: ${(err as Error).message}` +
            ' (init_from.map renames checkpoint parameters to this model\'s)',
        );
      }
      log.info(
        { event: 'init', from: step.from.step.name, checkpoint: init.file, epoch: init.epoch, sha256: init.sha256, map: step.from.map },
        `starting from ${step.from.step.name}'s best checkpoint (epoch ${init.epoch + 1})`,
      );
    }
  }
  metrics.write(files.metrics);
  sparsity.write(files.sparsity);

  const progress = new EpochProgress({ quiet: opts.quiet, epochs: t.epochs });
  try {
    for (let epoch = loop.epochsDone; epoch < t.epochs; epoch++) {
      const plateau = schedule.type === 'plateau' ? (loop.plateau ?? plateauStart(t.optimizer.lr)) : undefined;
      const lr = plateau ? plateau.lr : learningRate(t.optimizer.lr, schedule, epoch);
      const tr = await task.trainEpoch(opt, { epoch, lr, progress });
      // Hardware emulation: weights quantised after each training epoch (DeltaRNN's qw, qcw).
      model.afterEpoch?.();
      const va = task.hasValid ? await task.evaluate('valid') : null;
      const rows: MetricRow[] = [{ epoch, split: 'train', loss: tr.loss, accuracy: tr.accuracy, lr, samples_per_s: tr.samplesPerSec, wall_s: tr.seconds }];
      if (va) rows.push({ epoch, split: 'valid', loss: va.loss, accuracy: va.accuracy, lr, samples_per_s: va.samplesPerSec, wall_s: va.seconds });
      metrics.appendAll(rows);
      const layerSparsity = model.sparsity();
      sparsity.appendAll(layerSparsity.map((s) => sparsityRow(epoch, s)));
      const best = updateBest(metric, loop, epoch, va);
      if (best) {
        loop = best;
        saveBest(files.best, model.state(), epoch, va ? va.accuracy : NaN, hash, { name: metric.name, value: loop.bestValidMetric });
      }
      loop = { ...loop, epochsDone: epoch + 1 };
      // Stepped on the validation loss (the training loss without a validation split).
      if (plateau && schedule.type === 'plateau') loop.plateau = plateauStep(schedule, plateau, va ? va.loss : tr.loss);
      metrics.write(files.metrics);
      sparsity.write(files.sparsity);
      if ((epoch + 1) % t.checkpoint_every === 0 || epoch + 1 === t.epochs) saveLast(files.last, model.parameters(), opt, loop, hash);
      const line =
        `epoch ${epoch + 1}/${t.epochs}  train loss ${tr.loss.toFixed(4)} acc ${(100 * tr.accuracy).toFixed(2)}%` +
        (va ? `  valid loss ${va.loss.toFixed(4)} acc ${(100 * va.accuracy).toFixed(2)}%` : '') +
        (va && metric.name !== 'accuracy' ? ` ${metric.name} ${metric.of(va).toFixed(2)}` : '') +
        sparsityText(layerSparsity) +
        `  ${tr.samplesPerSec.toFixed(0)} samples/s`;
      progress.stop(line);
      log.info({ event: 'epoch', epoch, lr, train: tr, valid: va, sparsity: layerSparsity }, line);
    }
  } catch (err) {
    progress.abort();
    if (err instanceof NonFiniteLossError) {
      log.error({ event: 'nonfinite', epoch: err.epoch, batch: err.batch }, err.message);
      const summary = buildSummary(run, step, metric, 'stopped-nonfinite', metrics.rows, loop, null, engine.threads);
      writeSummary(files.summary, summary);
    }
    throw err;
  }

  model.loadState(loadModelState(files.best));
  model.evalSparsity?.();
  const te = await task.evaluate('test');
  const testSparsity = model.evalSparsity?.() ?? [];
  const finalRows = metrics.rows.filter((r) => r.split !== 'test');
  const testRow: MetricRow = { epoch: loop.bestEpoch, split: 'test', loss: te.loss, accuracy: te.accuracy, lr: NaN, samples_per_s: te.samplesPerSec, wall_s: te.seconds };
  const all = new MetricsTable();
  all.appendAll([...finalRows, testRow]);
  all.write(files.metrics);
  const summary = buildSummary(run, step, metric, 'finished', all.rows, loop, { ...te, layerSparsity: testSparsity }, engine.threads);
  writeSummary(files.summary, summary);
  const headline = metric.name === 'accuracy' ? `test accuracy ${(100 * te.accuracy).toFixed(2)}%` : `test ${metric.name} ${metric.of(te).toFixed(2)}`;
  log.info({ event: 'test', loss: te.loss, accuracy: te.accuracy, metric: { name: metric.name, value: metric.of(te) }, bestEpoch: loop.bestEpoch }, `${headline} (best epoch ${loop.bestEpoch + 1})`);
  return { runDir: step.dir, summary, skipped: false };
}

/** The source step's best weights, renamed through init_from.map, as this model's state. */
function initialState(step: TrainingStepPlan, names: readonly string[]): { state: StateRecord; file: string; epoch: number; sha256: string } {
  const from = step.from!;
  const file = stepFiles(from.step.dir).best;
  const best = loadBestCheckpoint(file);
  if (best.configHash !== from.step.hash) {
    throw new Error(
      `${file}: was written for ${best.configHash ?? 'an unknown config'}, not for this run's ${from.step.name} (${from.step.hash}); run \`evnn ${from.step.name}\` with --force`,
    );
  }
  const state: StateRecord = {};
  for (const [from_, to] of Object.entries(from.map)) {
    if (!(from_ in best.model)) {
      throw new Error(`init_from.map of ${step.name}: "${from_}" is not a parameter of ${from.step.name}'s checkpoint ${file} (it has ${Object.keys(best.model).join(', ')})`);
    }
    if (!names.includes(to)) throw new Error(`init_from.map of ${step.name}: "${to}" (for "${from_}") is not a parameter of this model (it has ${names.join(', ')})`);
  }
  for (const [name, tensor] of Object.entries(best.model)) state[from.map[name] ?? name] = tensor;
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  return { state, file, epoch: best.epoch, sha256 };
}

/** A step's config.yaml: its sections as a single-step config, with where it sits in the run. */
function stepConfigYaml(run: RunPlan, step: TrainingStepPlan): string {
  const from = step.from
    ? `# starts from ${step.from.step.name}'s best checkpoint (${join('..', step.from.step.name, 'best.safetensors')})` +
      (Object.keys(step.from.map).length > 0 ? `, parameters renamed: ${JSON.stringify(step.from.map)}` : '') + '\n'
    : '';
  return `# step ${step.name} of ${run.runDir} (the whole config: ../config.yaml)\n${from}${configToYaml(step.cfg)}`;
}

/** "  activity 12.3% bwd-sparsity 45.6%": means over the layers that report them, or nothing for a dense model. */
function sparsityText(layers: readonly LayerSparsity[]): string {
  const mean = (f: (l: LayerSparsity) => number | undefined): number | undefined => {
    const v = layers.map(f).filter((x): x is number => x !== undefined);
    return v.length > 0 ? v.reduce((a, x) => a + x, 0) / v.length : undefined;
  };
  const activity = mean((l) => l.activity);
  const backward = mean((l) => l.backwardSparsity);
  return (
    (activity !== undefined ? `  activity ${(100 * activity).toFixed(1)}%` : '') +
    (backward !== undefined ? `${activity !== undefined ? '' : ' '} bwd-sparsity ${(100 * backward).toFixed(1)}%` : '')
  );
}

function buildSummary(
  run: RunPlan, step: TrainingStepPlan, metric: TaskMetric, status: Summary['status'], rows: readonly MetricRow[], loop: LoopState,
  test: { loss: number; accuracy: number; layerActivity?: Record<string, number>; layerSparsity?: readonly LayerSparsity[] } | null, threads: number,
): Summary {
  const cfg: Config = step.cfg;
  const trainRows = rows.filter((r) => r.split === 'train');
  const trainSeconds = trainRows.reduce((a, r) => a + r.wall_s, 0);
  const trainSamples = trainRows.reduce((a, r) => a + r.samples_per_s * r.wall_s, 0);
  const bestValid = loop.bestEpoch >= 0 ? rows.find((r) => r.split === 'valid' && r.epoch === loop.bestEpoch) : undefined;
  const info = native().info();
  return {
    config: cfg.name,
    run_id: run.runId,
    ...(run.flat ? {} : { step: step.name }),
    status,
    metric: { name: metric.name, value: test ? metric.of(test) : null, best_valid: bestValid ? metric.of(bestValid) : null },
    final: {
      test_accuracy: test ? test.accuracy : null,
      test_loss: test ? test.loss : null,
      best_valid_accuracy: bestValid ? bestValid.accuracy : null,
      best_epoch: loop.bestEpoch,
    },
    ...(test?.layerActivity ? { test_activity: test.layerActivity } : {}),
    ...(test?.layerSparsity && test.layerSparsity.length > 0 ? { test_sparsity: testSparsityOf(test.layerSparsity) } : {}),
    paper: cfg.paper ? { metric: cfg.paper.metric, value: cfg.paper.value } : null,
    epochs_run: loop.epochsDone,
    wall_time_s: rows.reduce((a, r) => a + r.wall_s, 0),
    train_samples_per_s: trainSeconds > 0 ? trainSamples / trainSeconds : 0,
    backend: { device: 'cpu', gemm: info.gemm, simd: info.simd, threads },
    evnn_version: VERSION,
    finished_at: new Date().toISOString(),
  };
}

/** summary.json's test_sparsity: each layer's figures of the test pass, in sparsity.arrow's column names. */
function testSparsityOf(layers: readonly LayerSparsity[]): NonNullable<Summary['test_sparsity']> {
  return Object.fromEntries(layers.map((l) => [l.layer, {
    family: l.family,
    ...(l.activity !== undefined ? { activity: l.activity } : {}),
    ...(l.activeFraction !== undefined ? { active_fraction: l.activeFraction } : {}),
    ...(l.deltaXZero !== undefined ? { delta_x_zero: l.deltaXZero } : {}),
    ...(l.deltaHZero !== undefined ? { delta_h_zero: l.deltaHZero } : {}),
    ...(l.deltaZero !== undefined ? { delta_zero: l.deltaZero } : {}),
    ...(l.macsForward !== undefined ? { macs_forward: l.macsForward } : {}),
    ...(l.macsForwardDense !== undefined ? { macs_forward_dense: l.macsForwardDense } : {}),
  }]));
}
