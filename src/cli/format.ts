// Human-readable lines the commands print.
import type { NativeInfo } from '../native/addon.js';
import type { EvalOutcome, PipelineOutcome, RunOutcome } from '../pipeline/index.js';
import type { Summary } from '../results/summary.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The paper's number next to this run's, when the run measured the same metric. */
function paperLine(s: Summary): string | undefined {
  if (!s.paper) return undefined;
  const { metric, value } = s.paper;
  const acc = s.final.test_accuracy;
  if (metric === 'test_accuracy' && acc !== null) {
    const d = 100 * (acc - value);
    return `paper: test accuracy ${pct(value)}; this run ${d >= 0 ? '+' : ''}${d.toFixed(2)} points`;
  }
  if (metric === 'test_error' && acc !== null) {
    const d = 100 * (1 - acc - value);
    return `paper: test error ${pct(value)}; this run ${pct(1 - acc)} (${d >= 0 ? '+' : ''}${d.toFixed(2)} points)`;
  }
  return `paper: ${metric} ${value} (not measured by this run)`;
}

/** A task metric's value as people read it: accuracy in percent, perplexity as a number. */
const metricText = (m: { name: string; value: number }) => (m.name === 'accuracy' ? pct(m.value) : m.value.toFixed(2));

export function runReport(o: RunOutcome): string {
  return [o.skipped ? `already finished: ${o.runDir} (use --force to run it again)` : `finished: ${o.runDir}`, ...summaryLines(o.summary)].join('\n');
}

/** The summary's lines: the task metric on test first, then validation, the paper, the speed. */
function summaryLines(s: Summary): string[] {
  const f = s.final;
  const lines: string[] = [];
  const loss = f.test_loss !== null ? ` (loss ${f.test_loss.toFixed(4)})` : '';
  if (s.metric.value !== null) lines.push(`test ${s.metric.name} ${metricText({ name: s.metric.name, value: s.metric.value })}${loss}`);
  if (s.metric.name !== 'accuracy' && f.test_accuracy !== null) lines.push(`test accuracy ${pct(f.test_accuracy)}`);
  if (s.metric.best_valid !== null) {
    lines.push(`best valid ${s.metric.name} ${metricText({ name: s.metric.name, value: s.metric.best_valid })} at epoch ${f.best_epoch + 1}`);
  }
  if (s.test_activity) {
    lines.push(`test activity ${Object.entries(s.test_activity).map(([layer, a]) => `${layer} ${pct(a)}`).join(', ')}`);
  }
  for (const [layer, t] of Object.entries(s.test_sparsity ?? {})) {
    if (t.active_fraction !== undefined) {
      // A spiking layer: its spike rate and S3GD's active set on the test pass.
      const macs = t.macs_forward !== undefined && t.macs_forward_dense ? `, forward ${pct(t.macs_forward / t.macs_forward_dense)} of the dense MACs` : '';
      lines.push(`test spikes ${layer} (${t.family}): spike rate ${pct(t.activity ?? 0)}, active ${pct(t.active_fraction)} of neuron-steps${macs}`);
      continue;
    }
    const parts = [
      t.delta_x_zero !== undefined ? `Δx ${pct(t.delta_x_zero)}` : null,
      t.delta_h_zero !== undefined ? `Δh ${pct(t.delta_h_zero)}` : null,
      t.delta_zero !== undefined ? `both ${pct(t.delta_zero)}` : null,
      t.macs_forward !== undefined && t.macs_forward_dense ? `${pct(t.macs_forward / t.macs_forward_dense)} of the dense MACs` : null,
    ].filter((p): p is string => p !== null);
    if (parts.length > 0) lines.push(`test temporal sparsity ${layer} (${t.family}): zero ${parts.slice(0, 3).join(', ')}${parts.length > 3 ? `; ${parts[3]}` : ''}`);
  }
  const paper = paperLine(s);
  if (paper) lines.push(paper);
  const b = s.backend;
  lines.push(
    `${s.epochs_run} ${s.epochs_run === 1 ? 'epoch' : 'epochs'}, ${s.wall_time_s.toFixed(1)} s, ${s.train_samples_per_s.toFixed(0)} train samples/s on ${b.device} (gemm ${b.gemm}, ${b.simd}, ${b.threads} threads)`,
  );
  return lines;
}

/** What `evnn run` and `evnn <step>` print: a single-step run as before, else one block per step. */
export function pipelineReport(o: PipelineOutcome): string {
  if (o.flat) {
    const train = o.steps.find((s) => s.train)?.train;
    return train ? [runReport(train), ...reportLines(o)].join('\n') : `prepared the data of ${o.runDir}`;
  }
  const lines = [`run: ${o.runDir}`];
  for (const s of o.steps) {
    if (s.train) {
      lines.push(`${s.step}: ${s.skipped ? 'already finished' : 'finished'}: ${s.dir}`, ...summaryLines(s.train.summary).map((l) => `  ${l}`));
    } else if (s.eval) {
      const r = s.eval;
      lines.push(
        `eval: ${s.skipped ? 'already done' : 'done'}: ${s.dir}`,
        `  ${r.split} ${r.metric.name} ${metricText(r.metric)}, loss ${r.loss.toFixed(4)} (${r.of.step}'s best checkpoint, epoch ${r.of.epoch + 1})`,
      );
    } else {
      lines.push(`${s.step}: data ready`);
    }
  }
  if (o.steps.some((s) => s.skipped)) lines.push('(use --force to run finished steps again)');
  lines.push(...reportLines(o));
  return lines.join('\n');
}

/** Where each training step's report.html is (the last lines of a run's output). */
function reportLines(o: PipelineOutcome): string[] {
  return o.steps.flatMap((s) => [
    ...(s.report ? [`report: ${s.report}`] : []),
    ...(s.reportError ? [`report: not written (${s.reportError}); \`evnn report ${s.dir}\` tries again`] : []),
  ]);
}

export function evalReport(r: EvalOutcome): string {
  const head = r.metric.name === 'accuracy' ? `accuracy ${pct(r.accuracy)}` : `${r.metric.name} ${metricText(r.metric)}, accuracy ${pct(r.accuracy)}`;
  return `${r.split}: ${head}, loss ${r.loss.toFixed(4)} (${r.checkpoint})`;
}

function cudaLine(cuda: NativeInfo['cuda']): string {
  if (!cuda.compiled) return `cuda: not compiled into this build (${cuda.build})`;
  if (cuda.devices.length === 0) return 'cuda: compiled, no device found';
  return `cuda: ${cuda.devices.map((d) => `${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB)`).join(', ')}`;
}

export function infoReport(info: NativeInfo, versions: { evnn: string; node: string }, dirs: { data: string; results: string }): string {
  return [
    `evnn ${versions.evnn} (node ${versions.node}, native engine ${info.version})`,
    `cpu: gemm ${info.gemm} (compiled: ${info.gemmKernels.join(', ')}), simd ${info.simd}, ${info.threads} threads`,
    cudaLine(info.cuda),
    `datasets: ${dirs.data}`,
    `results: ${dirs.results}`,
  ].join('\n');
}
