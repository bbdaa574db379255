// report.html: one self-contained HTML file per training step (or a comparison of several): the
// charts of report-charts.ts as inline SVG, a headline table, the summary as a table and the
// config as written. Nothing is fetched at view time (no scripts, no external files: the styles
// are inline and the charts are already drawn), so the file can be mailed, archived or opened
// offline. Every interpolated value is escaped; the SVG comes from Vega's renderer, which escapes
// its text.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TRAINING_STEPS } from '../config/steps.js';
import { writeFileAtomic } from '../util/atomic.js';
import { MetricsTable } from './metrics.js';
import { chartSpec, renderSvg, reportCharts, type Chart, type ReportRun } from './report-charts.js';
import { SparsityTable } from './sparsity.js';
import { readSummary, type Summary } from './summary.js';

export type { ReportRun } from './report-charts.js';

export const REPORT_FILE = 'report.html';

const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Why `dir` is not a training step's directory, and what to give instead. */
function notAStepDirectory(dir: string): string {
  const finished = TRAINING_STEPS.filter((s) => existsSync(join(dir, s, 'summary.json')));
  if (finished.length > 0) {
    const which = finished.map((s) => `evnn report ${join(dir, s)}`).join(' or ');
    return `${dir} is a run with steps: a report is of one training step, so give its directory (${which})`;
  }
  const started = TRAINING_STEPS.filter((s) => existsSync(join(dir, s)));
  if (started.length > 0) {
    return `${dir} is a run with steps, and none of its training steps (${started.join(', ')}) has finished yet (no summary.json in their directories)`;
  }
  if (existsSync(join(dir, 'result.json'))) {
    return `${dir} is an eval step's directory: report the training step it tested, its sibling directory (pretrain or retrain)`;
  }
  return `${dir}: no summary.json, so not a finished training step's directory (a run writes it when training ends; a config with steps keeps each step in <run>/pretrain, <run>/retrain)`;
}

/** Reads a training step's directory (a single-step run's directory, or a step's in a run with steps). */
export function readReportRun(dir: string, label?: string): ReportRun {
  const d = resolve(dir);
  if (!existsSync(d) || !statSync(d).isDirectory()) throw new Error(`${d}: no such run directory`);
  const summaryFile = join(d, 'summary.json');
  if (!existsSync(summaryFile)) throw new Error(notAStepDirectory(d));
  const summary = readSummary(summaryFile);
  const metricsFile = join(d, 'metrics.arrow');
  if (!existsSync(metricsFile)) throw new Error(`${metricsFile}: missing (a training step writes it next to summary.json)`);
  const metrics = MetricsTable.read(metricsFile).rows;
  const sparsityFile = join(d, 'sparsity.arrow');
  const sparsity = existsSync(sparsityFile) ? SparsityTable.read(sparsityFile).rows : [];
  const configFile = join(d, 'config.yaml');
  const configYaml = existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
  return { label: label ?? runLabel(summary), dir: d, summary, metrics, sparsity, configYaml };
}

const runLabel = (s: Summary) => (s.step ? `${s.config}/${s.step}` : s.config);

/** Labels for a comparison: the config name (and step), made distinct with the run id, then a number. */
function distinctLabels(runs: readonly ReportRun[]): ReportRun[] {
  const count = (ls: string[], l: string) => ls.filter((x) => x === l).length;
  let labels = runs.map((r) => r.label);
  labels = labels.map((l, i) => (count(labels, l) > 1 ? `${l} (${runs[i].summary.run_id})` : l));
  labels = labels.map((l, i) => (count(labels, l) > 1 ? `${l} #${i + 1}` : l));
  return runs.map((r, i) => ({ ...r, label: labels[i] }));
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const metricText = (name: string, v: number | null) => (v === null ? '–' : name === 'accuracy' ? pct(v) : v.toFixed(2));

/** Vega's SVG made fit to inline: no namespace declarations (HTML supplies them), ids unique in the page. */
function inlineSvg(svg: string, id: string, title: string): string {
  return svg
    .replace(/^<svg([^>]*)>/, (_m, attrs: string) => {
      const kept = attrs.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
      return `<svg${kept} role="img" aria-label="${escapeHtml(title)}">`;
    })
    .replace(/\bid="([^"]+)"/g, (_m, x: string) => `id="${id}-${x}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, x: string) => `url(#${id}-${x})`)
    .replace(/href="#([^"]+)"/g, (_m, x: string) => `href="#${id}-${x}"`);
}

async function chartFigure(c: Chart, compare: boolean): Promise<string> {
  const svg = inlineSvg(await renderSvg(chartSpec(c, compare)), `chart-${c.id}`, c.title);
  return `<figure class="chart" id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}">
<figcaption><strong>${escapeHtml(c.title)}</strong>: ${escapeHtml(c.caption)}</figcaption>
${svg}
</figure>`;
}

/** A nested JSON value as dotted paths and leaf values, in document order. */
function flatten(v: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  if (v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'))) {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) out.push([prefix, Array.isArray(v) ? '[]' : '{}']);
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, v]);
  }
  return out;
}

const cellText = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : typeof v === 'string' ? v : JSON.stringify(v));

/** A table of dotted keys against one column per run; rows where the runs differ are marked. */
function keyTable(cls: string, runs: readonly ReportRun[], values: readonly [string, unknown][][], onlyDiffering = false): string {
  const keys = [...new Set(values.flatMap((vs) => vs.map(([k]) => k)))];
  const maps = values.map((vs) => new Map(vs));
  const rows = keys.flatMap((k) => {
    const cells = maps.map((m) => cellText(m.get(k)));
    const differs = cells.some((c) => c !== cells[0]);
    if (onlyDiffering && !differs) return [];
    const tds = cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('');
    return [`<tr${differs && runs.length > 1 ? ' class="differs"' : ''}><th scope="row">${escapeHtml(k)}</th>${tds}</tr>`];
  });
  if (rows.length === 0) return '<p class="note">none</p>';
  const head = runs.length > 1 ? `<thead><tr><th scope="col">field</th>${runs.map((r) => `<th scope="col">${escapeHtml(r.label)}</th>`).join('')}</tr></thead>` : '';
  return `<table class="${cls}">${head}<tbody>${rows.join('')}</tbody></table>`;
}

function headlineTable(runs: readonly ReportRun[]): string {
  const head = ['run', 'status', 'test', 'best valid (epoch)', 'epochs', 'wall time', 'train samples/s', 'paper', 'directory'];
  const rows = runs.map((r) => {
    const s = r.summary;
    const m = s.metric;
    const cells = [
      r.label,
      s.status,
      m.value === null ? '–' : `${m.name} ${metricText(m.name, m.value)}${s.final.test_loss !== null ? ` (loss ${s.final.test_loss.toFixed(4)})` : ''}`,
      m.best_valid === null ? '–' : `${metricText(m.name, m.best_valid)} (${s.final.best_epoch + 1})`,
      String(s.epochs_run),
      `${s.wall_time_s.toFixed(1)} s`,
      s.train_samples_per_s.toFixed(0),
      s.paper ? `${s.paper.metric} ${s.paper.value}` : '–',
      r.dir,
    ];
    const last = cells.length - 1;
    return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td${i === last ? ' class="path"' : ''}>${escapeHtml(c)}</td>`)).join('')}</tr>`;
  });
  return `<table class="headline"><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1160px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta, .note, footer { color: #666; font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
figure.chart { margin: 0; border: 1px solid #e4e4e4; border-radius: 4px; padding: 8px; background: #fff; }
figure.chart figcaption { font-size: 12px; color: #444; margin-bottom: 4px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0 12px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; } tbody th { font-weight: normal; font-family: "DejaVu Sans Mono", monospace; background: #fafafa; }
td { font-family: "DejaVu Sans Mono", monospace; overflow-wrap: break-word; }
td.path { word-break: break-all; } table.headline { width: 100%; }
tr.differs td { background: #fff6d6; }
pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 8px; font-size: 12px; overflow-x: auto; }
details summary { cursor: pointer; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
`;

/** The report's HTML for one run, or an overlay of several (a comparison). */
export async function reportHtml(runsIn: readonly ReportRun[], opts: { generatedAt?: Date } = {}): Promise<string> {
  if (runsIn.length === 0) throw new Error('a report needs a run');
  const compare = runsIn.length > 1;
  const runs = compare ? distinctLabels(runsIn) : [...runsIn];
  const charts = reportCharts(runs);
  const figures = await Promise.all(charts.map((c) => chartFigure(c, compare)));
  const isTraining = (c: Chart) => c.id === 'loss' || c.id === 'lr' || c.id.startsWith('metric-');
  const training = figures.filter((_f, i) => isTraining(charts[i]));
  const sparse = figures.filter((_f, i) => !isTraining(charts[i]));
  const dense = runs.filter((r) => r.sparsity.length === 0);
  const denseNote = dense.length > 0
    ? `<p class="note">${dense.map((r) => escapeHtml(r.label)).join(', ')}: no sparse layers (sparsity.arrow has no rows), so nothing to plot here for ${dense.length > 1 ? 'them' : 'it'}.</p>`
    : '';
  const title = compare ? `evnn comparison: ${runs.map((r) => r.label).join(' vs ')}` : `evnn report: ${runs[0].label}`;
  const configs = runs.map((r) => {
    const body = r.configYaml === null ? '<p class="note">no config.yaml in this directory</p>' : `<pre>${escapeHtml(r.configYaml)}</pre>`;
    return `<details open><summary>${escapeHtml(r.label)}: ${escapeHtml(join(r.dir, 'config.yaml'))}</summary>${body}</details>`;
  });
  const configDiff = compare
    ? `<h3>Fields that differ</h3>${keyTable('config-diff', runs, runs.map((r) => flatten(r.configYaml === null ? {} : parseYaml(r.configYaml))), true)}`
    : '';
  const generated = (opts.generatedAt ?? new Date()).toISOString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="evnn ${escapeHtml(VERSION)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${runs.map((r) => `${escapeHtml(r.label)}: ${escapeHtml(r.summary.run_id)}${r.summary.step ? ` step ${escapeHtml(r.summary.step)}` : ''}, ${escapeHtml(r.dir)}`).join('<br>')}</p>
</header>
<main>
<section id="headline">
${headlineTable(runs)}
</section>
<section id="training">
<h2>Training</h2>
<div class="charts">
${training.join('\n')}
</div>
</section>
<section id="sparsity">
<h2>Sparsity and compute</h2>
${denseNote}
${sparse.length > 0 ? `<div class="charts">\n${sparse.join('\n')}\n</div>` : ''}
</section>
<section id="summary">
<h2>Summary</h2>
${keyTable('summary', runs, runs.map((r) => flatten(r.summary)))}
</section>
<section id="config">
<h2>Config</h2>
${configDiff}
${configs.join('\n')}
</section>
</main>
<footer>Written by evnn ${escapeHtml(VERSION)} at ${escapeHtml(generated)} from summary.json, metrics.arrow, sparsity.arrow and config.yaml. Epochs count from 1; the test value is the best-validation checkpoint on the test split, drawn at the epoch it comes from.</footer>
</body>
</html>
`;
}

/** Writes `<dir>/report.html` (or `out`) atomically; returns the file written. */
export async function writeRunReport(dir: string, out?: string): Promise<string> {
  const run = readReportRun(dir);
  const file = resolve(out ?? join(run.dir, REPORT_FILE));
  writeFileAtomic(file, await reportHtml([run]));
  return file;
}

/** The file name a comparison gets in the current directory when no --out is given. */
export function compareFileName(runs: readonly ReportRun[]): string {
  return `report-${distinctLabels(runs).map((r) => r.label.replace(/[^A-Za-z0-9._-]+/g, '-')).join('-vs-')}.html`;
}

/** Writes a comparison of the runs to `out`, or to the current directory (compareFileName) without one. */
export async function writeCompareReport(dirs: readonly string[], out?: string, cwd = process.cwd()): Promise<string> {
  if (dirs.length < 2) throw new Error(`--compare needs two run directories, got ${dirs.length}`);
  const runs = dirs.map((d) => readReportRun(d));
  const file = resolve(cwd, out ?? compareFileName(runs));
  writeFileAtomic(file, await reportHtml(runs));
  return file;
}
