import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MetricsTable, type MetricRow } from '../../src/results/metrics.js';
import { SparsityTable } from '../../src/results/sparsity.js';
import { runDirFor } from '../../src/results/run-dir.js';
import { validateConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'evnn-res-'));

describe('result tables', () => {
  it('metrics.arrow round-trips and has the documented columns', () => {
    const rows: MetricRow[] = [
      { epoch: 0, split: 'train', loss: 0.5, accuracy: 0.8, lr: 0.001, samples_per_s: 1000, wall_s: 2 },
      { epoch: 0, split: 'valid', loss: 0.4, accuracy: 0.85, lr: 0.001, samples_per_s: 5000, wall_s: 0.5 },
    ];
    const t = new MetricsTable();
    t.appendAll(rows);
    const f = join(dir, 'metrics.arrow');
    t.write(f);
    expect(MetricsTable.read(f).rows).toEqual(rows);
    const arrow = tableFromIPC(readFileSync(f));
    expect(arrow.schema.fields.map((x) => `${x.name}:${x.type}`)).toEqual([
      'epoch:Int32', 'split:Utf8', 'loss:Float64', 'accuracy:Float64', 'lr:Float64', 'samples_per_s:Float64', 'wall_s:Float64',
    ]);
  });

  it('an empty sparsity.arrow still carries its schema', () => {
    const f = join(dir, 'sparsity.arrow');
    new SparsityTable().write(f);
    const arrow = tableFromIPC(readFileSync(f));
    expect(arrow.numRows).toBe(0);
    expect(arrow.schema.fields.map((x) => x.name)).toEqual([
      'epoch', 'layer', 'activity', 'backward_sparsity', 'macs_forward', 'macs_forward_dense', 'macs_backward', 'macs_backward_dense',
    ]);
    expect(SparsityTable.read(f).rows).toEqual([]);
  });

  it('a damaged table names the file', () => {
    const f = join(dir, 'bad.arrow');
    writeFileSync(f, 'not arrow');
    expect(() => MetricsTable.read(f)).toThrow(`${f}: not a readable Arrow file`);
  });

  it('names run directories after the config name, seed and hash', () => {
    const cfg = validateConfig({
      name: 'x', seed: 4, data: { dataset: 'mnist', view: 'smnist' }, model: { rnn: { type: 'gru', hidden_size: 8 } },
      train: { epochs: 1, batch_size: 2, optimizer: { type: 'sgd', lr: 0.1 } },
    }, 'inline');
    expect(runDirFor('/r', cfg)).toMatch(/^\/r\/x\/seed4-[0-9a-f]{8}$/);
  });
});
