// The `slurm:` config section and the SLURM flags: checked like every section, merged flag over
// section, and not part of a run's identity.
import { describe, expect, it } from 'vitest';
import { ConfigError, configHash, configJsonSchema, parseConfigText, stepHash } from '../../src/config/index.js';
import { mergeSlurm, slurmFlags } from '../../src/sweep/slurm-options.js';

const base = `
name: s
data: { dataset: mnist, view: smnist-rows }
model: { rnn: { type: gru, hidden_size: 8 } }
train: { epochs: 1, batch_size: 10, optimizer: { type: adam, lr: 0.01 } }
`;
const issues = (text: string) => {
  try {
    parseConfigText(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

describe('slurm: section', () => {
  it('is optional, and a config without it keeps its identity', () => {
    const cfg = parseConfigText(base);
    expect(cfg.slurm).toBeUndefined();
    // The hash this config had before the section existed (computed with that code): a change here
    // would move every existing run directory.
    expect(configHash(cfg)).toBe('9ec47ded');
    expect(Object.keys(cfg)).not.toContain('slurm');
  });

  it('is not part of the run identity, nor of a step identity', () => {
    const plain = parseConfigText(base);
    const scheduled = parseConfigText(`${base}slurm: { account: lab, partition: gpu, time: "1-00:00:00", mem: 16G, cpus_per_task: 8, gpus: "a100:1" }\n`);
    expect(scheduled.slurm).toEqual({ account: 'lab', partition: 'gpu', time: '1-00:00:00', mem: '16G', cpus_per_task: 8, gpus: 'a100:1' });
    expect(configHash(scheduled)).toBe(configHash(plain));
    expect(stepHash(scheduled, 'pretrain')).toBe(stepHash(plain, 'pretrain'));
    const withSteps = `${base}steps: [{ name: pretrain }, { name: retrain, init_from: pretrain }]\n`;
    expect(configHash(parseConfigText(`${withSteps}slurm: { time: 30 }\n`))).toBe(configHash(parseConfigText(withSteps)));
    expect(stepHash(parseConfigText(`${withSteps}slurm: { time: 30 }\n`), 'retrain')).toBe(stepHash(parseConfigText(withSteps), 'retrain'));
  });

  it('takes numbers of minutes, megabytes and GPUs as sbatch writes them', () => {
    expect(parseConfigText(`${base}slurm: { time: 90, mem: 4000, gpus: 2 }\n`).slurm).toEqual({ time: '90', mem: '4000', gpus: '2' });
    for (const t of ['30', '30:00', '2:00:00', '1-12', '1-12:30', '1-12:30:00', 'UNLIMITED']) {
      expect(issues(`${base}slurm: { time: "${t}" }\n`)).toEqual([]);
    }
  });

  it('refuses unknown keys and values sbatch would not take', () => {
    expect(issues(`${base}slurm: { acount: lab }\n`).join('\n')).toMatch(/slurm.*acount/);
    expect(issues(`${base}slurm: { time: "an hour" }\n`).join('\n')).toMatch(/slurm\.time: must be a SLURM time/);
    expect(issues(`${base}slurm: { mem: 4GB }\n`).join('\n')).toMatch(/slurm\.mem: must be a SLURM memory size/);
    expect(issues(`${base}slurm: { cpus_per_task: 0 }\n`).join('\n')).toMatch(/slurm\.cpus_per_task/);
    expect(issues(`${base}slurm: { account: "my lab" }\n`).join('\n')).toMatch(/slurm\.account: must be a SLURM account without blanks/);
    expect(issues(`${base}slurm: { gpus: "a100" }\n`).join('\n')).toMatch(/slurm\.gpus/);
  });

  it('is in the JSON Schema of config files', () => {
    const s = configJsonSchema() as { properties: Record<string, { additionalProperties?: boolean; properties?: Record<string, unknown> }> };
    expect(s.properties.slurm.additionalProperties).toBe(false);
    expect(Object.keys(s.properties.slurm.properties ?? {})).toEqual(['account', 'partition', 'time', 'mem', 'cpus_per_task', 'gpus']);
  });
});

describe('SLURM flags', () => {
  it('are checked like the section and named in the error', () => {
    expect(slurmFlags({ account: 'lab', time: '2:00:00', mem: '8G', cpusPerTask: '4', gpus: '1' })).toEqual({ account: 'lab', time: '2:00:00', mem: '8G', cpus_per_task: 4, gpus: '1' });
    expect(slurmFlags({})).toEqual({});
    expect(() => slurmFlags({ time: 'soon' })).toThrow(/--time "soon": must be a SLURM time/);
    expect(() => slurmFlags({ cpusPerTask: '0' })).toThrow(/--cpus-per-task 0/);
    expect(() => slurmFlags({ partition: 'a b' })).toThrow(/--partition "a b"/);
  });

  it('override the section field by field', () => {
    expect(mergeSlurm({ account: 'lab', time: '60', mem: '4G' }, slurmFlags({ time: '120', gpus: 1 }))).toEqual({ account: 'lab', time: '120', mem: '4G', gpus: '1' });
    expect(mergeSlurm(undefined, { partition: 'debug' })).toEqual({ partition: 'debug' });
  });
});
