// N-MNIST and SHD through the CLI on official-format fixtures (.bin folders; HDF5 files):
// `evnn prepare <name> --source DIR`, then a small S3GD run of the shipped config's network at a
// tiny size, which finishes with its test accuracy and each LIF layer's spike statistics; a config
// that names a missing source is an error naming it.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeNmnistFixture } from '../data/nmnist-fixtures.js';
import { shdContent, writeShdFile } from '../data/shd-fixtures.js';
import { evnn, root, tempDir, writeConfig } from './helpers.js';
import { json, onlyRunDir } from './run-output.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = tempDir('events');
  temps.push(d);
  return d;
};

/** The shipped config at a tiny size on `source`. */
function tiny(shipped: string, source: string): string {
  const c = parse(readFileSync(join(root, 'configs', shipped), 'utf8'));
  c.threads = 2;
  c.data.source = source;
  c.model.snn.hidden_sizes = [16, 12];
  c.train.epochs = 2;
  c.train.batch_size = 8;
  c.train.eval_batch_size = 16;
  return stringify(c);
}

function runTiny(dir: string, name: string, shipped: string, source: string) {
  const file = writeConfig(dir, name, tiny(shipped, source));
  const args = ['--results-dir', join(dir, 'results'), '--data-dir', join(dir, 'datasets'), '--quiet', '--no-report'];
  const r = evnn(['run', file, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return json(join(onlyRunDir(join(dir, 'results'), name), 'summary.json'));
}

describe('event datasets through the CLI', () => {
  it('prepares N-MNIST from the official folders and trains the S3GD network on it', () => {
    const dir = scratch();
    const fx = writeNmnistFixture(join(dir, 'src'), { Train: 4, Test: 2 });
    const p = evnn(['prepare', 'nmnist', '--source', fx.folders, '--data-dir', join(dir, 'datasets')]);
    expect(p.code, p.stderr).toBe(0);
    const meta = json(join(dir, 'datasets', 'nmnist', 'meta.json'));
    expect(meta.sensor_size).toEqual([34, 34, 2]);
    const s = runTiny(dir, 'nm', 'nmnist-s3gd.yaml', fx.folders);
    expect(s.status).toBe('finished');
    expect(s.final.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(Object.keys(s.test_sparsity)).toEqual(['lif.0', 'lif.1']);
  }, 120_000);

  it('prepares SHD from the official HDF5 files and trains the S3GD network on it', () => {
    const dir = scratch();
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    writeShdFile(src, 'train', shdContent(0, 40));
    writeShdFile(src, 'test', shdContent(1, 12), 'gz');
    const p = evnn(['prepare', 'shd', '--source', src, '--data-dir', join(dir, 'datasets')]);
    expect(p.code, p.stderr).toBe(0);
    expect(json(join(dir, 'datasets', 'shd', 'meta.json')).sensor_size).toEqual([700, 1, 1]);
    const s = runTiny(dir, 'shd', 'shd-s3gd.yaml', src);
    expect(s.status).toBe('finished');
    expect(s.test_sparsity['lif.0'].family).toBe('lif');
  }, 120_000);

  it('names the source when it is missing', () => {
    const dir = scratch();
    const r = evnn(['prepare', 'shd', '--source', join(dir, 'nowhere'), '--data-dir', join(dir, 'datasets')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nowhere');
  });
});
