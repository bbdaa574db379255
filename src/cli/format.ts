// Human-readable lines the commands print.
import type { NativeInfo } from '../native/addon.js';
import type { EvalOutcome, RunOutcome } from '../pipeline/index.js';
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

export function runReport(o: RunOutcome): string {
  const s = o.summary;
  const f = s.final;
  const lines = [o.skipped ? `already finished: ${o.runDir} (use --force to run it again)` : `finished: ${o.runDir}`];
  if (f.test_accuracy !== null) {
    const loss = f.test_loss !== null ? ` (loss ${f.test_loss.toFixed(4)})` : '';
    lines.push(`test accuracy ${pct(f.test_accuracy)}${loss}`);
  }
  if (f.best_valid_accuracy !== null) lines.push(`best valid accuracy ${pct(f.best_valid_accuracy)} at epoch ${f.best_epoch + 1}`);
  const paper = paperLine(s);
  if (paper) lines.push(paper);
  const b = s.backend;
  lines.push(
    `${s.epochs_run} epochs, ${s.wall_time_s.toFixed(1)} s, ${s.train_samples_per_s.toFixed(0)} train samples/s on ${b.device} (gemm ${b.gemm}, ${b.simd}, ${b.threads} threads)`,
  );
  return lines.join('\n');
}

export function evalReport(r: EvalOutcome): string {
  return `${r.split}: accuracy ${pct(r.accuracy)}, loss ${r.loss.toFixed(4)} (${r.checkpoint})`;
}

function cudaLine(cuda: NativeInfo['cuda']): string {
  if (!cuda.compiled) return 'cuda: not compiled into this build';
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
