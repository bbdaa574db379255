// What a sweep's SLURM tasks ask for: the config's `slurm:` section, overridden field by field by
// the command line's flags, checked by the same schema either way.
import { slurmSchema, type SlurmConfig } from '../config/slurm.js';

/** The command line's SLURM flags (`evnn sweep --backend slurm --account … --time …`). */
export interface SlurmOptions {
  account?: string;
  partition?: string;
  /** sbatch --time: minutes, H:MM:SS, D-HH:MM:SS, … */
  time?: string | number;
  /** sbatch --mem: 4G, 4000M, … */
  mem?: string | number;
  cpusPerTask?: number | string;
  /** sbatch --gpus: a count or type:count */
  gpus?: string | number;
  /** Where the backend says what it did (submitted jobs, points it left alone); default stderr. */
  log?: (line: string) => void;
  /** No messages: neither the log's nor those of preparing the data (the data steps write to stderr). */
  quiet?: boolean;
}

const FLAG: Record<keyof SlurmConfig, string> = {
  account: '--account', partition: '--partition', time: '--time', mem: '--mem', cpus_per_task: '--cpus-per-task', gpus: '--gpus',
};

/** A string that holds an integer becomes that integer (commander hands flags over as strings). */
const intOrString = (v: string | number | undefined) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);

/** The flags given, as a `slurm:` section, checked (an error names the flag). */
export function slurmFlags(o: SlurmOptions): SlurmConfig {
  const raw: Record<string, unknown> = {
    account: o.account, partition: o.partition, time: intOrString(o.time), mem: intOrString(o.mem),
    cpus_per_task: intOrString(o.cpusPerTask), gpus: intOrString(o.gpus),
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const r = slurmSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof SlurmConfig;
      return `${FLAG[key] ?? key} ${JSON.stringify(raw[key])}: ${i.message}`;
    });
    throw new Error(`SLURM options: ${lines.join('; ')}`);
  }
  return r.data;
}

/** The config's section with the flags on top. */
export function mergeSlurm(section: SlurmConfig | undefined, flags: SlurmConfig): SlurmConfig {
  return { ...(section ?? {}), ...flags };
}
