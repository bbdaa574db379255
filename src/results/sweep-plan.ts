// A sweep: one config expanded into points (seeds × grid values), each a complete config with its
// own run identity, written under results/<name>/sweeps/<id>/ so that any backend (a local process
// pool, a SLURM job array) runs the same files and a finished point is skipped by the usual
// run-directory logic. This file is the contract between the expansion and the backends.

export interface SweepPoint {
  /** 0-based; the SLURM array task id */
  index: number;
  seed: number;
  /** the grid's values at this point, by dotted config key (seed not included) */
  grid: Record<string, unknown>;
  /** the point's resolved config, written as YAML (absolute path) */
  configFile: string;
  /** where `evnn run <configFile> --results-dir <resultsDir>` writes the point's run */
  runDir: string;
}

export interface SweepPlan {
  /** stable identity of (config, seeds, grid, overrides): 12 hex digits */
  id: string;
  /** the config's name */
  name: string;
  /** results/<name>/sweeps/<id>/ (absolute) */
  dir: string;
  resultsDir: string;
  dataDir: string;
  /** the config file the sweep came from, and the command-line choices, for the record */
  source: { configFile: string; seeds: number[]; grid: Record<string, unknown[]>; sets: string[] };
  points: SweepPoint[];
  /**
   * The backend `evnn sweep` last ran the points with, and its options (local: jobs, threads; slurm:
   * account, partition, ...): what `evnn sweep status`, `wait` and `resubmit` dispatch to. Absent: local.
   */
  backend?: { name: 'local' | 'slurm'; options: Record<string, unknown> };
}

/** What a point's status is, as a backend or `evnn sweep status` reports it. */
export type PointState = 'finished' | 'running' | 'pending' | 'failed' | 'stopped' | 'not started';

export interface PointStatus {
  index: number;
  state: PointState;
  /** the log to read when it failed (a SLURM task's output file, or the run's log.jsonl) */
  log?: string;
  detail?: string;
}

/** A way to run a sweep's points. */
export interface SweepBackend {
  readonly name: 'local' | 'slurm';
  /** Runs (local) or submits (slurm) the points given (the unfinished ones), returning when done or submitted. */
  run(plan: SweepPlan, points: readonly SweepPoint[]): Promise<void>;
  /** The state of every point. */
  status(plan: SweepPlan): Promise<PointStatus[]>;
}
