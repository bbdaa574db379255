// What `evnn sweep`, `evnn sweep resubmit` and `evnn sweep wait` do with a backend: run (or submit)
// the points that are not finished and not already queued or running, and follow the rest.
import type { PointState, PointStatus, SweepBackend, SweepPlan, SweepPoint } from '../results/sweep-plan.js';
import { stateCounts } from './status-format.js';

/** States whose points `evnn sweep` and `resubmit` run (again): the rest are finished or still in the backend's hands. */
export const TO_RUN: readonly PointState[] = ['failed', 'stopped', 'not started'];
/** States `evnn sweep wait` waits out. */
export const ACTIVE: readonly PointState[] = ['pending', 'running'];

/** The points to run: those whose state is in TO_RUN (every point without a status). */
export function unfinishedPoints(plan: SweepPlan, statuses: readonly PointStatus[]): SweepPoint[] {
  const by = new Map(statuses.map((s) => [s.index, s.state]));
  return plan.points.filter((p) => TO_RUN.includes(by.get(p.index) ?? 'not started'));
}

/**
 * Runs (or submits) the unfinished points and returns every point's status afterwards. `say`
 * gets one line on what is skipped.
 */
export async function runUnfinished(plan: SweepPlan, backend: SweepBackend, say: (line: string) => void): Promise<PointStatus[]> {
  const before = await backend.status(plan);
  const todo = unfinishedPoints(plan, before);
  const left = before.filter((s) => !TO_RUN.includes(s.state));
  if (left.length > 0) {
    say(todo.length > 0
      ? `sweep ${plan.id}: skipping ${left.length} of ${plan.points.length} points (${stateCounts(left)})`
      : `sweep ${plan.id}: nothing to run (${stateCounts(left)})`);
  }
  if (todo.length > 0) await backend.run(plan, todo);
  return backend.status(plan);
}

/** Polls the backend's status every `intervalS` seconds until no point is pending or running. */
export async function waitForSweep(
  plan: SweepPlan, backend: SweepBackend, o: { intervalS: number; say?: (line: string) => void; sleep?: (ms: number) => Promise<void> },
): Promise<PointStatus[]> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  for (;;) {
    const statuses = await backend.status(plan);
    if (!statuses.some((s) => ACTIVE.includes(s.state))) return statuses;
    const line = `sweep ${plan.id}: ${stateCounts(statuses)}`;
    if (line !== last) o.say?.(line);
    last = line;
    await sleep(o.intervalS * 1000);
  }
}
