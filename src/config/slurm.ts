// The `slurm:` section: what `evnn sweep --backend slurm` asks the scheduler for, per array task
// (one task per sweep point). A scheduling choice, not part of a run's identity: the same point
// run under another account or time limit computes the same numbers.
import { z } from 'zod';

/** A word safe on an `#SBATCH` line: no blanks, quotes or shell characters. */
const word = (what: string) => z.string().regex(/^[A-Za-z0-9._,:+@%=-]+$/, `must be a ${what} without blanks or quotes`);

/**
 * sbatch's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
 * days-hours:minutes, days-hours:minutes:seconds, or UNLIMITED / INFINITE.
 */
export const SLURM_TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/;
/** sbatch's memory per node: a number of megabytes, or with a K, M, G or T suffix. */
export const SLURM_MEM = /^\d+[KMGT]?$/;
/** sbatch's --gpus: a count, or type:count. */
export const SLURM_GPUS = /^([A-Za-z0-9._-]+:)?\d+$/;

const time = z
  .union([z.int().min(1), z.string().regex(SLURM_TIME, 'must be a SLURM time: minutes, "H:MM:SS", "D-HH:MM:SS" (or a number of minutes)')])
  .transform((v) => String(v));
const mem = z
  .union([z.int().min(1), z.string().regex(SLURM_MEM, 'must be a SLURM memory size such as "4G" or "4000M" (or a number of megabytes)')])
  .transform((v) => String(v));
const gpus = z
  .union([z.int().min(1), z.string().regex(SLURM_GPUS, 'must be a GPU count, or type:count such as "a100:1"')])
  .transform((v) => String(v));

export const slurmSchema = z.strictObject({
  /** sbatch --account */
  account: word('SLURM account').optional(),
  /** sbatch --partition (one, or a comma-separated list) */
  partition: word('partition name').optional(),
  /** sbatch --time: the limit of each task */
  time: time.optional(),
  /** sbatch --mem: memory of each task */
  mem: mem.optional(),
  /** sbatch --cpus-per-task; each task's run then uses that many threads */
  cpus_per_task: z.int().min(1).optional(),
  /** sbatch --gpus: GPUs of each task */
  gpus: gpus.optional(),
});

export type SlurmConfig = z.infer<typeof slurmSchema>;
