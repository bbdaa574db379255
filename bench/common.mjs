// Pieces the benchmarks share: error exit, loading the addon with the functions a bench needs,
// the median wall-clock time of repeated calls, the machine's CPU model and load, and markdown tables.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/**
 * A failer for one bench: prints "bench/<name>: message" and exits with code 2. It also turns an
 * uncaught TypeError/RangeError (the engine rejecting an argument, or a shape too large to
 * allocate) into such a one-line message naming where it was thrown; other errors keep their stack.
 */
export function failer(name) {
  const fail = (message) => {
    console.error(`bench/${name}: ${message}`);
    process.exit(2);
  };
  process.on('uncaughtException', (err) => {
    if (!(err instanceof TypeError || err instanceof RangeError)) {
      console.error(err);
      process.exit(1);
    }
    const frames = (err.stack ?? '').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('at '));
    const at = frames.find((l) => l.includes('/bench/')) ?? frames[0];
    fail(`${err.name}: ${err.message}${at ? ` (${at.trim()})` : ''}`);
  });
  return fail;
}

/**
 * The addon at `file`, after checking that it exports every function in `functions` and has the
 * binding API these scripts are written for (forwards return an engine-owned `saved` handle).
 */
export function loadAddon(file, functions, fail) {
  if (!existsSync(file)) fail(`${file} does not exist; build it with \`npm run build:native\``);
  let addon;
  try {
    addon = createRequire(import.meta.url)(file);
  } catch (err) {
    fail(`could not load ${file}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  }
  if (typeof addon.Saved !== 'function') {
    fail(`the addon at ${file} has the older binding API (no saved handles: forwards return cache arrays); ` +
      'time it with the bench scripts of the checkout it was built from');
  }
  for (const fn of functions) {
    if (typeof addon[fn] !== 'function') fail(`the addon at ${file} has no ${fn}(); rebuild it`);
  }
  return addon;
}

/**
 * Median milliseconds of `reps` calls of fn after `warmup` untimed ones. When `after` is given,
 * it gets what each call of fn returned and runs outside the timed region (e.g. to read sizes
 * off a saved handle and release it, as the old cache arrays were freed by the GC, untimed).
 */
export function medianMs(fn, warmup, reps, after = null) {
  for (let i = 0; i < warmup; i++) {
    const r = fn();
    if (after) after(r);
  }
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (after) after(r);
  }
  return median(times);
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Zeroes every array of `buffers` (an object of Float32Arrays), as a training step does before backward. */
export function zeroGrads(buffers) {
  for (const b of Object.values(buffers)) b.fill(0);
}

/**
 * Median milliseconds of each function of `fns` ({ fn, after? } as medianMs's fn and after), timed
 * round-robin: every round calls each once in turn, so slow drift or load from other processes
 * falls on all of them alike and their ratios stay comparable. Before the `reps` timed rounds,
 * `warmup` untimed rounds run, and more until `minWarmMs` milliseconds of warm-up have passed.
 */
export function interleavedMediansMs(fns, warmup, reps, minWarmMs = 0) {
  const round = (timed) => fns.map(({ fn, after }) => {
    const t0 = process.hrtime.bigint();
    const r = fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (after) after(r);
    return timed ? ms : 0;
  });
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < warmup || (minWarmMs > 0 && Number(process.hrtime.bigint() - w0) / 1e6 < minWarmMs); i++) round(false);
  const times = fns.map(() => []);
  for (let i = 0; i < reps; i++) round(true).forEach((ms, k) => times[k].push(ms));
  return times.map(median);
}

/** The CPU's model name (/proc/cpuinfo, else what Node reports). */
export function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

/**
 * Busy and total CPU seconds of the whole machine so far (/proc/stat, in USER_HZ = 100 ticks;
 * null elsewhere), to tell how much of a run other processes took.
 */
export function machineCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0) / 100;
    return { busy: total - (f[3] + f[4]) / 100, total };
  } catch {
    return null;
  }
}

/** A markdown table of a header row and rows of cells. */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
