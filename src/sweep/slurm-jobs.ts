// <sweep>/slurm/jobs.json: every submission of a sweep to SLURM (its job id, the points it ran,
// its script), appended to and written atomically, so `evnn sweep status` knows which task of
// which job ran a point last.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic.js';

const submissionSchema = z.object({
  /** the array's job id (sbatch --parsable) */
  job_id: z.string().regex(/^\d+$/),
  /** the cluster sbatch named, on a federation */
  cluster: z.string().optional(),
  /** sbatch's --array */
  array: z.string(),
  indices: z.array(z.int().min(0)),
  /** the sbatch script, relative to the slurm/ folder */
  script: z.string(),
  submitted_at: z.string(),
});

const jobsSchema = z.object({ submissions: z.array(submissionSchema) });

export type Submission = z.infer<typeof submissionSchema>;
export type JobsFile = z.infer<typeof jobsSchema>;

export const slurmDirOf = (sweepDir: string) => join(sweepDir, 'slurm');
export const jobsFileOf = (sweepDir: string) => join(slurmDirOf(sweepDir), 'jobs.json');
/** A task's output file, as the script's --output=%A_%a.out names it. */
export const taskLogOf = (sweepDir: string, jobId: string, index: number) => join(slurmDirOf(sweepDir), `${jobId}_${index}.out`);

export function readJobs(sweepDir: string): JobsFile {
  const file = jobsFileOf(sweepDir);
  if (!existsSync(file)) return { submissions: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not readable JSON (${(err as Error).message})`);
  }
  const r = jobsSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${file}: not a list of SLURM submissions (${i.path.join('.') || '(root)'}: ${i.message})`);
  }
  return r.data;
}

export function appendSubmission(sweepDir: string, s: Submission): void {
  const jobs = readJobs(sweepDir);
  writeJsonAtomic(jobsFileOf(sweepDir), { submissions: [...jobs.submissions, s] });
}

/** The submission that ran each point last, by point index. */
export function latestSubmissions(jobs: JobsFile): Map<number, Submission> {
  const out = new Map<number, Submission>();
  for (const s of jobs.submissions) for (const i of s.indices) out.set(i, s);
  return out;
}
