#!/usr/bin/env node
// Benchmark of evnn's DeltaGRU and DeltaLSTM (temporal-sparsity, delta-thresholded forward) against
// evnn's dense GRU and LSTM, all on the native CPU engine, in one run:
//
//  1. batch-1 streaming inference: one call over a long sequence (T frames, N = 1, training:
//     false), its time divided by T = latency per frame, at three sizes — 1 × 64 with 16 inputs
//     (the GSCv2 keyword-spotting config), 2 × 256 with 16 inputs (EdgeDRNN's size: two stacked
//     layers 16 → 256 → 256, both timed) and 1 × 1024 with --wide-inputs inputs (Spartus's size;
//     default 40: 40 log-mel filterbank channels, --wide-inputs 123 for the 123-dim TIMIT set) —
//     each single-threaded and with the default thread count. Inputs:
//       (a) random weights (PyTorch init U(±1/√H)) on a smooth AR(1) signal shaped like normalised
//           log-mel features, x_t = 0.9 x_{t−1} + 0.44 ε_t (ε ~ N(0, 1), x_0 from the stationary
//           N(0, 0.44²/0.19) ≈ N(0, 1.02), channels independent), at Θ = --theta and at Θ = 0
//           (the control: no sparsity, so it shows the delta bookkeeping's overhead);
//       (b) trained weights on real features: --weights <best.safetensors> (a GRU/DeltaGRU or
//           LSTM/DeltaLSTM checkpoint with rnn.weight_ih_l0 ... names) and --features <dataDir>
//           (extracted GSCv2 features: the --split clips concatenated into one stream of up to T
//           frames, normalised with the train split's global mean/std from meta.json); skipped,
//           saying why, when either is missing or dist/ lacks the GSCv2 reader.
//     For each row the op's own stats give the Δx / Δh zero fractions; sparsity = 1 − macs /
//     macsDense (the zero fraction of Δx and Δh together, weighted by their columns' MACs) and
//     ideal = 1/(1 − sparsity), the speed-up if time were proportional to the MACs run.
//  2. batched training step: training forward + backward (dy = ones, no dx, parameter gradients
//     added into buffers zeroed in each step) of DeltaGRU vs GRU (DeltaLSTM vs LSTM) at
//     N ∈ {32, 64}, T = 61, C = 16, H ∈ {64, 256}, on the AR(1) features, Θ = --theta and Θ = 0.
//
// The dense layers are timed with every GEMM kernel compiled into the addon (at batch 1 they
// differ several-fold), and speed-ups are against the fastest; the delta forward runs no GEMM, its
// backward does, so the training rows time the delta layers with each kernel too. Times are
// medians of --reps calls after --warmup untimed ones (and more, until --warm-ms of warm-up have
// passed); the dense and delta layers are timed round-robin (one call of each per round), so load
// from other processes falls on all of them alike. Fixed seeds throughout; the load average, and
// the share of CPU time other processes took during the run, are printed. speed-up = dense time /
// delta time (> 1: the delta layer is faster). Nothing here is a pass/fail test: the goal line
// (streaming speed-up at 1024 units >= 0.5 × 1/(1 − sparsity)) only reports what this run measured.
//
//   node bench/delta.mjs [--reps 5] [--warmup 1] [--warm-ms 200] [--T 1000] [--theta 0.1]
//                        [--wide-inputs 40]
//                        [--threads N] [--quick] [--json FILE] [--weights FILE --features DIR]
//                        [--split test] [--trained-theta Θ] [--addon FILE]
//
// --threads is the default thread count (the addon's own default, hardware concurrency, when not
// given): the training rows use it, the streaming rows run with 1 thread and with it.
// --quick: T = 250, 3 reps, 100 ms warm-up (about 15 s on a 2-core machine, against about 1 min by default).
// --addon times another build of the addon (default build/Release/evnn.node).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuModel, failer, interleavedMediansMs, loadAddon, machineCpu, markdownTable, zeroGrads } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = failer('delta');

const AR_COEF = 0.9;
const AR_NOISE = 0.44;
const GOAL_FRACTION = 0.5;   // goal: streaming speed-up at 1024 units >= 0.5 × 1/(1 − sparsity)
const TRAIN_T = 61;
const TRAIN_C = 16;
const TRAIN_N = [32, 64];
const TRAIN_H = [64, 256];

const CELLS = {
  gru: {
    title: 'GRU', delta: 'DeltaGRU', gates: 3, dense: 'gruForward', denseBackward: 'gruBackward',
    deltaFwd: 'deltaGruForward', deltaBackward: 'deltaGruBackward',
    denseExtra: { h0: null }, denseBackExtra: { dhT: null }, deltaBackExtra: { dhN: null },
  },
  lstm: {
    title: 'LSTM', delta: 'DeltaLSTM', gates: 4, dense: 'lstmForward', denseBackward: 'lstmBackward',
    deltaFwd: 'deltaLstmForward', deltaBackward: 'deltaLstmBackward',
    denseExtra: { h0: null, c0: null }, denseBackExtra: { dhN: null, dcN: null }, deltaBackExtra: { dhN: null, dcN: null },
  },
};

function parseArgs(argv) {
  const o = {
    reps: 5, warmup: 1, warmMs: 200, T: 1000, theta: 0.1, wideInputs: 40, threads: null, quick: false, json: null,
    weights: null, features: null, split: 'test', trainedTheta: null, addon: join(root, 'build', 'Release', 'evnn.node'),
  };
  const given = new Set();
  const ints = { reps: 1, warmup: 0, 'warm-ms': 0, T: 2, 'wide-inputs': 1, threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/delta.mjs [--reps R] [--warmup W] [--warm-ms MS] [--T T] [--theta Θ] [--wide-inputs C] ' +
        '[--threads N] [--quick] [--json FILE] [--weights FILE --features DIR] [--split train|valid|test] ' +
        '[--trained-theta Θ] [--addon FILE]');
      process.exit(0);
    }
    if (arg === '--quick') { o.quick = true; continue; }
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    const known = name in ints || ['theta', 'trained-theta', 'json', 'weights', 'features', 'split', 'addon'].includes(name);
    if (!known) fail(`unknown argument "${arg}" (see --help)`);
    const value = argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (value.trim() === '') fail(`${arg} needs a value, got ""`);
    given.add(name);
    if (name in ints) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < ints[name]) fail(`--${name} must be an integer >= ${ints[name]}, got "${value}"`);
      o[{ 'wide-inputs': 'wideInputs', 'warm-ms': 'warmMs' }[name] ?? name] = n;
    } else if (name === 'theta' || name === 'trained-theta') {
      const v = Number(value);
      if (!Number.isFinite(v) || v < 0) fail(`--${name} must be a number >= 0, got "${value}"`);
      o[name === 'theta' ? 'theta' : 'trainedTheta'] = v;
    } else if (name === 'split') {
      if (!['train', 'valid', 'test'].includes(value)) fail(`--split must be train, valid or test, got "${value}"`);
      o.split = value;
    } else {
      o[name] = resolve(value);
    }
  }
  if (o.quick) {
    if (!given.has('T')) o.T = 250;
    if (!given.has('reps')) o.reps = 3;
    if (!given.has('warm-ms')) o.warmMs = 100;
  }
  if (o.trainedTheta === null) o.trainedTheta = o.theta;
  return o;
}

// PyTorch's default init U(±k), from a fixed-seed LCG (as bench/dense-rnn.mjs).
function uniformArray(n, k, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 * 2 - 1) * k;
  }
  return a;
}

// mulberry32 + Box-Muller N(0, 1) draws (as bench/egru.mjs).
function normalStream(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = null;
  return () => {
    if (spare !== null) { const v = spare; spare = null; return v; }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const phi = 2 * Math.PI * uniform();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}

// [T, N, C] time-major AR(1) features: x_t = 0.9 x_{t−1} + 0.44 ε_t, started from the stationary law.
function ar1Features(T, N, C, seed) {
  const eps = normalStream(seed);
  const x = new Float32Array(T * N * C);
  const stationary = AR_NOISE / Math.sqrt(1 - AR_COEF * AR_COEF);
  const NC = N * C;
  for (let i = 0; i < NC; i++) x[i] = stationary * eps();
  for (let t = 1; t < T; t++) {
    for (let i = 0; i < NC; i++) x[t * NC + i] = AR_COEF * x[(t - 1) * NC + i] + AR_NOISE * eps();
  }
  return x;
}

// One layer's PyTorch-layout parameters, U(±1/√H).
function randomLayer(gates, C, H, seed) {
  const k = 1 / Math.sqrt(H);
  const G = gates * H;
  return {
    C, H, weights: {
      weightIh: uniformArray(G * C, k, seed), weightHh: uniformArray(G * H, k, seed + 1),
      biasIh: uniformArray(G, k, seed + 2), biasHh: uniformArray(G, k, seed + 3),
    },
  };
}

// Runs a stack of layers over x [T, 1, C] (each layer's y is the next one's x); returns the stats of each.
function runStack(addon, fnName, layers, x, T, extra) {
  let input = x;
  const stats = [];
  for (const L of layers) {
    const r = addon[fnName]({ x: input, ...L.weights, T, N: 1, C: L.C, H: L.H, training: false, chunkFloats: 0, ...extra });
    input = r.y;
    if (r.stats) stats.push(r.stats);
  }
  return stats;
}

// The zero fractions and MAC sparsity of a stack's forward stats (counts summed over layers).
function sparsityOf(stats) {
  const sum = (k) => stats.reduce((s, st) => s + st[k], 0);
  const dxTotal = sum('dxTotal');
  const dhTotal = sum('dhTotal');
  const macs = sum('macs');
  const macsDense = sum('macsDense');
  const sparsity = 1 - macs / macsDense;
  return {
    zeroDx: dxTotal ? sum('dxZeros') / dxTotal : 0, zeroDh: sum('dhZeros') / dhTotal,
    zeroBoth: (sum('dxZeros') + sum('dhZeros')) / (dxTotal + dhTotal),
    perLayer: stats.map((st) => ({ zeroDx: st.zeroDx, zeroDh: st.zeroDh, zeroBoth: st.zeroBoth })),
    sparsity, ideal: macsDense / Math.max(macs, 1),
  };
}

// Streaming rows of one (cell, config, threads, input): the dense stack with each GEMM kernel
// (the delta forward runs no GEMM) and the delta stack at each Θ, timed round-robin. The speed-up
// is against the fastest dense kernel; the figures of the others are kept too.
function timeStreaming(addon, o, cell, cfg, layers, x, T, thetas, threads, input) {
  const stats = thetas.map(() => null);
  const fns = [
    ...o.kernels.map((k) => ({ fn: () => { addon.setGemmKernel(k); return runStack(addon, cell.dense, layers, x, T, cell.denseExtra); } })),
    ...thetas.map((theta, i) => ({
      fn: () => runStack(addon, cell.deltaFwd, layers, x, T, { thetaX: theta, thetaH: theta }),
      after: (s) => { stats[i] = s; },
    }))];
  const perFrame = interleavedMediansMs(fns, o.warmup, o.reps, o.warmMs).map((ms) => (ms * 1000) / T);
  const denseByKernel = Object.fromEntries(o.kernels.map((k, i) => [k, perFrame[i]]));
  const fastest = o.kernels.reduce((a, k) => (denseByKernel[k] < denseByKernel[a] ? k : a));
  const dense = denseByKernel[fastest];
  return thetas.map((theta, i) => {
    const sp = sparsityOf(stats[i]);
    const delta = perFrame[o.kernels.length + i];
    return {
      cell: cell.title, delta: cell.delta, config: cfg.name, C: layers[0].C, layers: layers.map((l) => l.H), T, threads, input,
      theta, ...sp, denseUsPerFrameByKernel: denseByKernel, denseKernel: fastest, denseUsPerFrame: dense, deltaUsPerFrame: delta,
      speedup: dense / delta, ofIdeal: dense / delta / sp.ideal,
      speedupByKernel: Object.fromEntries(o.kernels.map((k) => [k, denseByKernel[k] / delta])),
    };
  });
}

// One training step (forward with training: true + backward) of the dense layer (theta null) or
// the delta layer at theta, with GEMM kernel `kernel` (both backward passes run GEMMs), as a
// round-robin entry; its forward's stats go to out.stats.
function trainStep(addon, cell, layer, x, T, N, theta, kernel, out) {
  const { C, H, weights } = layer;
  const G = cell.gates * H;
  const dense = theta === null;
  const grads = {
    dWeightIh: new Float32Array(G * C), dWeightHh: new Float32Array(G * H),
    dBiasIh: new Float32Array(G), dBiasHh: new Float32Array(G),
  };
  const dy = new Float32Array(T * N * H).fill(1);
  const base = { x, ...weights, T, N, C, H, training: true, chunkFloats: 0 };
  const fwdName = dense ? cell.dense : cell.deltaFwd;
  const bwdName = dense ? cell.denseBackward : cell.deltaBackward;
  const fwdArgs = dense ? { ...base, ...cell.denseExtra } : { ...base, thetaX: theta, thetaH: theta };
  const backArgs = { ...weights, ...grads, ...(dense ? cell.denseBackExtra : cell.deltaBackExtra),
    dy, T, N, C, H, needDx: false, chunkFloats: 0 };
  return {
    fn: () => {
      addon.setGemmKernel(kernel);
      zeroGrads(grads);
      const f = addon[fwdName](fwdArgs);
      addon[bwdName]({ ...backArgs, saved: f.saved });
      return f;
    },
    after: (f) => {
      out.stats = f.stats ?? null;
      f.saved.release();
    },
  };
}

// Trained weights (safetensors) and real GSCv2 features, or why the row is skipped.
async function loadTrained(o) {
  const how = 'pass --weights <run>/best.safetensors (a GRU/DeltaGRU or LSTM/DeltaLSTM checkpoint: rnn.weight_ih_l0 ...) ' +
    'and --features <dataDir> (GSCv2 features extracted by `evnn feature <config>`), with dist/ built (`npm run build`)';
  if (!o.weights && !o.features) return { skipped: `no --weights/--features given; to get it, ${how}` };
  if (!o.weights || !o.features) return { skipped: `needs both --weights and --features (got only ${o.weights ? '--weights' : '--features'}); ${how}` };
  let st;
  try {
    st = await import(pathToFileURL(join(root, 'dist', 'io', 'safetensors.js')).href);
  } catch (err) {
    return { skipped: `cannot load dist/io/safetensors.js (${err.message.split('\n')[0]}); build dist/ with \`npm run build\`` };
  }
  let file;
  try {
    file = st.readSafetensors(o.weights);
  } catch (err) {
    fail(`--weights: ${err.message}`);
  }
  const t = file.tensors;
  const layers = [];
  let gates = 0;
  for (let l = 0; t.has(`rnn.weight_ih_l${l}`); l++) {
    const get = (n) => {
      const v = t.get(`rnn.${n}_l${l}`);
      if (!v) fail(`--weights ${o.weights}: has rnn.weight_ih_l${l} but no rnn.${n}_l${l}`);
      if (v.dtype !== 'F32') fail(`--weights ${o.weights}: rnn.${n}_l${l} is ${v.dtype}, expected F32`);
      return v;
    };
    const wih = get('weight_ih'), whh = get('weight_hh'), bih = get('bias_ih'), bhh = get('bias_hh');
    const H = whh.shape[1];
    const g = whh.shape[0] / H;
    if (whh.shape.length !== 2 || (g !== 3 && g !== 4)) fail(`--weights: rnn.weight_hh_l${l} has shape [${whh.shape}], expected [3H, H] (GRU) or [4H, H] (LSTM)`);
    if (gates && g !== gates) fail(`--weights: layer ${l} has ${g} gate blocks, layer 0 ${gates}`);
    gates = g;
    const C = wih.shape[1];
    if (wih.shape[0] !== g * H || bih.shape[0] !== g * H || bhh.shape[0] !== g * H) fail(`--weights: layer ${l}'s shapes disagree`);
    if (l > 0 && C !== layers[l - 1].H) fail(`--weights: layer ${l} takes ${C} inputs but layer ${l - 1} has ${layers[l - 1].H} units`);
    layers.push({ C, H, weights: { weightIh: wih.data, weightHh: whh.data, biasIh: bih.data, biasHh: bhh.data } });
  }
  if (layers.length === 0) fail(`--weights ${o.weights}: no rnn.weight_ih_l0 (tensors: ${[...t.keys()].join(', ')})`);
  const cell = gates === 3 ? CELLS.gru : CELLS.lstm;
  let fs;
  try {
    fs = await import(pathToFileURL(join(root, 'dist', 'data', 'gscv2', 'feature-split.js')).href);
  } catch (err) {
    return { skipped: `the GSCv2 feature reader is not built into dist/ (dist/data/gscv2/feature-split.js: ${err.message.split('\n')[0]}); ` +
      'build dist/ with `npm run build` once src/data/gscv2 is part of it, then rerun with --weights and --features' };
  }
  let meta, split;
  try {
    meta = fs.readFeatureMeta(o.features);
    split = fs.openFeatureSplit(o.features, o.split);
  } catch (err) {
    return { skipped: `--features ${o.features}: ${err.message.split('\n')[0]}` };
  }
  const C = layers[0].C;
  if (meta.n_features !== C) fail(`--weights takes ${C} inputs but the features have ${meta.n_features} channels`);
  const total = split.data.length / C;
  const T = Math.min(o.T, total);
  if (T < 2) return { skipped: `the ${o.split} split has ${total} frames` };
  const x = new Float32Array(T * C);
  const { mean, std } = meta.stats;
  for (let i = 0; i < T * C; i++) x[i] = (split.data[i] - mean) / std;
  const clips = split.offsets.findIndex((off) => off >= T);
  return {
    cell, layers, x, T,
    describe: `trained weights ${o.weights} (${cell.title}, ${layers.map((l) => l.H).join(' → ')} units, ${C} inputs) on ` +
      `${T} frames of the GSCv2 ${o.split} split (the first ${clips < 0 ? split.count : clips} clips concatenated in file order, the last possibly cut; ` +
      `normalised with the train split's global mean ${mean.toFixed(3)} / std ${std.toFixed(3)})`,
  };
}

const loadavg = () => os.loadavg().map((v) => v.toFixed(2)).join(', ');



const fix = (v, d) => v.toFixed(d);
const us = (v) => fix(v, v < 10 ? 2 : 1);
const ms = (v) => fix(v, v < 10 ? 3 : 1);
const pct = (v) => `${fix(100 * v, 1)}%`;
const x2 = (v) => `${fix(v, 2)}×`;


// ---------------------------------------------------------------------------------------------
const o = parseArgs(process.argv.slice(2));
const addon = loadAddon(o.addon, ['info', 'setThreads', 'setGemmKernel', 'gruForward', 'gruBackward', 'lstmForward', 'lstmBackward',
  'deltaGruForward', 'deltaGruBackward', 'deltaLstmForward', 'deltaLstmBackward'], fail);
const defaultThreads = o.threads ?? addon.info().threads;
addon.setThreads(defaultThreads);
const info = addon.info();
const threadSettings = [...new Set([1, defaultThreads])];
o.kernels = info.gemmKernels;
const command = `node bench/delta.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const machine = {
  cpu: cpuModel(), cpus: os.availableParallelism(), node: process.version, evnn: info.version, simd: info.simd,
  gemm: info.gemm, gemmKernels: info.gemmKernels, defaultThreads,
};
const started = process.hrtime.bigint();
const cpu0 = machineCpu();
const own0 = process.cpuUsage();

console.log(`DeltaGRU / DeltaLSTM vs dense GRU / LSTM (evnn native CPU engine), float32`);
console.log(`command: ${command}`);
console.log(`machine: ${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}; evnn ${info.version}: simd ${info.simd}, ` +
  `gemm ${info.gemm} (compiled in: ${info.gemmKernels.join(', ')}); default threads ${defaultThreads}`);
console.log(`dense layers timed with every GEMM kernel compiled in (${info.gemmKernels.join(', ')}); speed-ups are against the fastest`);
console.log(`median of ${o.reps} after ${o.warmup} warm-up call(s) and at least ${o.warmMs} ms of warm-up, dense and delta timed round-robin; ` +
  'fixed seeds; speed-up = dense time / delta time (> 1: delta faster)');
console.log(`load average before: ${loadavg()}`);
console.log(`streaming: batch 1, one call over T=${o.T} frames (training: false), µs/frame = call time / T; ` +
  `threads ${threadSettings.join(' and ')}; Θx = Θh = Θ`);
console.log(`  (a) random weights U(±1/√H); AR(1) features x_t = ${AR_COEF} x_{t−1} + ${AR_NOISE} ε_t ` +
  `(ε ~ N(0,1), stationary start, std ≈ ${fix(AR_NOISE / Math.sqrt(1 - AR_COEF * AR_COEF), 2)}); Θ = ${o.theta} and Θ = 0 (control)`);
console.log(`  sizes: 1×64 with 16 inputs (GSCv2), 2×256 with 16 inputs (EdgeDRNN size, 16 → 256 → 256, both layers timed), ` +
  `1×1024 with ${o.wideInputs} inputs (Spartus size; ${o.wideInputs === 40 ? '40 log-mel channels' : `${o.wideInputs} input features`})`);
console.log('  Δx/Δh zeros = exactly-zero fractions from the op\'s stats; sparsity = 1 − macs/macsDense; ideal = 1/(1 − sparsity)');
console.log('');

// 1a. streaming, random weights, AR(1) features.
const configs = [
  { name: '1×64 (GSCv2)', C: 16, H: [64] },
  { name: '2×256 (EdgeDRNN)', C: 16, H: [256, 256] },
  { name: '1×1024 (Spartus)', C: o.wideInputs, H: [1024] },
];
const streaming = [];
for (const key of ['gru', 'lstm']) {
  const cell = CELLS[key];
  for (const [ci, cfg] of configs.entries()) {
    const layers = cfg.H.map((H, l) => randomLayer(cell.gates, l === 0 ? cfg.C : cfg.H[l - 1], H, 100 * ci + 10 * l + 1));
    const x = ar1Features(o.T, 1, cfg.C, 7 + ci);
    for (const threads of threadSettings) {
      addon.setThreads(threads);
      console.log(`streaming ${cell.delta} vs ${cell.title} ${cfg.name}, ${threads} thread${threads > 1 ? 's' : ''} ...`);
      streaming.push(...timeStreaming(addon, o, cell, cfg, layers, x, o.T, [o.theta, 0], threads, 'random weights, AR(1)'));
    }
  }
}

// 1b. streaming, trained weights on real features.
const trained = await loadTrained(o);
if (trained.skipped) {
  console.log(`trained-weights row skipped: ${trained.skipped}`);
} else {
  console.log(`streaming ${trained.describe}, Θ = ${o.trainedTheta} ...`);
  for (const threads of threadSettings) {
    addon.setThreads(threads);
    const cfg = { name: `trained ${trained.layers.map((l) => l.H).join('→')}` };
    streaming.push(...timeStreaming(addon, o, trained.cell, cfg, trained.layers, trained.x, trained.T,
      [...new Set([o.trainedTheta, 0])], threads, 'trained weights, GSCv2'));
  }
}

// 2. training steps.
addon.setThreads(defaultThreads);
const training = [];
for (const key of ['gru', 'lstm']) {
  const cell = CELLS[key];
  for (const H of TRAIN_H) {
    const layer = randomLayer(cell.gates, TRAIN_C, H, 1000 + H);
    for (const N of TRAIN_N) {
      console.log(`training step ${cell.delta} vs ${cell.title} H=${H} N=${N} ...`);
      const x = ar1Features(TRAIN_T, N, TRAIN_C, 31 + N);
      const thetas = [o.theta, 0];
      const outs = thetas.map(() => ({ stats: null }));
      const fns = [];
      for (const k of o.kernels) {
        fns.push(trainStep(addon, cell, layer, x, TRAIN_T, N, null, k, {}));
        thetas.forEach((theta, i) => fns.push(trainStep(addon, cell, layer, x, TRAIN_T, N, theta, k, outs[i])));
      }
      const times = interleavedMediansMs(fns, o.warmup, o.reps, o.warmMs);
      const per = 1 + thetas.length;
      const denseByKernel = Object.fromEntries(o.kernels.map((k, j) => [k, times[j * per]]));
      const fastest = (byKernel) => o.kernels.reduce((a, k) => (byKernel[k] < byKernel[a] ? k : a));
      const denseKernel = fastest(denseByKernel);
      thetas.forEach((theta, i) => {
        const sp = sparsityOf([outs[i].stats]);
        const deltaByKernel = Object.fromEntries(o.kernels.map((k, j) => [k, times[j * per + 1 + i]]));
        const deltaKernel = fastest(deltaByKernel);
        training.push({
          cell: cell.title, delta: cell.delta, H, N, T: TRAIN_T, C: TRAIN_C, threads: defaultThreads, theta,
          zeroDx: sp.zeroDx, zeroDh: sp.zeroDh, sparsity: sp.sparsity,
          denseMsByKernel: denseByKernel, deltaMsByKernel: deltaByKernel, denseKernel, deltaKernel,
          denseMs: denseByKernel[denseKernel], deltaMs: deltaByKernel[deltaKernel],
          speedup: denseByKernel[denseKernel] / deltaByKernel[deltaKernel],
        });
      });
    }
  }
}
addon.setGemmKernel(info.gemm);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu1 = machineCpu();
const ownCpu = process.cpuUsage(own0);
// Share of the machine's CPU time during the run that went to other processes (0 on a quiet machine).
const otherLoad = cpu0 && cpu1
  ? Math.max(0, (cpu1.busy - cpu0.busy) - (ownCpu.user + ownCpu.system) / 1e6) / (cpu1.total - cpu0.total)
  : null;

console.log('');
console.log(`## Streaming inference, batch 1 (µs per frame; T=${o.T} frames per call)`);
console.log('');
const kcols = (prefix) => o.kernels.map((k) => `${prefix} (${k})`);
console.log(markdownTable(
  ['cell', 'size', 'inputs', 'threads', 'weights / input', 'Θ', 'Δx zeros', 'Δh zeros', 'sparsity', 'ideal',
    ...kcols('dense µs/frame'), 'delta µs/frame', 'speed-up vs fastest dense', 'of ideal'],
  streaming.map((r) => [`${r.delta} vs ${r.cell}`, r.config, `${r.C}`, `${r.threads}`, r.input, `${r.theta}`, pct(r.zeroDx),
    pct(r.zeroDh), pct(r.sparsity), x2(r.ideal), ...o.kernels.map((k) => us(r.denseUsPerFrameByKernel[k])), us(r.deltaUsPerFrame),
    `${x2(r.speedup)} (${r.denseKernel})`, pct(r.ofIdeal)]),
));
const stacked = streaming.filter((r) => r.layers.length > 1 && r.theta > 0);
if (stacked.length) {
  console.log('');
  console.log('per-layer zero fractions of the stacked rows (Θ > 0): ' + stacked.map((r) =>
    `${r.delta} ${r.threads}t: ${r.perLayer.map((p, l) => `L${l} Δx ${pct(p.zeroDx)} Δh ${pct(p.zeroDh)}`).join(', ')}`).join('; '));
}
console.log('');
console.log(`## Training step, forward + backward (ms; T=${TRAIN_T}, C=${TRAIN_C}, ${defaultThreads} threads)`);
console.log('');
console.log(markdownTable(
  ['cell', 'H', 'N', 'Θ', 'Δx zeros', 'Δh zeros', 'sparsity', ...kcols('dense ms'), ...kcols('delta ms'), 'speed-up fastest vs fastest'],
  training.map((r) => [`${r.delta} vs ${r.cell}`, `${r.H}`, `${r.N}`, `${r.theta}`, pct(r.zeroDx), pct(r.zeroDh),
    pct(r.sparsity), ...o.kernels.map((k) => ms(r.denseMsByKernel[k])), ...o.kernels.map((k) => ms(r.deltaMsByKernel[k])),
    x2(r.speedup)]),
));
console.log('');

const goals = [];
for (const r of streaming.filter((s) => s.layers.length === 1 && s.layers[0] === 1024 && s.theta > 0 && s.input.startsWith('random'))) {
  const target = GOAL_FRACTION * r.ideal;
  const met = r.speedup >= target;
  goals.push({ cell: r.delta, threads: r.threads, theta: r.theta, speedup: r.speedup, denseKernel: r.denseKernel,
    speedupByKernel: r.speedupByKernel, sparsity: r.sparsity, ideal: r.ideal, target, met });
  const others = o.kernels.filter((k) => k !== r.denseKernel).map((k) => `${x2(r.speedupByKernel[k])} vs dense ${k}`).join(', ');
  console.log(`streaming speed-up at 1024 units: ${x2(r.speedup)} (goal ≥ ${GOAL_FRACTION} × 1/(1−${fix(r.sparsity, 3)}) = ` +
    `${x2(target)}): ${met ? 'met' : 'not met'}  [${r.delta} vs ${r.cell} (fastest dense kernel: ${r.denseKernel}` +
    `${others ? `; ${others}` : ''}), Θ=${r.theta}, ${r.threads} thread${r.threads > 1 ? 's' : ''}]`);
}
console.log(`load average after: ${loadavg()}` + (otherLoad === null ? '' : `; other processes used ${pct(otherLoad)} of the machine's CPU time during the run`));
console.log(`(whole bench: ${fix(seconds, 1)} s)`);

if (o.json) {
  const out = {
    bench: 'delta', command, machine, options: o,
    ar1: { coef: AR_COEF, noise: AR_NOISE }, streaming,
    trained: trained.skipped ? { skipped: trained.skipped } : { describe: trained.describe, theta: o.trainedTheta },
    training, goals, seconds, loadavgAfter: os.loadavg(), otherLoad,
  };
  writeFileSync(o.json, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`figures written to ${o.json}`);
}
