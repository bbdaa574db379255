// The sweep backends by name: what `evnn sweep --backend NAME` runs the points with, and what
// `evnn sweep status|wait|resubmit` dispatch to (the backend recorded in sweep.json).
import { localBackend, type LocalOptions } from './local-backend.js';
import { slurmBackend } from './slurm-backend.js';
import type { SweepBackend, SweepPlan } from '../results/sweep-plan.js';

export const BACKEND_NAMES = ['local', 'slurm'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The command line's SLURM flags, passed through to the SLURM backend as they are. */
export interface SlurmFlags {
  account?: string;
  partition?: string;
  time?: string;
  mem?: string;
  cpusPerTask?: number;
  gpus?: string;
}

/** A backend's options as recorded in sweep.json (what resubmit reuses). */
export type BackendOptions = LocalOptions | SlurmFlags;

/** The options worth recording: set ones, plain values only (no streams, no callbacks). */
export function recordedOptions(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && ['string', 'number', 'boolean'].includes(typeof v)));
}

export function makeBackend(name: BackendName, options: Record<string, unknown> = {}): SweepBackend {
  switch (name) {
    case 'local':
      return localBackend(options as LocalOptions);
    case 'slurm':
      return slurmBackend(options as SlurmFlags);
    default:
      throw new Error(`unknown sweep backend "${String(name)}" (known: ${BACKEND_NAMES.join(', ')})`);
  }
}

/** The backend recorded in the sweep's sweep.json (local when none is), with its options and `extra` on top. */
export function backendOf(plan: SweepPlan, extra: Record<string, unknown> = {}): SweepBackend {
  const name = (plan.backend?.name ?? 'local') as BackendName;
  if (!BACKEND_NAMES.includes(name)) throw new Error(`${plan.dir}: sweep.json names an unknown backend "${name}"`);
  return makeBackend(name, { ...(plan.backend?.options ?? {}), ...extra });
}
