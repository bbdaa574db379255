// metrics.arrow and sparsity.arrow: documented columns and types, round trips, damaged files.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int32, Schema, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MetricsTable, type MetricRow } from '../../src/results/metrics.js';
import { SparsityTable, type SparsityRow } from '../../src/results/sparsity.js';

const dir = mkdtempSync(join(tmpdir(), 'evnn-res-'));
const columns = (f: string) => tableFromIPC(readFileSync(f)).schema.fields.map((x) => `${x.name}:${String(x.type)}`);

const metricRows: MetricRow[] = [
  { epoch: 0, split: 'train', loss: 0.5, accuracy: 0.8, lr: 0.001, samples_per_s: 1000.5, wall_s: 2 },
  { epoch: 0, split: 'valid', loss: 0.4, accuracy: 0.85, lr: 0.001, samples_per_s: 5000, wall_s: 0.5 },
  { epoch: 1, split: 'train', loss: 0.3, accuracy: 0.9, lr: 0.0005, samples_per_s: 1100, wall_s: 1.9 },
  { epoch: 1, split: 'test', loss: 0.35, accuracy: 0.875, lr: 0.0005, samples_per_s: 5100, wall_s: 0.4 },
];

describe('metrics.arrow', () => {
  it('round-trips rows and has the documented columns', () => {
    const t = new MetricsTable();
    t.appendAll(metricRows.slice(0, 3));
    t.append(metricRows[3]);
    const f = join(dir, 'metrics.arrow');
    t.write(f);
    expect(MetricsTable.read(f).rows).toEqual(metricRows);
    expect(columns(f)).toEqual(['epoch:Int32', 'split:Utf8', 'loss:Float64', 'accuracy:Float64', 'lr:Float64', 'samples_per_s:Float64', 'wall_s:Float64']);
  });

  it('is an Arrow IPC file (not a stream) and rewriting it leaves no temp file', () => {
    const d = mkdtempSync(join(tmpdir(), 'evnn-res-'));
    const f = join(d, 'metrics.arrow');
    const t = new MetricsTable();
    t.append(metricRows[0]);
    t.write(f);
    t.append(metricRows[1]);
    t.write(f);
    expect(Buffer.from(readFileSync(f).subarray(0, 6)).toString('latin1')).toBe('ARROW1');
    expect(readdirSync(d)).toEqual(['metrics.arrow']);
    expect(MetricsTable.read(f).rows).toEqual(metricRows.slice(0, 2));
  });

  it('a damaged or foreign table names the file and the problem', () => {
    const bad = join(dir, 'bad.arrow');
    writeFileSync(bad, 'not arrow');
    expect(() => MetricsTable.read(bad)).toThrow(`${bad}: not a readable Arrow file`);

    const noSplit = join(dir, 'no-split.arrow');
    writeFileSync(noSplit, tableToIPC(new Table({ epoch: vectorFromArray([0], new Int32()) }), 'file'));
    expect(() => MetricsTable.read(noSplit)).toThrow(`${noSplit}: missing column split`);

    const floatEpoch = join(dir, 'float-epoch.arrow');
    const schema = new Schema(new MetricsTable().schema().fields.map((fl) => (fl.name === 'epoch' ? new Field('epoch', new Float64(), false) : fl)));
    writeFileSync(floatEpoch, tableToIPC(new Table(schema), 'file'));
    expect(() => MetricsTable.read(floatEpoch)).toThrow(`${floatEpoch}: column epoch is Float64, expected Int32`);
  });
});

describe('sparsity.arrow', () => {
  const sparsityColumns = [
    'epoch:Int32', 'layer:Utf8', 'family:Utf8', 'activity:Float64', 'backward_sparsity:Float64', 'active_fraction:Float64',
    'delta_x_zero:Float64', 'delta_h_zero:Float64', 'macs_forward:Float64', 'macs_forward_dense:Float64',
    'macs_backward:Float64', 'macs_backward_dense:Float64',
  ];

  it('round-trips rows with the documented columns; a family fills its own and leaves NaN in the others', () => {
    const none = { active_fraction: NaN, delta_x_zero: NaN, delta_h_zero: NaN };
    const rows: SparsityRow[] = [
      { epoch: 0, layer: 'rnn.0', family: 'egru', activity: 0.12, backward_sparsity: 0.8, ...none, macs_forward: 1.5e9, macs_forward_dense: 6e9, macs_backward: 2e9, macs_backward_dense: 1.2e10 },
      { epoch: 0, layer: 'rnn.1', family: 'egru', activity: 0.05, backward_sparsity: 0.9, ...none, macs_forward: 3e8, macs_forward_dense: 6e9, macs_backward: 1e9, macs_backward_dense: 1.2e10 },
      { epoch: 1, layer: 'rnn.0', family: 'deltagru', activity: NaN, backward_sparsity: NaN, active_fraction: NaN, delta_x_zero: 0.7, delta_h_zero: 0.9, macs_forward: 1e8, macs_forward_dense: 6e9, macs_backward: 6e9, macs_backward_dense: 6e9 },
    ];
    const t = new SparsityTable();
    t.appendAll(rows);
    const f = join(dir, 'sparsity-rows.arrow');
    t.write(f);
    expect(SparsityTable.read(f).rows).toEqual(rows);
    expect(columns(f)).toEqual(sparsityColumns);
  });

  it('a file of the earlier EGRU-only schema (an interrupted run of evnn before the layer design) reads back with NaN in the new columns', () => {
    const legacy = new Schema(['epoch', 'layer', 'activity', 'backward_sparsity', 'macs_forward', 'macs_forward_dense', 'macs_backward', 'macs_backward_dense']
      .map((n) => new Field(n, n === 'epoch' ? new Int32() : n === 'layer' ? new Utf8() : new Float64(), false)));
    const values: Record<string, unknown[]> = {
      epoch: [0], layer: ['rnn.0'], activity: [0.2], backward_sparsity: [0.4], macs_forward: [1], macs_forward_dense: [2], macs_backward: [3], macs_backward_dense: [4],
    };
    const f = join(dir, 'sparsity-legacy.arrow');
    writeFileSync(f, tableToIPC(new Table(Object.fromEntries(legacy.fields.map((fl) => [fl.name, vectorFromArray(values[fl.name], fl.type)]))), 'file'));
    expect(SparsityTable.read(f).rows).toEqual([{
      epoch: 0, layer: 'rnn.0', family: 'egru', activity: 0.2, backward_sparsity: 0.4, active_fraction: NaN, delta_x_zero: NaN,
      delta_h_zero: NaN, macs_forward: 1, macs_forward_dense: 2, macs_backward: 3, macs_backward_dense: 4,
    }]);
  });

  it('an empty table is still written with its schema and reads back empty', () => {
    const f = join(dir, 'sparsity.arrow');
    new SparsityTable().write(f);
    expect(tableFromIPC(readFileSync(f)).numRows).toBe(0);
    expect(columns(f)).toEqual(sparsityColumns);
    expect(SparsityTable.read(f).rows).toEqual([]);
  });
});
