// report.html: valid HTML (html-validate's rules of the standard find nothing, and parse5, a WHATWG
// parser, reports no parse error), self-contained (no scripts, no external references), one inline
// SVG per chart, and in each chart one point per epoch and series (and one test diamond) as the
// run's files hold them.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HtmlValidate } from 'html-validate';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { describe, expect, it } from 'vitest';
import { escapeHtml, readReportRun, reportHtml, writeCompareReport, writeRunReport } from '../../src/results/report.js';
import { writeFixtureRun } from './report-fixtures.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

const root = mkdtempSync(join(tmpdir(), 'evnn-report-'));

function parseChecked(html: string) {
  const errors: string[] = [];
  const doc = parse(html, { onParseError: (e) => errors.push(`${e.code} at line ${e.startLine}, column ${e.startCol}`) });
  return { doc, errors };
}

/** Problems html-validate finds under its preset of the HTML standard's rules (content models, nesting, ids, attributes). */
async function validationProblems(html: string): Promise<string[]> {
  const r = await new HtmlValidate({ extends: ['html-validate:standard'] }).validateString(html);
  return r.results.flatMap((f) => f.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
}

function* elements(n: Node): Generator<Element> {
  if ('tagName' in n) yield n as Element;
  const kids = 'childNodes' in n ? (n.childNodes as Node[]) : [];
  const content = 'content' in n ? [(n as { content: Node }).content] : [];
  for (const k of [...kids, ...content]) yield* elements(k);
}

const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;
const hasClass = (e: Element, c: string) => (attr(e, 'class') ?? '').split(/\s+/).includes(c);
const text = (n: Node): string => ('value' in n && n.nodeName === '#text' ? (n as { value: string }).value : 'childNodes' in n ? (n.childNodes as Node[]).map(text).join('') : '');

/** The chart figures of a page: id → its SVG element. */
function figures(doc: Node): Map<string, Element> {
  const out = new Map<string, Element>();
  for (const f of elements(doc)) {
    if (f.tagName !== 'figure' || !hasClass(f, 'chart')) continue;
    const svgs = [...elements(f)].filter((e) => e.tagName === 'svg');
    expect(svgs, `figure ${attr(f, 'id')}`).toHaveLength(1);
    out.set(attr(f, 'data-chart')!, svgs[0]);
  }
  return out;
}

/**
 * Marks of a named layer (points, test) in a chart's SVG, counted by series: every mark's
 * aria-label is "<series> · epoch <n>: <value>".
 */
function marks(svg: Element, layer: 'points' | 'test'): Map<string, { epoch: number; value: number }[]> {
  const out = new Map<string, { epoch: number; value: number }[]>();
  for (const g of elements(svg)) {
    if (g.tagName !== 'g' || !hasClass(g, 'role-mark') || !hasClass(g, `${layer}_marks`)) continue;
    for (const p of g.childNodes.filter((c): c is Element => 'tagName' in c && c.tagName === 'path')) {
      const m = /^(.*) · epoch (\d+): (.*)$/.exec(attr(p, 'aria-label') ?? '');
      expect(m, attr(p, 'aria-label')).not.toBeNull();
      const [, series, epoch, value] = m!;
      out.set(series, [...(out.get(series) ?? []), { epoch: Number(epoch), value: Number(value) }]);
    }
  }
  return out;
}

const counts = (m: Map<string, unknown[]>) => Object.fromEntries([...m].map(([k, v]) => [k, v.length]));

/** The page loads nothing: no scripts, frames, images, stylesheets or fonts, no URL outside the page. */
function expectSelfContained(doc: Node, html: string) {
  for (const e of elements(doc)) {
    expect(['script', 'link', 'iframe', 'img', 'object', 'embed', 'image', 'use', 'foreignObject', 'base'], e.tagName).not.toContain(e.tagName);
    for (const a of e.attrs) {
      if (['src', 'href', 'srcset', 'action', 'data', 'poster', 'formaction', 'background'].includes(a.name)) {
        expect(a.value, `${e.tagName} ${a.prefix ? `${a.prefix}:` : ''}${a.name}`).toMatch(/^#/);
      }
      expect(a.name.startsWith('on'), `event handler ${a.name} on ${e.tagName}`).toBe(false);
      if (a.name === 'style') expect(a.value).not.toMatch(/url\(|@import/);
    }
    if (e.tagName === 'style') expect(text(e)).not.toMatch(/url\(|@import/);
  }
  // Any URL left is text (the config's paper source), never in a tag.
  for (const m of html.matchAll(/<[^>]*(https?:|\/\/)[^>]*>/g)) expect.fail(`a tag with a URL: ${m[0]}`);
}

describe('report.html of a run', () => {
  const evil = 'name: egru-run\ndescription: "<script>alert(1)</script> & \'quotes\'"\npaper: { source: "https://example.org/paper" }\n';
  const run = writeFixtureRun(join(root, 'egru'), { name: 'egru-run', epochs: 3, layers: 2, bestEpoch: 1, configYaml: evil });

  it('is valid, self-contained HTML with one SVG per chart and the right points in each', async () => {
    const file = await writeRunReport(run.dir);
    expect(file).toBe(join(run.dir, 'report.html'));
    expect(readdirSync(run.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const html = readFileSync(file, 'utf8');
    const { doc, errors } = parseChecked(html);
    expect(errors).toEqual([]);
    expect(await validationProblems(html)).toEqual([]);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expectSelfContained(doc, html);

    const figs = figures(doc);
    expect([...figs.keys()]).toEqual(['loss', 'metric-accuracy', 'lr', 'sparsity-activity', 'sparsity-backward-sparsity', 'macs-forward', 'macs-backward']);
    expect([...elements(doc)].filter((e) => e.tagName === 'svg')).toHaveLength(figs.size);

    // Loss and accuracy: train and valid per epoch (1-based), the test value once, at the tested epoch.
    for (const [id, value] of [['loss', (r: { loss: number }) => r.loss], ['metric-accuracy', (r: { accuracy: number }) => r.accuracy]] as const) {
      const pts = marks(figs.get(id)!, 'points');
      expect(counts(pts)).toEqual({ train: 3, valid: 3 });
      expect(pts.get('train')!.map((p) => p.epoch)).toEqual([1, 2, 3]);
      expect(pts.get('valid')!.map((p) => p.value)).toEqual(run.metrics.filter((r) => r.split === 'valid').map(value));
      const test = marks(figs.get(id)!, 'test');
      expect(counts(test)).toEqual({ test: 1 });
      expect(test.get('test')![0]).toEqual({ epoch: 2, value: value(run.metrics.find((r) => r.split === 'test')!) });
    }
    expect(counts(marks(figs.get('lr')!, 'points'))).toEqual({ lr: 3 });
    expect(marks(figs.get('lr')!, 'points').get('lr')!.map((p) => p.value)).toEqual([0.002, 0.002, 0.001]);
    expect(counts(marks(figs.get('lr')!, 'test'))).toEqual({});
    for (const id of ['sparsity-activity', 'sparsity-backward-sparsity']) {
      expect(counts(marks(figs.get(id)!, 'points'))).toEqual({ 'rnn.0': 3, 'rnn.1': 3 });
    }
    expect(marks(figs.get('sparsity-activity')!, 'points').get('rnn.1')!.map((p) => p.value)).toEqual(run.sparsity.filter((s) => s.layer === 'rnn.1').map((s) => s.activity));
    const fwd = marks(figs.get('macs-forward')!, 'points');
    expect(counts(fwd)).toEqual({ effective: 3, dense: 3 });
    // Summed over the two layers.
    expect(fwd.get('dense')!.map((p) => p.value)).toEqual([2e6, 2e6, 2e6]);
    expect(fwd.get('effective')!.map((p) => p.value)).toEqual([1e6, 0.9e6, 0.8e6].map((x) => expect.closeTo(x, 3)));
    expect(counts(marks(figs.get('macs-backward')!, 'points'))).toEqual({ effective: 3, dense: 3 });
    // Each chart's line mark: one path per series.
    for (const [id, svg] of figs) {
      const lines = [...elements(svg)].filter((g) => g.tagName === 'g' && hasClass(g, 'lines_marks')).flatMap((g) => g.childNodes.filter((c) => c.nodeName === 'path'));
      expect(lines.length, id).toBe(id === 'lr' ? 1 : 2);
    }
    // Ids are unique in the page (several SVGs in one document).
    const ids = [...elements(doc)].map((e) => attr(e, 'id')).filter((x) => x !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('escapes what it interpolates: the config as text, the summary as a table', async () => {
    const html = await reportHtml([readReportRun(run.dir)]);
    const { doc } = parseChecked(html);
    const pres = [...elements(doc)].filter((e) => e.tagName === 'pre');
    expect(pres.map(text)).toEqual([evil]);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;quotes&#39;');
    const summaryRows = [...elements(doc)].filter((e) => e.tagName === 'table' && hasClass(e, 'summary')).flatMap((t) => [...elements(t)].filter((e) => e.tagName === 'tr'));
    const cells = Object.fromEntries(summaryRows.map((tr) => [...elements(tr)].filter((e) => e.tagName === 'th' || e.tagName === 'td').map(text)));
    expect(cells['metric.name']).toBe('accuracy');
    expect(cells['final.best_epoch']).toBe('1');
    expect(cells['backend.gemm']).toBe('openblas');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('a language model plots perplexity, exp of the loss, on a log scale', async () => {
    const lm = writeFixtureRun(join(root, 'lm'), { name: 'ptb', epochs: 2, layers: 1, metric: 'perplexity' });
    const html = await reportHtml([readReportRun(lm.dir)]);
    const { doc, errors } = parseChecked(html);
    expect(errors).toEqual([]);
    expect(await validationProblems(html)).toEqual([]);
    const figs = figures(doc);
    expect(figs.has('metric-perplexity')).toBe(true);
    expect(figs.has('metric-accuracy')).toBe(false);
    const pts = marks(figs.get('metric-perplexity')!, 'points');
    expect(pts.get('train')!.map((p) => p.value)).toEqual(lm.metrics.filter((r) => r.split === 'train').map((r) => Math.exp(r.loss)));
    expect(marks(figs.get('metric-perplexity')!, 'test').get('test')![0].value).toBe(Math.exp(lm.metrics.at(-1)!.loss));
    expect(counts(marks(figs.get('sparsity-activity')!, 'points'))).toEqual({ 'rnn.0': 2 });
  });

  it('a dense model has no sparsity charts and says why', async () => {
    const gru = writeFixtureRun(join(root, 'dense'), { name: 'gru-run', epochs: 2, layers: 0 });
    const html = await reportHtml([readReportRun(gru.dir)]);
    expect([...figures(parseChecked(html).doc).keys()]).toEqual(['loss', 'metric-accuracy', 'lr']);
    expect(await validationProblems(html)).toEqual([]);
    expect(html).toContain('gru-run: no sparse layers');
  });
});

describe('evnn report --compare', () => {
  const a = writeFixtureRun(join(root, 'cmp', 'gru'), { name: 'gru-run', epochs: 2, layers: 0, runId: 'seed3-aaaaaaaa' });
  const b = writeFixtureRun(join(root, 'cmp', 'egru'), { name: 'egru-run', epochs: 3, layers: 2, runId: 'seed3-bbbbbbbb' });

  it('overlays the runs, the legend by run, each series with its own points', async () => {
    const cwd = join(root, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const file = await writeCompareReport([a.dir, b.dir], undefined, cwd);
    expect(file).toBe(join(cwd, 'report-gru-run-vs-egru-run.html'));
    const html = readFileSync(file, 'utf8');
    const { doc, errors } = parseChecked(html);
    expect(errors).toEqual([]);
    expect(await validationProblems(html)).toEqual([]);
    expectSelfContained(doc, html);
    const figs = figures(doc);
    expect([...figs.keys()]).toEqual(['loss', 'metric-accuracy', 'lr', 'sparsity-activity', 'sparsity-backward-sparsity', 'macs-forward', 'macs-backward']);
    expect(counts(marks(figs.get('loss')!, 'points'))).toEqual({ 'gru-run · train': 2, 'gru-run · valid': 2, 'egru-run · train': 3, 'egru-run · valid': 3 });
    expect(counts(marks(figs.get('loss')!, 'test'))).toEqual({ 'gru-run · test': 1, 'egru-run · test': 1 });
    expect(counts(marks(figs.get('lr')!, 'points'))).toEqual({ 'gru-run · lr': 2, 'egru-run · lr': 3 });
    // Only the EGRU has sparse layers.
    expect(counts(marks(figs.get('sparsity-activity')!, 'points'))).toEqual({ 'egru-run · rnn.0': 3, 'egru-run · rnn.1': 3 });
    // The legend names the runs.
    const legends = [...elements(figs.get('loss')!)].filter((g) => g.tagName === 'g' && hasClass(g, 'role-legend')).map((g) => attr(g, 'aria-label') ?? '');
    expect(legends.some((l) => l.includes('run') && l.includes('gru-run') && l.includes('egru-run'))).toBe(true);
    // What differs between the configs.
    const diff = [...elements(doc)].find((e) => e.tagName === 'table' && hasClass(e, 'config-diff'))!;
    expect(text(diff)).toContain('model.rnn.type');
    expect(text(diff)).not.toContain('seed');
    const out = join(root, 'chosen.html');
    expect(await writeCompareReport([a.dir, b.dir], out)).toBe(out);
    expect(existsSync(out)).toBe(true);
  });

  it('two runs of one config are told apart by their run ids', async () => {
    const c = writeFixtureRun(join(root, 'cmp', 'gru2'), { name: 'gru-run', epochs: 2, layers: 0, runId: 'seed4-cccccccc' });
    const { doc } = parseChecked(await reportHtml([readReportRun(a.dir), readReportRun(c.dir)]));
    expect(Object.keys(counts(marks(figures(doc).get('lr')!, 'points')))).toEqual(['gru-run (seed3-aaaaaaaa) · lr', 'gru-run (seed4-cccccccc) · lr']);
  });
});

describe('which directory a report is of', () => {
  it('a run with steps names its step directories', () => {
    const run = join(root, 'steps-run');
    writeFixtureRun(join(run, 'pretrain'), { name: 'two-step', epochs: 1, layers: 0, step: 'pretrain' });
    writeFixtureRun(join(run, 'retrain'), { name: 'two-step', epochs: 1, layers: 0, step: 'retrain' });
    expect(() => readReportRun(run)).toThrow(`${run} is a run with steps: a report is of one training step, so give its directory (evnn report ${join(run, 'pretrain')} or evnn report ${join(run, 'retrain')})`);
    expect(readReportRun(join(run, 'retrain')).label).toBe('two-step/retrain');
  });

  it('a missing or unfinished directory is an error naming it', () => {
    expect(() => readReportRun(join(root, 'nope'))).toThrow(`${join(root, 'nope')}: no such run directory`);
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => readReportRun(empty)).toThrow(/no summary\.json, so not a finished training step's directory/);
  });
});
