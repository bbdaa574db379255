// DVS128 Gesture end to end through the CLI on the synthetic DVS128-format fixture
// (scripts/make-dvs128-fixture.mjs's defaults): configs/dvs128-egru-quick.yaml learns well above
// chance (1/11), and a run killed with SIGKILL after an epoch resumes from its checkpoint and
// finishes with the same numbers as an uninterrupted one.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { evnn, evnnKilledWhen, root, tempDir, writeConfig } from './helpers.js';
import { json, logOf, onlyRunDir } from './run-output.js';

let dir = '';
let source = '';
beforeAll(() => {
  dir = tempDir('dvs128');
  execFileSync(process.execPath, [join(root, 'scripts', 'make-dvs128-fixture.mjs'), join(dir, 'src')], { encoding: 'utf8' });
  source = join(dir, 'src', 'DvsGesture');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function quick(name: string, edit: (c: any) => void = () => {}): string {
  const c = parse(readFileSync(join(root, 'configs', 'dvs128-egru-quick.yaml'), 'utf8'));
  c.threads = 2;
  c.data.source = source;
  edit(c);
  return writeConfig(dir, name, stringify(c));
}

const args = (results: string) => ['--results-dir', join(dir, results), '--data-dir', join(dir, 'datasets'), '--quiet', '--no-report'];

describe('DVS128 Gesture through the CLI', () => {
  it('learns the fixture well above chance with the quick config', () => {
    const r = evnn(['run', quick('quick'), ...args('r1')]);
    expect(r.code, r.stderr).toBe(0);
    const s = json(join(onlyRunDir(join(dir, 'r1'), 'quick'), 'summary.json'));
    expect(s.status).toBe('finished');
    expect(s.final.test_accuracy).toBeGreaterThan(0.25);
  }, 600_000);

  it('resumes after SIGKILL and ends as an uninterrupted run', async () => {
    const small = (c: any) => {
      c.train.epochs = 3;
      c.model.rnn.hidden_size = 32;
    };
    const cfg = quick('resume', small);
    const straight = evnn(['run', cfg, ...args('straight')]);
    expect(straight.code, straight.stderr).toBe(0);
    const want = json(join(onlyRunDir(join(dir, 'straight'), 'resume'), 'summary.json'));
    // Counted on the raw text: the log may end in a line still being written.
    const epochs = (d: string) => (existsSync(join(d, 'log.jsonl')) ? readFileSync(join(d, 'log.jsonl'), 'utf8').split('"event":"epoch"').length - 1 : 0);
    const runDir = () => (existsSync(join(dir, 'killed', 'resume')) ? onlyRunDir(join(dir, 'killed'), 'resume') : '');
    await evnnKilledWhen(['run', cfg, ...args('killed')], () => runDir() !== '' && epochs(runDir()) >= 1);
    expect(existsSync(join(runDir(), 'summary.json'))).toBe(false);
    const again = evnn(['run', cfg, ...args('killed')]);
    expect(again.code, again.stderr).toBe(0);
    expect(logOf(runDir()).some((l) => l.event === 'resume')).toBe(true);
    const got = json(join(runDir(), 'summary.json'));
    expect(got.final.test_accuracy).toBe(want.final.test_accuracy);
    expect(got.final.test_loss).toBe(want.final.test_loss);
  }, 600_000);
});
