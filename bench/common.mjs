// Pieces the benchmarks share: error exit, loading the addon with the functions a bench needs,
// and the median wall-clock time of repeated calls.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** A failer for one bench: prints "bench/<name>: message" and exits with code 2. */
export function failer(name) {
  return (message) => {
    console.error(`bench/${name}: ${message}`);
    process.exit(2);
  };
}

/** The addon at `file`, after checking that it exports every function in `functions`. */
export function loadAddon(file, functions, fail) {
  if (!existsSync(file)) fail(`${file} does not exist; build it with \`npm run build:native\``);
  const addon = createRequire(import.meta.url)(file);
  for (const fn of functions) {
    if (typeof addon[fn] !== 'function') fail(`the addon at ${file} has no ${fn}(); rebuild it`);
  }
  return addon;
}

/** Median milliseconds of `reps` calls of fn after `warmup` untimed ones. */
export function medianMs(fn, warmup, reps) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}
