// Human-readable lines the commands print.
import type { NativeInfo } from '../native/addon.js';
import type { RunOutcome } from '../pipeline/index.js';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);

export function runReport(o: RunOutcome): string {
  const s = o.summary;
  const lines = [
    o.skipped ? `already finished: ${o.runDir} (use --force to run again)` : `finished: ${o.runDir}`,
    `test accuracy ${pct(s.final.test_accuracy)} (best valid ${pct(s.final.best_valid_accuracy)} at epoch ${s.final.best_epoch + 1})`,
  ];
  if (s.paper) {
    const paper = s.paper.metric === 'test_accuracy' ? pct(s.paper.value) : String(s.paper.value);
    lines.push(`paper: ${s.paper.metric} ${paper}`);
  }
  lines.push(`${s.epochs_run} epochs, ${s.wall_time_s.toFixed(1)} s, ${s.train_samples_per_s.toFixed(0)} train samples/s on ${s.backend.device} (${s.backend.gemm}, ${s.backend.threads} threads)`);
  return lines.join('\n');
}

export function infoReport(info: NativeInfo, versions: { evnn: string; node: string }, dirs: { data: string; results: string }): string {
  return [
    `evnn ${versions.evnn} (node ${versions.node}, native engine ${info.version})`,
    `cpu: gemm ${info.gemm} (compiled: ${info.gemmKernels.join(', ')}), simd ${info.simd}, ${info.threads} threads`,
    `cuda: ${info.cuda.compiled ? (info.cuda.devices.length ? info.cuda.devices.map((d) => `${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB)`).join(', ') : 'compiled, no device found') : 'not compiled in this build'}`,
    `datasets: ${dirs.data}`,
    `results: ${dirs.results}`,
  ].join('\n');
}
