// The charts of a run report: which series each chart holds (from metrics.arrow, sparsity.arrow
// and summary.json), their Vega-Lite specs, and their SVG, rendered here in Node by Vega's
// headless SVG renderer (no canvas, no browser, no network: the data is inlined in the spec).
//
// Every chart is epochs (1-based, as the CLI prints them) against a value, one line with a point
// per epoch for each series; the test split, measured once on the best checkpoint, is a diamond
// at the tested epoch. With several runs (a comparison) the colour says the run and the dash says
// the series (train/valid, the layer, effective/dense).
import type { TopLevelSpec } from 'vega-lite';
import type { MetricRow } from './metrics.js';
import type { SparsityRow } from './sparsity.js';
import type { Summary } from './summary.js';

/** One training step's results, as the report reads them from its directory. */
export interface ReportRun {
  /** The run's name in legends and tables. */
  label: string;
  dir: string;
  summary: Summary;
  metrics: MetricRow[];
  sparsity: SparsityRow[];
  /** config.yaml as written (null when the directory has none). */
  configYaml: string | null;
}

export interface ChartPoint {
  /** 1-based epoch. */
  epoch: number;
  value: number;
  /** The series within a run: train, valid, test, a layer, effective/dense. */
  series: string;
  /** The run's label. */
  run: string;
  /** The test split's one value (drawn as a marked point, not on a line). */
  test: boolean;
}

export interface Chart {
  /** Stable id: loss, metric-accuracy, metric-perplexity, lr, sparsity-<column>, macs-forward, macs-backward. */
  id: string;
  title: string;
  /** One sentence saying what is plotted. */
  caption: string;
  yTitle: string;
  /** d3-format of the y axis. */
  yFormat: string;
  yScale: 'linear' | 'log';
  /** Whether the y axis starts at zero (fractions and MACs do; losses and rates zoom in). */
  yZero: boolean;
  /** How the line joins the epochs: a learning rate holds for the whole epoch (step-after). */
  interpolate: 'linear' | 'step-after';
  /** Legend title of the series. */
  seriesTitle: string;
  /** Series in legend order (test, when present, last). */
  series: string[];
  runs: string[];
  /** Finite values only. */
  points: ChartPoint[];
}

/** The sparsity.arrow columns the report plots per layer, when a layer has a value there. */
export const SPARSITY_COLUMNS = [
  { column: 'activity', title: 'Activity', caption: 'fraction of (step, sample, unit) emitting an event, over each epoch\'s training batches' },
  { column: 'backward_sparsity', title: 'Backward sparsity', caption: 'fraction of units outside both the events and the surrogate support (no backward work)' },
  { column: 'active_fraction', title: 'Active fraction', caption: 'fraction of (sample, step, unit) inside the surrogate band' },
  { column: 'delta_x_zero', title: 'Zero Δx', caption: 'fraction of zero input deltas' },
  { column: 'delta_h_zero', title: 'Zero Δh', caption: 'fraction of zero state deltas' },
] as const satisfies readonly { column: keyof SparsityRow; title: string; caption: string }[];

const finite = (p: ChartPoint) => Number.isFinite(p.value) && Number.isFinite(p.epoch);
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

type ChartHead = Omit<Chart, 'points' | 'series' | 'runs' | 'yZero' | 'interpolate'> & Partial<Pick<Chart, 'yZero' | 'interpolate'>>;

function chart(c: ChartHead, points: ChartPoint[], seriesOrder: readonly string[]): Chart {
  const pts = points.filter(finite);
  const present = new Set(pts.map((p) => p.series));
  return { yZero: false, interpolate: 'linear', ...c, points: pts, series: seriesOrder.filter((s) => present.has(s)), runs: unique(pts.map((p) => p.run)) };
}

/** train and valid per epoch, and the test row at the tested epoch, of one value of metrics.arrow. */
function splitPoints(runs: readonly ReportRun[], value: (r: MetricRow) => number): ChartPoint[] {
  return runs.flatMap((run) =>
    // A test row before any epoch finished (epoch -1) has no checkpoint behind it.
    run.metrics.filter((r) => r.split !== 'test' || r.epoch >= 0).map((r) => ({ epoch: r.epoch + 1, value: value(r), series: r.split, run: run.label, test: r.split === 'test' })),
  );
}

/** The report's charts for these runs, in page order; charts without a single finite value are left out. */
export function reportCharts(runs: readonly ReportRun[]): Chart[] {
  const charts: Chart[] = [];
  const splits = ['train', 'valid', 'test'];
  charts.push(chart(
    { id: 'loss', title: 'Loss', caption: 'mean cross-entropy per epoch; test: the best-validation checkpoint', yTitle: 'loss', yFormat: '~g', yScale: 'linear', seriesTitle: 'split' },
    splitPoints(runs, (r) => r.loss), splits,
  ));
  for (const name of unique(runs.map((r) => r.summary.metric.name))) {
    const these = runs.filter((r) => r.summary.metric.name === name);
    charts.push(
      name === 'accuracy'
        ? chart(
          { id: 'metric-accuracy', title: 'Accuracy', caption: 'fraction classified correctly per epoch (the task metric); test: the best-validation checkpoint', yTitle: 'accuracy', yFormat: '.0%', yScale: 'linear', seriesTitle: 'split' },
          splitPoints(these, (r) => r.accuracy), splits,
        )
        : chart(
          { id: 'metric-perplexity', title: 'Perplexity', caption: 'exp of the mean token cross-entropy per epoch (the task metric, log scale); test: the best-validation checkpoint', yTitle: 'perplexity', yFormat: '~g', yScale: 'log', seriesTitle: 'split' },
          splitPoints(these, (r) => Math.exp(r.loss)), splits,
        ),
    );
  }
  charts.push(chart(
    { id: 'lr', title: 'Learning rate', caption: 'the optimizer\'s base learning rate in each epoch', yTitle: 'learning rate', yFormat: '~g', yScale: 'linear', seriesTitle: 'series', interpolate: 'step-after' },
    runs.flatMap((run) => run.metrics.filter((r) => r.split === 'train').map((r) => ({ epoch: r.epoch + 1, value: r.lr, series: 'lr', run: run.label, test: false }))),
    ['lr'],
  ));
  const layers = unique(runs.flatMap((r) => r.sparsity.map((s) => s.layer)));
  for (const { column, title, caption } of SPARSITY_COLUMNS) {
    charts.push(chart(
      { id: `sparsity-${column.replace(/_/g, '-')}`, title, caption: `${caption}; one line per layer`, yTitle: column.replace(/_/g, ' '), yFormat: '.0%', yScale: 'linear', yZero: true, seriesTitle: 'layer' },
      runs.flatMap((run) => run.sparsity.map((s) => ({ epoch: s.epoch + 1, value: s[column], series: s.layer, run: run.label, test: false }))),
      layers,
    ));
  }
  for (const dir of ['forward', 'backward'] as const) {
    const points = runs.flatMap((run) => {
      const epochs = unique(run.sparsity.map((s) => s.epoch));
      return epochs.flatMap((e) => {
        const rows = run.sparsity.filter((s) => s.epoch === e);
        const sum = (f: (s: SparsityRow) => number) => rows.reduce((a, s) => a + f(s), 0);
        return [
          { epoch: e + 1, value: sum((s) => s[`macs_${dir}`]), series: 'effective', run: run.label, test: false },
          { epoch: e + 1, value: sum((s) => s[`macs_${dir}_dense`]), series: 'dense', run: run.label, test: false },
        ];
      });
    });
    charts.push(chart(
      {
        id: `macs-${dir}`, title: `MACs, ${dir}`, yTitle: `${dir} MACs per sequence`, yFormat: '~s', yScale: 'linear', yZero: true, seriesTitle: 'MACs',
        caption: `multiply-accumulates per training sequence of the ${dir} pass, summed over the sparse layers: done (effective) against dense products of the same shapes`,
      },
      points, ['effective', 'dense'],
    ));
  }
  return charts.filter((c) => c.points.length > 0);
}

/** The legend key of a point: its series, prefixed by its run in a comparison. */
export const pointKey = (p: ChartPoint, compare: boolean): string => (compare ? `${p.run} · ${p.series}` : p.series);

/**
 * The accessible label of every mark (the SVG's aria-label): "<key> · epoch <n>: <value>", the key
 * as pointKey gives it. Tests count a series' points by it.
 */
export const pointLabel = (p: ChartPoint, compare: boolean): string => `${pointKey(p, compare)} · epoch ${p.epoch}: ${p.value}`;

/** The Vega-Lite spec of a chart: lines with a point per epoch, a diamond for the test value. */
export function chartSpec(c: Chart, compare: boolean): TopLevelSpec {
  const lineSeries = c.series.filter((s) => s !== 'test');
  const values = c.points.map((p) => ({ ...p, key: pointKey(p, compare), label: pointLabel(p, compare) }));
  // Colour: the run in a comparison, else the series (none for a lone series); dash: the series in a comparison.
  const color = compare
    ? { field: 'run', type: 'nominal' as const, title: 'run', scale: { domain: c.runs } }
    : c.series.length > 1 ? { field: 'series', type: 'nominal' as const, title: c.seriesTitle, scale: { domain: c.series } } : undefined;
  const dash = compare && lineSeries.length > 1
    ? { field: 'series', type: 'nominal' as const, title: c.seriesTitle, scale: { domain: lineSeries } }
    : undefined;
  const colorEnc = color ? { color } : {};
  const notTest = [{ filter: '!datum.test' }];
  const isTest = [{ filter: 'datum.test' }];
  const maxEpoch = Math.max(1, ...c.points.map((p) => p.epoch));
  return {
    width: 440,
    height: 220,
    background: 'white',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: { stroke: '#ddd' }, legend: { orient: 'bottom', columns: compare ? 2 : 4 } },
    data: { values },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domain: [1, maxEpoch], nice: false }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: c.yTitle, axis: { format: c.yFormat }, scale: c.yScale === 'log' ? { type: 'log' } : { zero: c.yZero } },
      description: { field: 'label' },
    },
    layer: [
      { name: 'lines', transform: notTest, mark: { type: 'line', strokeWidth: 2, interpolate: c.interpolate }, encoding: { ...colorEnc, ...(dash ? { strokeDash: dash } : {}), detail: { field: 'key' } } },
      { name: 'points', transform: notTest, mark: { type: 'point', filled: true, size: 36, opacity: 1 }, encoding: colorEnc },
      { name: 'test', transform: isTest, mark: { type: 'point', shape: 'diamond', filled: true, size: 150, opacity: 1, stroke: 'black', strokeWidth: 1 }, encoding: colorEnc },
      { name: 'test_label', transform: isTest, mark: { type: 'text', align: 'left', dx: 9, fontSize: 10 }, encoding: { text: { value: 'test' } } },
    ],
  } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string in Node (Vega's headless renderer; no canvas needed). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
