// The training step of a run: resumes from last.safetensors when the run directory has one,
// trains the remaining epochs with validation after each, keeps the best-valid checkpoint, then
// tests it. Everything a run writes goes through atomic writes, so an interruption loses at most
// the epoch in progress.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { configHash, configToYaml } from '../config/index.js';
import { createRunLogger } from '../log/logger.js';
import { EpochProgress } from '../log/progress.js';
import type { LayerSparsity } from '../models/sequence-classifier.js';
import { MetricsTable, type MetricRow } from '../results/metrics.js';
import { SparsityTable, sparsityRow } from '../results/sparsity.js';
import { runDirFor } from '../results/run-dir.js';
import { writeSummary, type Summary } from '../results/summary.js';
import { native } from '../native/addon.js';
import { loadLast, loadModelState, saveBest, saveLast, type LoopState } from '../train/checkpoint.js';
import { NonFiniteLossError } from '../train/errors.js';
import { evaluate, trainEpoch } from '../train/loop.js';
import { learningRate } from '../train/schedule.js';
import { writeFileAtomic } from '../util/atomic.js';
import { openData, prepareData } from './data-source.js';
import { setUpEngine } from './engine.js';
import { buildModel, buildOptimizer, scheduleOf } from './model-from-config.js';
import type { PipelineOptions, RunOutcome } from './options.js';

const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function pretrainConfig(cfg: Config, opts: PipelineOptions): Promise<RunOutcome> {
  const engine = setUpEngine(cfg, opts);
  const runDir = runDirFor(opts.resultsDir, cfg);
  const files = {
    config: join(runDir, 'config.yaml'),
    last: join(runDir, 'last.safetensors'),
    best: join(runDir, 'best.safetensors'),
    metrics: join(runDir, 'metrics.arrow'),
    sparsity: join(runDir, 'sparsity.arrow'),
    summary: join(runDir, 'summary.json'),
  };
  if (opts.force) rmSync(runDir, { recursive: true, force: true });
  if (existsSync(files.summary)) {
    const done = JSON.parse(readFileSync(files.summary, 'utf8')) as Summary;
    if (done.status === 'finished') return { runDir, summary: done, skipped: true };
  }
  mkdirSync(runDir, { recursive: true });
  writeFileAtomic(files.config, configToYaml(cfg));
  const log = createRunLogger(runDir, { quiet: opts.quiet });
  const hash = configHash(cfg);

  await prepareData(cfg, opts.dataDir, false, (m) => log.info({ event: 'prepare' }, m));
  const data = openData(cfg, opts.dataDir);
  // Open every split now, so a damaged file stops the run before any training.
  const train = data.split('train');
  const valid = data.split('valid');
  const test = data.split('test');
  const model = buildModel(cfg, data.inputSize, data.numClasses);
  const opt = buildOptimizer(cfg, model);
  const schedule = scheduleOf(cfg);
  const t = cfg.train;

  let loop: LoopState = { epochsDone: 0, bestValidAccuracy: -Infinity, bestEpoch: -1 };
  const metrics = new MetricsTable();
  const sparsity = new SparsityTable();
  if (existsSync(files.last)) {
    const resumed = loadLast(files.last, opt, hash);
    model.loadState(resumed.model);
    loop = resumed.loop;
    // Rows of epochs after the checkpoint belong to work that is redone now.
    if (existsSync(files.metrics)) metrics.appendAll(MetricsTable.read(files.metrics).rows.filter((r) => r.epoch < loop.epochsDone));
    if (existsSync(files.sparsity)) sparsity.appendAll(SparsityTable.read(files.sparsity).rows.filter((r) => r.epoch < loop.epochsDone));
    log.info({ event: 'resume', epochsDone: loop.epochsDone }, `resuming ${runDir} after epoch ${loop.epochsDone}`);
  } else {
    log.info({ event: 'start', runDir, backend: native().info() }, `starting ${runDir}`);
  }
  metrics.write(files.metrics);
  sparsity.write(files.sparsity);

  const progress = new EpochProgress({ quiet: opts.quiet, epochs: t.epochs });
  try {
    for (let epoch = loop.epochsDone; epoch < t.epochs; epoch++) {
      const lr = learningRate(t.optimizer.lr, schedule, epoch);
      const tr = await trainEpoch(model, opt, train, { epoch, seed: cfg.seed, batchSize: t.batch_size, lr, gradClip: t.grad_clip, progress });
      const va = valid.count > 0 ? await evaluate(model, valid, t.eval_batch_size) : null;
      const rows: MetricRow[] = [{ epoch, split: 'train', loss: tr.loss, accuracy: tr.accuracy, lr, samples_per_s: tr.samplesPerSec, wall_s: tr.seconds }];
      if (va) rows.push({ epoch, split: 'valid', loss: va.loss, accuracy: va.accuracy, lr, samples_per_s: va.samplesPerSec, wall_s: va.seconds });
      metrics.appendAll(rows);
      const layerSparsity = model.sparsity();
      sparsity.appendAll(layerSparsity.map((s) => sparsityRow(epoch, s)));
      // Without a validation split the last epoch counts as the best.
      const score = va ? va.accuracy : epoch;
      if (score > loop.bestValidAccuracy) {
        loop = { ...loop, bestValidAccuracy: score, bestEpoch: epoch };
        saveBest(files.best, model.parameters(), epoch, va ? va.accuracy : NaN, hash);
      }
      loop = { ...loop, epochsDone: epoch + 1 };
      metrics.write(files.metrics);
      sparsity.write(files.sparsity);
      if ((epoch + 1) % t.checkpoint_every === 0 || epoch + 1 === t.epochs) saveLast(files.last, model.parameters(), opt, loop, hash);
      const line =
        `epoch ${epoch + 1}/${t.epochs}  train loss ${tr.loss.toFixed(4)} acc ${(100 * tr.accuracy).toFixed(2)}%` +
        (va ? `  valid loss ${va.loss.toFixed(4)} acc ${(100 * va.accuracy).toFixed(2)}%` : '') +
        sparsityText(layerSparsity) +
        `  ${tr.samplesPerSec.toFixed(0)} samples/s`;
      progress.stop(line);
      log.info({ event: 'epoch', epoch, lr, train: tr, valid: va, sparsity: layerSparsity }, line);
    }
  } catch (err) {
    progress.abort();
    if (err instanceof NonFiniteLossError) {
      log.error({ event: 'nonfinite', epoch: err.epoch, batch: err.batch }, err.message);
      const summary = buildSummary(cfg, runDir, 'stopped-nonfinite', metrics.rows, loop, valid.count > 0, null, engine.threads);
      writeSummary(files.summary, summary);
    }
    throw err;
  }

  model.loadState(loadModelState(files.best));
  const te = await evaluate(model, test, t.eval_batch_size);
  const finalRows = metrics.rows.filter((r) => r.split !== 'test');
  const testRow: MetricRow = { epoch: loop.bestEpoch, split: 'test', loss: te.loss, accuracy: te.accuracy, lr: NaN, samples_per_s: te.samplesPerSec, wall_s: te.seconds };
  const all = new MetricsTable();
  all.appendAll([...finalRows, testRow]);
  all.write(files.metrics);
  const summary = buildSummary(cfg, runDir, 'finished', all.rows, loop, valid.count > 0, te, engine.threads);
  writeSummary(files.summary, summary);
  log.info({ event: 'test', loss: te.loss, accuracy: te.accuracy, bestEpoch: loop.bestEpoch }, `test accuracy ${(100 * te.accuracy).toFixed(2)}% (best epoch ${loop.bestEpoch + 1})`);
  return { runDir, summary, skipped: false };
}

/** "  activity 12.3% bwd-sparsity 45.6%" over the layers (mean), or nothing for a dense model. */
function sparsityText(layers: readonly LayerSparsity[]): string {
  if (layers.length === 0) return '';
  const mean = (f: (l: LayerSparsity) => number): number => layers.reduce((a, l) => a + f(l), 0) / layers.length;
  return `  activity ${(100 * mean((l) => l.activity)).toFixed(1)}% bwd-sparsity ${(100 * mean((l) => l.backwardSparsity)).toFixed(1)}%`;
}

function buildSummary(
  cfg: Config, runDir: string, status: Summary['status'], rows: readonly MetricRow[], loop: LoopState, hasValid: boolean,
  test: { loss: number; accuracy: number } | null, threads: number,
): Summary {
  const trainRows = rows.filter((r) => r.split === 'train');
  const trainSeconds = trainRows.reduce((a, r) => a + r.wall_s, 0);
  const trainSamples = trainRows.reduce((a, r) => a + r.samples_per_s * r.wall_s, 0);
  const info = native().info();
  return {
    config: cfg.name,
    run_id: runDir.split(/[\\/]/).pop()!,
    status,
    final: {
      test_accuracy: test ? test.accuracy : null,
      test_loss: test ? test.loss : null,
      best_valid_accuracy: hasValid && loop.bestEpoch >= 0 ? loop.bestValidAccuracy : null,
      best_epoch: loop.bestEpoch,
    },
    paper: cfg.paper ? { metric: cfg.paper.metric, value: cfg.paper.value } : null,
    epochs_run: loop.epochsDone,
    wall_time_s: rows.reduce((a, r) => a + r.wall_s, 0),
    train_samples_per_s: trainSeconds > 0 ? trainSamples / trainSeconds : 0,
    backend: { device: 'cpu', gemm: info.gemm, simd: info.simd, threads },
    evnn_version: VERSION,
    finished_at: new Date().toISOString(),
  };
}
