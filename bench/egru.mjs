#!/usr/bin/env node
// Benchmark of evnn's EGRU (event-driven forward, sparse BPTT) against evnn's dense GRU, both on
// the native CPU engine, on the same shapes, thread count and GEMM kernel. For each size it times
// the dense GRU and the EGRU at about 10% and about 25% activity and prints the ratios measured in
// this run, with the sparsity figures of DESIGN.md §3 (activity, backward sparsity, effective MACs)
// and the memory each layer saves for backward. Nothing here is a pass/fail test: the line about
// the 2x goal only reports what this run measured.
//
//   node bench/egru.mjs [--threads 2] [--kernel builtin|openblas] [--reps 5] [--warmup 1]
//                       [--T 100] [--N 64] [--sizes 512,1024] [--support 1] [--support-wide 5]
//                       [--inputs dense-in,event-in] [--addon FILE]
//
// --sizes lists the layer widths; each is timed with C = H = size.
// --support is the surrogate support ε of the EGRU rows (∂o/∂v = γ·max(0, 1 − ε|v|), γ = 0.7);
// --support-wide times the same thresholds again with a larger ε (narrower window |v| < 1/ε), which
// is what makes the backward pass sparse; 0 skips those rows.
// --inputs: dense-in feeds the EGRU the GRU's dense x (a first layer); event-in feeds it events at
// the target activity (a layer inside a stack, whose input projection is event-driven too).
// --addon times another build of the addon (default build/Release/evnn.node); it must have this
// checkout's binding API (saved handles), so time an older build with its own checkout's scripts.
// Without --kernel the addon's current GEMM kernel is used.
// Thresholds are one uniform value per unit, found by bisection on the measured forward activity
// (evaluation forwards on the real shape) to within ±2 percentage points of each target.
// All times are medians of --reps runs after --warmup runs, with training: true (the forward keeps
// what backward needs); forward+backward = that forward + backward with dy = ones, no dx, adding
// the parameter gradients into buffers allocated once and zeroed in each timed step (as a training
// step does). Each saved handle is released after its step, outside the timed region.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failer, loadAddon, medianMs, zeroGrads } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = [0.10, 0.25];   // activity levels timed for each size
const TOLERANCE = 0.02;          // calibration stops within ±2 percentage points
const GOAL_ACTIVITY = 0.20;      // goal: at <= 20% activity ...
const GOAL_SPEEDUP = 2;          // ... EGRU forward+backward >= 2x faster than the dense GRU
const DAMPENING = 0.7;           // EvNN's default γ

const fail = failer('egru');

function parseArgs(argv) {
  const o = {
    threads: 2, kernel: null, reps: 5, warmup: 1, T: 100, N: 64, sizes: [512, 1024],
    support: 1, supportWide: 5, inputs: ['dense-in', 'event-in'], addon: join(root, 'build', 'Release', 'evnn.node'),
  };
  const ints = new Set(['threads', 'reps', 'warmup', 'T', 'N']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/egru.mjs [--threads N] [--kernel builtin|openblas] [--reps R] ' +
        '[--warmup W] [--T T] [--N N] [--sizes 512,1024] [--support EPS] [--support-wide EPS] [--inputs dense-in,event-in] [--addon FILE]');
      process.exit(0);
    }
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    const known = ints.has(name) || ['kernel', 'addon', 'sizes', 'support', 'support-wide', 'inputs'].includes(name);
    if (!known) fail(`unknown argument "${arg}" (see --help)`);
    const value = argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (value.trim() === '') fail(`${arg} needs a value, got ""`);
    if (name === 'addon') {
      o.addon = resolve(value);
    } else if (name === 'kernel') {
      if (value !== 'builtin' && value !== 'openblas') fail(`--kernel must be builtin or openblas, got "${value}"`);
      o.kernel = value;
    } else if (name === 'inputs') {
      const inputs = value.split(',').map((v) => v.trim());
      if (inputs.length === 0 || !inputs.every((v) => v === 'dense-in' || v === 'event-in')) fail(`--inputs must list dense-in and/or event-in, got "${value}"`);
      o.inputs = inputs;
    } else if (name === 'sizes') {
      const sizes = value.split(',').map((s) => Number(s.trim()));
      if (!sizes.every((n) => Number.isInteger(n) && n >= 1)) fail(`--sizes must be a comma-separated list of integers >= 1, got "${value}"`);
      o.sizes = sizes;
    } else if (name === 'support' || name === 'support-wide') {
      const e = Number(value);
      const ok = Number.isFinite(e) && (name === 'support' ? e > 0 : e >= 0);
      if (!ok) fail(`--${name} must be a number ${name === 'support' ? '> 0' : '>= 0'}, got "${value}"`);
      o[name === 'support' ? 'support' : 'supportWide'] = e;
    } else {
      const n = Number(value);
      const min = name === 'warmup' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${value}"`);
      o[name] = n;
    }
  }
  if (o.supportWide === o.support) o.supportWide = 0;
  return o;
}


// mulberry32 + Box-Muller: a fixed-seed N(0, std²) stream so every run times the same numbers.
function normalArray(n, std, seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const phi = 2 * Math.PI * uniform();
    a[i] = r * Math.cos(phi) * std;
    if (i + 1 < n) a[i + 1] = r * Math.sin(phi) * std;
  }
  return a;
}

// EvNN init: Xavier-normal, std = sqrt(2 / (fan_in + fan_out)) of the weight's 2-D shape.
const xavier = (rows, cols, seed) => normalArray(rows * cols, Math.sqrt(2 / (rows + cols)), seed);


// What backward needs: the saved handle's engine-owned bytes plus the arrays it references.
const savedMib = (saved, ...arrays) => (saved.bytes + arrays.reduce((s, a) => s + a.byteLength, 0)) / (1 << 20);

function timeGru(addon, o, x, size) {
  const { T, N } = o;
  const C = size;
  const H = size;
  const weights = {
    weightIh: xavier(3 * H, C, 11), weightHh: xavier(3 * H, H, 12),
    biasIh: new Float32Array(3 * H), biasHh: new Float32Array(3 * H),
  };
  const args = { x, h0: null, T, N, C, H, training: true, chunkFloats: 0, ...weights };
  const grads = {
    dWeightIh: new Float32Array(3 * H * C), dWeightHh: new Float32Array(3 * H * H),
    dBiasIh: new Float32Array(3 * H), dBiasHh: new Float32Array(3 * H),
  };
  const dy = new Float32Array(T * N * H).fill(1);  // d(sum of outputs)/dy
  const backArgs = { ...weights, ...grads, dy, dhT: null, T, N, C, H, needDx: false, chunkFloats: 0 };
  let saved = 0;
  const release = (fwd) => {
    saved = savedMib(fwd.saved, fwd.y);  // the handle references y (and x, the input)
    fwd.saved.release();
  };
  const forward = medianMs(() => addon.gruForward(args), o.warmup, o.reps, release);
  const forwardBackward = medianMs(() => {
    zeroGrads(grads);
    const fwd = addon.gruForward(args);
    addon.gruBackward({ ...backArgs, saved: fwd.saved });
    return fwd;
  }, o.warmup, o.reps, release);
  return { forward, forwardBackward, saved };
}

// An event input as a lower EGRU layer would send: mostly zeros, positive values where a unit fired.
function eventInput(n, density, seed) {
  const v = normalArray(n, 1, seed);
  const u = normalArray(n, 1, seed + 1);
  // P(|N(0,1)| > z) = density for z = Φ⁻¹(1 − density/2); one draw of a second stream decides.
  const z = quantileAbsNormal(density);
  for (let i = 0; i < n; i++) v[i] = Math.abs(u[i]) > z ? Math.abs(v[i]) : 0;
  return v;
}

// z with P(|N(0,1)| > z) = p, by bisection on the complementary error function.
function quantileAbsNormal(p) {
  const erfc = (x) => {  // Numerical Recipes erfc, |error| < 1.2e-7
    const t = 1 / (1 + 0.5 * Math.abs(x));
    const r = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628288 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  };
  let lo = 0, hi = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (erfc(mid / Math.SQRT2) > p) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

function egruArgs(o, x, size, weights, thr, support, training, sparseInput) {
  const { T, N } = o;
  return {
    x, y0: null, zoneoutMask: null, dropconnectMask: null, noise: null, ...weights, thr: new Float32Array(size).fill(thr),
    T, N, C: size, H: size, training, zoneout: 0, dropconnect: 0, dampening: DAMPENING, support,
    sparseInput, chunkFloats: 0, keepO: false, keepTrace: false,
  };
}

// Activity falls as the threshold rises; bisect on [lo, hi] ⊂ [0, 1] until within the tolerance.
function calibrate(addon, o, x, size, weights, target, lo, hi, sparseInput) {
  const units = o.T * o.N * size;
  const activityAt = (thr) => addon.egruForward(egruArgs(o, x, size, weights, thr, o.support, false, sparseInput)).stats.events / units;
  let best = null;
  for (let iter = 0; iter < 20; iter++) {
    const thr = (lo + hi) / 2;
    const activity = activityAt(thr);
    if (!best || Math.abs(activity - target) < Math.abs(best.activity - target)) best = { thr, activity };
    if (Math.abs(activity - target) <= TOLERANCE) return { ...best, calls: iter + 1, converged: true };
    if (activity > target) lo = thr; else hi = thr;
  }
  return { ...best, calls: 20, converged: false };
}

function timeEgru(addon, o, x, size, weights, thr, support, withForward, sparseInput) {
  const units = o.T * o.N * size;
  const args = egruArgs(o, x, size, weights, thr, support, true, sparseInput);
  const C = size;
  const H = size;
  const grads = {
    dKernel: new Float32Array(C * 3 * H), dRecurrentKernel: new Float32Array(H * 3 * H),
    dBias: new Float32Array(3 * H), dRecurrentBias: new Float32Array(3 * H), dThr: new Float32Array(H),
  };
  const dy = new Float32Array(units).fill(1);  // d(sum of event outputs)/dy
  // zoneout, dampening, support and sparseInput are read from the saved handle.
  const backArgs = {
    kernel: args.kernel, recurrentKernel: args.recurrentKernel, bias: args.bias, recurrentBias: args.recurrentBias,
    thr: args.thr, ...grads, below: null, dxActive: null, dy, dyN: null, dc: null, do: null, dtrace: null,
    gradClip: 0, T: o.T, N: o.N, C, H, needDx: false, needDy0: false, chunkFloats: 0,
  };
  let fwd = null;
  let bwd = null;
  let saved = 0;
  const release = (f) => {
    fwd = f;
    saved = savedMib(f.saved, f.y, f.c);  // the handle references y and c (and x, the input)
    f.saved.release();
  };
  const forward = withForward ? medianMs(() => addon.egruForward(args), o.warmup, o.reps, release) : null;
  const forwardBackward = medianMs(() => {
    zeroGrads(grads);
    const f = addon.egruForward(args);
    bwd = addon.egruBackward({ ...backArgs, saved: f.saved });
    return f;
  }, o.warmup, o.reps, release);
  return {
    forward, forwardBackward,
    activity: fwd.stats.events / units,
    backwardSparsity: 1 - fwd.stats.backwardActive / units,
    macsForward: fwd.stats.macs / fwd.stats.macsDense,
    macsBackward: bwd.stats.macs / bwd.stats.macsDense,
    saved,
  };
}

const fmtMs = (ms) => (ms === null ? '-' : ms.toFixed(ms < 10 ? 3 : 1));
const pct = (v) => `${(100 * v).toFixed(1)}%`;
const ratio = (v) => `${v.toFixed(2)}x`;

function printTable(header, rows) {
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const left = 2;  // the first columns (size, layer) are text
  for (const r of cells) console.log(r.map((v, c) => (c < left ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
}

const o = parseArgs(process.argv.slice(2));
const addon = loadAddon(o.addon, ['info', 'setThreads', 'setGemmKernel', 'gruForward', 'gruBackward', 'egruForward', 'egruBackward'], fail);
addon.setThreads(o.threads);
const info = addon.info();
if (o.kernel) {
  if (!info.gemmKernels.includes(o.kernel)) {
    fail(`--kernel ${o.kernel} is not compiled into this addon (it has: ${info.gemmKernels.join(', ')})`);
  }
  addon.setGemmKernel(o.kernel);
}
const kernel = addon.info().gemm;
const supports = o.supportWide ? [o.support, o.supportWide] : [o.support];

console.log(`EGRU vs dense GRU, T=${o.T} N=${o.N} C=H in {${o.sizes.join(', ')}}, float32, ${o.threads} threads, ` +
  `median of ${o.reps} after ${o.warmup} warm-up`);
console.log(`evnn ${info.version}: simd ${info.simd}, gemm kernel ${kernel} (compiled in: ${info.gemmKernels.join(', ')})`);
console.log(`forward = training forward (training: true); forward+backward = that forward + backward with dy = ones, no dx`);
console.log('EGRU input: "dense-in" = the same x ~ N(0,1) as the GRU (a first layer: its input projection is a dense GEMM); ' +
  '"event-in" = an event tensor at the target activity (|N(0,1)| where a unit fired, else 0), as a layer inside a stack ' +
  'receives from the one below (event-driven input projection; the GRU is timed on its dense x, its cost does not depend on the values)');
console.log(`EGRU: zoneout 0, o and trace not kept (keepO/keepTrace false), surrogate γ=${DAMPENING}, support ε=${o.support}` +
  (o.supportWide ? ` (rows marked ε=${o.supportWide}: same thresholds, larger support, forward+backward only)` : ''));
console.log('data: x ~ N(0,1); Xavier-normal weights (std sqrt(2/(fan_in+fan_out))), zero biases, mulberry32 seeds; ' +
  `one uniform threshold per target activity, bisected to ±${100 * TOLERANCE} points`);
console.log('activity = events/(T·N·H) of the forward; bwd sparsity = 1 − backwardActive/(T·N·H); ' +
  'MACs = stats.macs/stats.macsDense; speed-up = GRU ms / EGRU ms (> 1: EGRU faster)');
console.log('saved MiB = what backward needs: the training forward\'s saved handle (its engine-owned bytes: GRU cache; ' +
  'EGRU cache + active map) plus the arrays the handle references (GRU y; EGRU y + c; x, the input, not counted)');
console.log('');

const rows = [];
const goalRows = [];
for (const size of o.sizes) {
  const x = normalArray(o.T * o.N * size, 1, 1);
  console.log(`C=H=${size}: timing dense GRU ...`);
  const gru = timeGru(addon, o, x, size);
  rows.push([`${size}`, 'GRU (dense)', '-', '-', '-', '-', '-', fmtMs(gru.forward), fmtMs(gru.forwardBackward),
    '1.00x', '1.00x', gru.saved.toFixed(1)]);
  const weights = {
    kernel: xavier(size, 3 * size, 2), recurrentKernel: xavier(size, 3 * size, 3),
    bias: new Float32Array(3 * size), recurrentBias: new Float32Array(3 * size),
  };
  for (const input of o.inputs) {
    const sparseInput = input === 'event-in';
    // Highest target first: its threshold bounds the next, lower target's bracket from below.
    let lo = 0;
    const byTarget = [];
    for (const target of [...TARGETS].sort((a, b) => b - a)) {
      const xin = sparseInput ? eventInput(o.T * o.N * size, target, 7) : x;
      const cal = calibrate(addon, o, xin, size, weights, target, lo, 1, sparseInput);
      console.log(`C=H=${size} ${input}: target ${pct(target)} activity -> threshold ${cal.thr.toFixed(4)} ` +
        `(activity ${pct(cal.activity)} after ${cal.calls} evaluation forwards` +
        `${cal.converged ? '' : `; NOT within ±${100 * TOLERANCE} points, best found used`})`);
      lo = cal.thr;
      byTarget.push({ target, thr: cal.thr, xin });
    }
    byTarget.sort((a, b) => a.target - b.target);
    for (const { target, thr, xin } of byTarget) {
      for (const support of supports) {
        const main = support === o.support;
        console.log(`C=H=${size}: timing EGRU ${input} ~${pct(target)} activity, ε=${support} ...`);
        const e = timeEgru(addon, o, xin, size, weights, thr, support, main, sparseInput);
        const fwdSpeedup = e.forward === null ? null : gru.forward / e.forward;
        const fbSpeedup = gru.forwardBackward / e.forwardBackward;
        rows.push([`${size}`, `EGRU ${input} ~${pct(target)} ε=${support}`, thr.toFixed(4), pct(e.activity), pct(e.backwardSparsity),
          pct(e.macsForward), pct(e.macsBackward), fmtMs(e.forward), fmtMs(e.forwardBackward),
          fwdSpeedup === null ? '-' : ratio(fwdSpeedup), ratio(fbSpeedup), e.saved.toFixed(1)]);
        if (e.activity <= GOAL_ACTIVITY) goalRows.push({ size, support, input, activity: e.activity, fbSpeedup });
      }
    }
  }
}

console.log('');
printTable(['C=H', 'layer', 'threshold', 'activity', 'bwd sparsity', 'fwd MACs', 'bwd MACs', 'fwd ms', 'fwd+bwd ms',
  'fwd speed-up', 'fwd+bwd speed-up', 'saved MiB'], rows);

console.log('');
console.log(`goal: at <= ${100 * GOAL_ACTIVITY}% activity, EGRU forward+backward >= ${GOAL_SPEEDUP}x faster than the dense GRU.`);
for (const input of o.inputs) {
  for (const support of supports) {
    const rs = goalRows.filter((r) => r.support === support && r.input === input);
    if (rs.length === 0) {
      console.log(`  ${input} ε=${support}: no row at <= ${100 * GOAL_ACTIVITY}% activity in this run; goal not assessed`);
      continue;
    }
    const met = rs.every((r) => r.fbSpeedup >= GOAL_SPEEDUP);
    const detail = rs.map((r) => `C=H=${r.size} at ${pct(r.activity)}: ${ratio(r.fbSpeedup)}`).join(', ');
    console.log(`  ${input} ε=${support}: ${met ? 'MET' : 'NOT met'} in this run (${detail})`);
  }
}
