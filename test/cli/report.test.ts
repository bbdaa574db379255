// `evnn run` writes each training step's report.html and says where (unless --no-report or
// `report: false`); `evnn report` writes one for a step directory, or a comparison; and the page
// renders in headless Chromium without a console error, every chart's SVG with a non-zero size.
// Without Chromium the rendering test is skipped with a message, except in CI (CI or
// EVNN_REQUIRE_CHROMIUM set), where it fails: .ci/run installs Debian's chromium.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPage, findChromium } from './chromium.js';
import { evnn, tempDir, tinyConfig, writeConfig } from './helpers.js';

const dataDir = tempDir('data');
const work = tempDir('report');
const results = join(work, 'results');

const runDirOf = (resultsDir: string, name: string) => {
  const runs = readdirSync(join(resultsDir, name));
  expect(runs).toHaveLength(1);
  return join(resultsDir, name, runs[0]);
};
const lastLine = (s: string) => s.trimEnd().split('\n').at(-1);

const egruConfig = tinyConfig({ trainLimit: 1000, epochs: 3, hidden: 24 })
  .replace('{ type: gru, hidden_size: 24 }', '{ type: egru, hidden_size: 24, num_layers: 2 }\n  use_output_trace: true')
  .replace('grad_clip: 1.0', 'grad_clip: 1.0\n  activity_regularization: { constant: 1, target: 0.1 }\n  schedule: { type: step, step_size: 2, gamma: 0.5 }');

let gruDir = '';
let egruDir = '';

beforeAll(() => {
  expect(evnn(['prepare', 'mnist', '--data-dir', dataDir, '--quiet']).code).toBe(0);
});

describe('evnn run and its report', () => {
  it('writes report.html for the finished training step and prints where it is, last', () => {
    const cfg = writeConfig(work, 'gru', tinyConfig({ trainLimit: 1000, epochs: 2 }));
    const started = Date.now();
    const r = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', results, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    gruDir = runDirOf(results, 'gru');
    const report = join(gruDir, 'report.html');
    expect(lastLine(r.stdout)).toBe(`report: ${report}`);
    // and just before it, the run's row of `evnn table`
    expect(r.stdout.trimEnd().split('\n').at(-2)).toMatch(/^table: \| gru \| GRU 16 \| mnist\/smnist-rows \| test accuracy \| — \| — \| \d+\.\d\d% \| 1 \|/);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    console.log(`evnn run (tiny GRU, 2 epochs) with its report: ${Date.now() - started} ms`);

    // A finished run is skipped; its report stays and is named again.
    const before = statSync(report).mtimeMs;
    const again = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', results, '--quiet']);
    expect(again.code).toBe(0);
    expect(lastLine(again.stdout)).toBe(`report: ${report}`);
    expect(statSync(report).mtimeMs).toBe(before);
  });

  it('--no-report and `report: false` write none, and `report` does not change the run directory', () => {
    const cfg = writeConfig(work, 'quiet', tinyConfig({ trainLimit: 500, epochs: 1 }));
    const a = join(work, 'no-report');
    const r = evnn(['run', cfg, '--no-report', '--data-dir', dataDir, '--results-dir', a, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('report:');
    const dirA = runDirOf(a, 'quiet');
    expect(existsSync(join(dirA, 'summary.json'))).toBe(true);
    expect(existsSync(join(dirA, 'report.html'))).toBe(false);

    const off = writeConfig(work, 'quiet-off', `name: quiet\nreport: false\n${tinyConfig({ trainLimit: 500, epochs: 1 })}`);
    const b = join(work, 'report-false');
    const r2 = evnn(['run', off, '--data-dir', dataDir, '--results-dir', b, '--quiet']);
    expect(r2.code).toBe(0);
    expect(r2.stdout).not.toContain('report:');
    const dirB = runDirOf(b, 'quiet');
    expect(existsSync(join(dirB, 'report.html'))).toBe(false);
    // The same run (the hash leaves `report` out).
    expect(dirB.slice(b.length)).toBe(dirA.slice(a.length));

    // A finished run without a report gets one on the next `evnn run`.
    const r3 = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', a, '--quiet']);
    expect(lastLine(r3.stdout)).toBe(`report: ${join(dirA, 'report.html')}`);
  });

  it('a report that cannot be written is said at the end, and the run still succeeds', () => {
    const cfg = writeConfig(work, 'blocked', tinyConfig({ trainLimit: 500, epochs: 1 }));
    const dir = join(work, 'blocked-results');
    const runDir = /^# run directory: (.*)$/m.exec(evnn(['config', cfg, '--results-dir', dir]).stdout)![1];
    mkdirSync(join(runDir, 'report.html'), { recursive: true }); // a directory where the file would go
    const r = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', dir, '--quiet']);
    expect(r.code).toBe(0);
    expect(existsSync(join(runDir, 'summary.json'))).toBe(true);
    expect(lastLine(r.stdout)).toMatch(new RegExp(`^report: not written \\(.*\\); \`evnn report ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` tries again$`));
  });

  it('a run with steps writes a report per training step and lists them at the end', () => {
    const body = `${tinyConfig({ trainLimit: 500, epochs: 1 })}steps:\n  - name: pretrain\n  - name: retrain\n    init_from: pretrain\n  - name: eval\n`;
    const cfg = writeConfig(work, 'steps', body);
    const r = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', results, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = runDirOf(results, 'steps');
    const reports = ['pretrain', 'retrain'].map((s) => join(run, s, 'report.html'));
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(reports.map((f) => `report: ${f}`));
    for (const f of reports) expect(existsSync(f), f).toBe(true);
    expect(existsSync(join(run, 'eval', 'report.html'))).toBe(false);
  });

  it('evnn report writes a step directory\'s report, a comparison, and names the step directories of a run with steps', () => {
    const cfg = writeConfig(work, 'egru', egruConfig);
    expect(evnn(['run', cfg, '--no-report', '--data-dir', dataDir, '--results-dir', results, '--quiet']).code).toBe(0);
    egruDir = runDirOf(results, 'egru');
    const t0 = Date.now();
    const r = evnn(['report', egruDir]);
    console.log(`evnn report (EGRU, 2 layers, 3 epochs): ${Date.now() - t0} ms`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`report: ${join(egruDir, 'report.html')}\n`);

    const out = join(work, 'gru-vs-egru.html');
    const c = evnn(['report', '--compare', gruDir, egruDir, '--out', out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe(`report: ${out}\n`);
    const inCwd = evnn(['report', '--compare', gruDir, egruDir], work);
    expect(inCwd.stdout).toBe(`report: ${join(work, 'report-gru-vs-egru.html')}\n`);

    // A run with steps: its step directories are what a report is of.
    const run = join(work, 'two-step', 'seed3-00000000');
    mkdirSync(run, { recursive: true });
    cpSync(gruDir, join(run, 'pretrain'), { recursive: true });
    const s = evnn(['report', run]);
    expect(s.code).toBe(1);
    expect(s.stderr).toBe(`evnn: ${run} is a run with steps: a report is of one training step, so give its directory (evnn report ${join(run, 'pretrain')})\n`);
    expect(evnn(['report', gruDir, egruDir]).stderr).toContain('one run directory, or --compare with two or more');
  });
});

const chromium = findChromium();
const required = Boolean(process.env.CI || process.env.EVNN_REQUIRE_CHROMIUM);
const skip = chromium === null && !required;
if (skip) console.warn('report rendering test skipped: no Chromium found (/usr/bin/chromium or chromium on PATH; on Debian: apt-get install chromium)');

describe('the report in a browser', () => {
  it.skipIf(skip)(skip ? 'renders in headless Chromium (skipped: no Chromium found; apt-get install chromium)' : 'renders in headless Chromium without errors, every chart drawn', async () => {
    if (chromium === null) throw new Error('Chromium is required here (CI or EVNN_REQUIRE_CHROMIUM): .ci/run installs Debian\'s chromium; locally apt-get install chromium');
    expect(egruDir, 'the report test above ran').not.toBe('');
    const shots = process.env.EVNN_REPORT_SCREENSHOTS ?? work;
    mkdirSync(shots, { recursive: true });
    for (const [name, html, charts] of [
      ['report-egru', join(egruDir, 'report.html'), 7],
      ['report-gru-vs-egru', join(work, 'gru-vs-egru.html'), 7],
      ['report-gru', join(gruDir, 'report.html'), 3],
    ] as const) {
      const png = join(shots, `${name}.png`);
      const t0 = Date.now();
      const page = await checkPage(chromium, html, png);
      console.log(`${name}: rendered in Chromium in ${Date.now() - t0} ms, screenshot ${png}`);
      expect(page.errors, name).toEqual([]);
      expect(page.messages.filter((m) => /^(error|warning)/.test(m)), name).toEqual([]);
      // Only the file itself was loaded: nothing from a network, no other file.
      expect(page.requests, name).toEqual([`file://${html}`]);
      expect(page.svgs.map((s) => s.figure), name).toHaveLength(charts);
      for (const s of page.svgs) {
        expect(s.figure, name).toMatch(/^chart-/);
        expect(s.width, `${name} ${s.figure}`).toBeGreaterThan(200);
        expect(s.height, `${name} ${s.figure}`).toBeGreaterThan(100);
      }
      // A PNG of the whole page.
      const bytes = readFileSync(png);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect(bytes.readUInt32BE(16)).toBe(1200);
      expect(bytes.readUInt32BE(20)).toBe(page.contentHeight);
    }
  });
});
