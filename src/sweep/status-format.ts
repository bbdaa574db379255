// How `evnn sweep` and `evnn sweep status` print a sweep: one line per point (index, seed, grid
// values, state, run directory, and the log of a failed point) and a closing count by state.
import { isAbsolute, relative } from 'node:path';
import { pointLabel, valueText } from './expand.js';
import type { PointState, PointStatus, SweepPlan } from '../results/sweep-plan.js';

/** A path relative to the working directory when inside it, else as it is. */
export function shownPath(path: string, cwd = process.cwd()): string {
  const r = relative(cwd, path);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? path : r;
}

const STATE_ORDER: PointState[] = ['finished', 'running', 'pending', 'failed', 'stopped', 'not started'];

/** "4 finished, 1 failed" */
export function stateCounts(statuses: readonly PointStatus[]): string {
  const n = (s: PointState) => statuses.filter((x) => x.state === s).length;
  return STATE_ORDER.filter((s) => n(s) > 0).map((s) => `${n(s)} ${s}`).join(', ') || 'no points';
}

/** The status as an aligned table, headed by the sweep and closed by the counts. */
export function statusText(plan: SweepPlan, statuses: readonly PointStatus[]): string {
  const by = new Map(statuses.map((s) => [s.index, s]));
  const keys = Object.keys(plan.source.grid);
  const head = ['point', 'seed', ...keys, 'state', 'run', 'detail'];
  const rows = plan.points.map((p) => {
    const s = by.get(p.index);
    const state = s?.state ?? 'not started';
    const detail = [s?.detail, s?.log && (state === 'failed' || state === 'running' || state === 'stopped') ? `log ${shownPath(s.log)}` : undefined]
      .filter((x): x is string => !!x)
      .join('; ');
    return [String(p.index), String(p.seed), ...keys.map((k) => valueText(p.grid[k])), state, shownPath(p.runDir), detail];
  });
  const widths = head.map((_, j) => Math.max(...[head, ...rows].map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd();
  const backend = plan.backend?.name ?? 'local';
  return [
    `sweep ${plan.id} (${plan.name}, ${plan.points.length} points, backend ${backend}): ${shownPath(plan.dir)}`,
    line(head),
    ...rows.map(line),
    `${stateCounts(statuses)}`,
  ].join('\n');
}

/** One point as messages name it: "point 3 (seed 2, model.rnn.hidden_size=64)". */
export function pointName(plan: SweepPlan, index: number): string {
  const p = plan.points[index];
  return p ? `point ${index} (${pointLabel(p)})` : `point ${index}`;
}
