// Configs with steps end to end on tiny real MNIST: pretrain, then retrain from pretrain's best
// checkpoint with other settings, then eval; per-step directories, resume after SIGKILL, skipping.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evnn, evnnBackground, tempDir, tinyConfig, writeConfig } from './helpers.js';
import { json, logOf, metrics, onlyRunDir, sha256 } from './run-output.js';

const dataDir = tempDir('steps-data');
const NAME = 'two';
const twoStep = `${tinyConfig()}steps:
  - name: pretrain
  - name: retrain
    init_from: pretrain
    train: { epochs: 2, optimizer: { lr: 0.003 } }
  - name: eval
`;
const cfgDir = tempDir('steps-cfg');
const cfg = writeConfig(cfgDir, NAME, twoStep);
const whole = join(cfgDir, 'whole');

const run = (args: string[], results: string) => evnn([...args, '--data-dir', dataDir, '--results-dir', results, '--quiet']);

/** Starts `evnn run` in the background and SIGKILLs it as soon as `file` (under the run) exists. */
async function killWhenExists(results: string, step: string, file: string): Promise<void> {
  const child = evnnBackground(['run', cfg, '--data-dir', dataDir, '--results-dir', results, '--quiet']);
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  const started = Date.now();
  for (;;) {
    const runs = existsSync(join(results, NAME)) ? readdirSync(join(results, NAME)) : [];
    if (runs.length && existsSync(join(results, NAME, runs[0], step, file))) break;
    if (Date.now() - started > 120_000) throw new Error(`no ${step}/${file} appeared`);
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await exited;
}

beforeAll(() => {
  const p = evnn(['prepare', 'mnist', '--data-dir', dataDir, '--quiet']);
  expect(p.code).toBe(0);
  const r = run(['run', cfg], whole);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

describe('a config with steps', () => {
  it('runs every step in its own directory; retrain starts from pretrain\'s best weights; eval tests retrain', () => {
    const runDir = onlyRunDir(whole, NAME);
    expect(readdirSync(runDir).sort()).toEqual(['config.yaml', 'eval', 'pretrain', 'retrain']);
    for (const step of ['pretrain', 'retrain']) {
      for (const f of ['config.yaml', 'log.jsonl', 'metrics.arrow', 'sparsity.arrow', 'summary.json', 'best.safetensors', 'last.safetensors']) {
        expect(existsSync(join(runDir, step, f)), `${step}/${f}`).toBe(true);
      }
    }
    const pre = json(join(runDir, 'pretrain', 'summary.json'));
    const re = json(join(runDir, 'retrain', 'summary.json'));
    expect([pre.step, re.step]).toEqual(['pretrain', 'retrain']);
    expect(pre.run_id).toBe(runDir.split('/').pop());
    expect(re.metric).toEqual({ name: 'accuracy', value: re.final.test_accuracy, best_valid: re.final.best_valid_accuracy });
    expect(re.final.test_accuracy).toBeGreaterThan(0.3);

    // retrain loaded exactly pretrain's best checkpoint ...
    const init = logOf(join(runDir, 'retrain')).filter((l) => l.event === 'init');
    expect(init).toHaveLength(1);
    expect(init[0]).toMatchObject({ from: 'pretrain', epoch: pre.final.best_epoch, sha256: sha256(join(runDir, 'pretrain', 'best.safetensors')) });
    // ... and so its first epoch already trains at the level pretrain reached, far above where pretrain began.
    const pm = metrics(join(runDir, 'pretrain'));
    const rm = metrics(join(runDir, 'retrain'));
    expect(rm.accuracy[rm.split.indexOf('train')]).toBeGreaterThan(pm.accuracy[pm.split.indexOf('train')] + 0.05);
    expect(readFileSync(join(runDir, 'retrain', 'config.yaml'), 'utf8')).toContain('lr: 0.003');

    const ev = json(join(runDir, 'eval', 'result.json'));
    expect(ev).toMatchObject({ step: 'eval', split: 'test', of: { step: 'retrain', epoch: re.final.best_epoch } });
    expect(ev.accuracy).toBe(re.final.test_accuracy);
    expect(ev.metric).toEqual({ name: 'accuracy', value: re.final.test_accuracy });
  });

  it('a finished step is skipped; --force on one step redoes it and drops the steps that use it', () => {
    const runDir = onlyRunDir(whole, NAME);
    const mtime = (f: string) => statSync(join(runDir, f)).mtimeMs;
    const before = ['pretrain/summary.json', 'retrain/summary.json', 'eval/result.json'].map(mtime);
    const again = run(['run', cfg], whole);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('pretrain: already finished');
    expect(again.stdout).toContain('retrain: already finished');
    expect(again.stdout).toContain('eval: already done');
    expect(['pretrain/summary.json', 'retrain/summary.json', 'eval/result.json'].map(mtime)).toEqual(before);

    const old = json(join(runDir, 'retrain', 'summary.json'));
    const forced = run(['retrain', cfg, '--force'], whole);
    expect(forced.code).toBe(0);
    expect(mtime('pretrain/summary.json')).toBe(before[0]);
    expect(existsSync(join(runDir, 'eval'))).toBe(false);
    expect(json(join(runDir, 'retrain', 'summary.json')).final).toEqual(old.final);
    const ev = evnn(['eval', cfg, '--data-dir', dataDir, '--results-dir', whole]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toContain((100 * old.final.test_accuracy).toFixed(2));
    expect(json(join(runDir, 'eval', 'result.json')).accuracy).toBe(old.final.test_accuracy);
  });

  it('both steps resume after SIGKILL and end with the same numbers as an uninterrupted run', async () => {
    const cut = join(cfgDir, 'cut');
    await killWhenExists(cut, 'pretrain', 'last.safetensors');
    const cutDir = onlyRunDir(cut, NAME);
    expect(existsSync(join(cutDir, 'pretrain', 'summary.json')), 'pretrain was really interrupted').toBe(false);
    await killWhenExists(cut, 'retrain', 'last.safetensors');
    expect(existsSync(join(cutDir, 'pretrain', 'summary.json'))).toBe(true);
    expect(existsSync(join(cutDir, 'retrain', 'summary.json')), 'retrain was really interrupted').toBe(false);
    const r = run(['run', cfg], cut);
    expect(r.code).toBe(0);

    const wholeDir = onlyRunDir(whole, NAME);
    expect(cutDir.split('/').pop()).toBe(wholeDir.split('/').pop());
    for (const step of ['pretrain', 'retrain']) {
      expect(logOf(join(cutDir, step)).some((l) => l.event === 'resume'), `${step} resumed`).toBe(true);
      expect(json(join(cutDir, step, 'summary.json')).final).toEqual(json(join(wholeDir, step, 'summary.json')).final);
      expect(metrics(join(cutDir, step))).toEqual(metrics(join(wholeDir, step)));
    }
    expect(json(join(cutDir, 'eval', 'result.json')).accuracy).toBe(json(join(wholeDir, 'eval', 'result.json')).accuracy);
  });

  it('retrain before pretrain has finished says which step to run; pretrain alone runs only pretrain', () => {
    // A vanishing learning rate: retrain must then end exactly where pretrain's best checkpoint is.
    const results = join(cfgDir, 'order');
    const set = ['--set', 'steps.1.train.epochs=1', '--set', 'steps.1.train.optimizer.lr=1e-30'];
    const early = run(['retrain', cfg, ...set], results);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("retrain starts from pretrain's best checkpoint, and pretrain has not finished");
    expect(early.stderr).toContain(`run \`evnn pretrain ${cfg}\` first`);
    const evalEarly = run(['eval', cfg, ...set], results);
    expect(evalEarly.code).toBe(1);
    expect(evalEarly.stderr).toContain("eval tests retrain's best checkpoint, and retrain has not finished");

    expect(run(['pretrain', cfg, ...set], results).code).toBe(0);
    const runDir = onlyRunDir(results, NAME);
    expect(readdirSync(runDir).sort()).toEqual(['config.yaml', 'pretrain']);
    expect(run(['retrain', cfg, ...set], results).code).toBe(0);
    const pre = json(join(runDir, 'pretrain', 'summary.json'));
    const rm = metrics(join(runDir, 'retrain'));
    const pm = metrics(join(runDir, 'pretrain'));
    const bestValid = pm.split.findIndex((s, i) => s === 'valid' && pm.epoch[i] === pre.final.best_epoch);
    const firstValid = rm.split.indexOf('valid');
    expect(rm.accuracy[firstValid]).toBe(pm.accuracy[bestValid]);
    expect(rm.loss[firstValid]).toBe(pm.loss[bestValid]);
    // The same pretrain settings as the main run: the same numbers.
    expect(pre.final).toEqual(json(join(onlyRunDir(whole, NAME), 'pretrain', 'summary.json')).final);
  });

  it('step problems are config errors naming the field, before anything is written', () => {
    const dir = tempDir('steps-bad');
    const bad = writeConfig(dir, 'bad', twoStep.replace('init_from: pretrain', 'init_from: retrain').replace('epochs: 2, optimizer', 'epochs: 0, optimizer'));
    const results = join(dir, 'results');
    const r = evnn(['run', bad, '--data-dir', join(dir, 'data'), '--results-dir', results]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('steps.1.train.epochs: must be >= 1, got 0');
    expect(r.stderr).toContain('steps.1.init_from: a step cannot start from itself');
    expect(existsSync(results)).toBe(false);
    const unknown = writeConfig(dir, 'unknown', `${tinyConfig()}steps:\n  - name: pretrain\n  - name: finetune\n`);
    expect(evnn(['config', unknown]).stderr).toContain('steps.1.name: must be one of "prepare", "feature", "pretrain", "retrain", "eval", got "finetune"');
  });

  it('a single step of a config that lacks it, an unknown dataset, and `evnn config` on the shipped two-step config', () => {
    const dir = tempDir('steps-misc');
    const single = writeConfig(dir, 'single', tinyConfig());
    const r = evnn(['retrain', single, '--results-dir', join(dir, 'r')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('this config has no retrain step');
    const feature = evnn(['feature', single, '--data-dir', dataDir, '--results-dir', join(dir, 'r')]);
    expect(feature.code).toBe(1);
    expect(feature.stderr).toContain('the mnist dataset has no feature-extraction step');
    const p = evnn(['prepare', 'cifar10', '--data-dir', join(dir, 'data')]);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('unknown dataset "cifar10" (known datasets: mnist, ptb, wikitext2, gscv2, fmnist, nmnist, shd, dvs128)');

    const c = evnn(['config', 'configs/smnist-gru-two-step.yaml', '--results-dir', '/r']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^# run directory: \/r\/smnist-gru-two-step\/seed1-[0-9a-f]{8}\n# steps:\n/);
    expect(c.stdout).toMatch(/# {3}retrain: \/r\/smnist-gru-two-step\/seed1-[0-9a-f]{8}\/retrain\n/);
    expect(c.stdout).toContain('lr: 0.0005');
    expect(c.stdout).toContain('init_from:\n      step: pretrain');
  });
});
