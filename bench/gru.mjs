#!/usr/bin/env node
// Benchmark of evnn's dense GRU (native CPU engine) against torch.nn.GRU on the same shapes and
// thread count. Prints median wall-clock times and the evnn/PyTorch ratio measured in this run
// (below 1 means evnn is faster); nothing here is a pass/fail test.
//
//   node bench/gru.mjs [--threads N] [--kernel builtin|openblas] [--reps 5] [--warmup 1]
//                      [--T 100] [--N 64] [--C 512] [--H 512] [--no-torch] [--addon FILE]
//
// --addon times another build of the addon (default build/Release/evnn.node).
// Without --kernel every GEMM kernel compiled into the addon is timed. PyTorch runs through
// bench/torch_gru.py with the first of $EVNN_PYTHON, python3, /usr/bin/python3 that imports torch.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failer, loadAddon, medianMs } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const fail = failer('gru');

function parseArgs(argv) {
  const o = {
    threads: os.availableParallelism(), kernel: null, reps: 5, warmup: 1,
    T: 100, N: 64, C: 512, H: 512, torch: true, addon: join(root, 'build', 'Release', 'evnn.node'),
  };
  const ints = new Set(['threads', 'reps', 'warmup', 'T', 'N', 'C', 'H']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-torch') { o.torch = false; continue; }
    if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/gru.mjs [--threads N] [--kernel builtin|openblas] [--reps R] ' +
        '[--warmup W] [--T T] [--N N] [--C C] [--H H] [--no-torch] [--addon FILE]');
      process.exit(0);
    }
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (!ints.has(name) && name !== 'kernel' && name !== 'addon') fail(`unknown argument "${arg}" (see --help)`);
    const value = argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (name === 'addon') {
      o.addon = resolve(value);
    } else if (name === 'kernel') {
      if (value !== 'builtin' && value !== 'openblas') fail(`--kernel must be builtin or openblas, got "${value}"`);
      o.kernel = value;
    } else {
      const n = Number(value);
      const min = name === 'warmup' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${value}"`);
      o[name] = n;
    }
  }
  return o;
}


// PyTorch's default init range, from a fixed-seed LCG so every run times the same numbers.
function randomArray(n, scale, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 * 2 - 1) * scale;
  }
  return a;
}


function timeEvnn(addon, o) {
  const { T, N, C, H } = o;
  const k = 1 / Math.sqrt(H);
  const args = {
    x: randomArray(T * N * C, 1, 1), h0: null, T, N, C, H, training: false,
    weightIh: randomArray(3 * H * C, k, 2), weightHh: randomArray(3 * H * H, k, 3),
    biasIh: randomArray(3 * H, k, 4), biasHh: randomArray(3 * H, k, 5),
  };
  const dy = new Float32Array(T * N * H).fill(1);  // d(sum of outputs)/dy
  const forward = medianMs(() => addon.gruForward(args), o.warmup, o.reps);
  const forwardBackward = medianMs(() => {
    const { y, cache } = addon.gruForward({ ...args, training: true });
    addon.gruBackward({ ...args, training: true, y, cache, dy, dhT: null, needDx: false });
  }, o.warmup, o.reps);
  return { forward, forwardBackward };
}

function findTorchPython() {
  const candidates = [process.env.EVNN_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, tried: candidates };
  }
  return { python: null, tried: candidates };
}

function timeTorch(python, o) {
  const script = join(root, 'bench', 'torch_gru.py');
  const args = [script, '--T', o.T, '--N', o.N, '--C', o.C, '--H', o.H, '--threads', o.threads,
    '--reps', o.reps, '--warmup', o.warmup].map(String);
  const env = { ...process.env, OMP_NUM_THREADS: String(o.threads) };
  const r = spawnSync(python, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  if (r.status !== 0) fail(`${python} ${script} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

const fmtMs = (ms) => ms.toFixed(ms < 10 ? 3 : 1);

function printTable(rows) {
  const header = ['measure', 'implementation', 'median ms', 'evnn/pytorch'];
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const r of cells) console.log(r.map((v, c) => (c >= 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  '));
}

const o = parseArgs(process.argv.slice(2));
const addon = loadAddon(o.addon, ['info', 'setThreads', 'setGemmKernel', 'gruForward', 'gruBackward'], fail);
addon.setThreads(o.threads);
const info = addon.info();
const kernels = o.kernel ? [o.kernel] : info.gemmKernels;
if (o.kernel && !info.gemmKernels.includes(o.kernel)) {
  fail(`--kernel ${o.kernel} is not compiled into this addon (it has: ${info.gemmKernels.join(', ')})`);
}
console.log(`GRU T=${o.T} N=${o.N} C=${o.C} H=${o.H}, float32, ${o.threads} threads, ` +
  `median of ${o.reps} after ${o.warmup} warm-up; forward+backward = training forward + backward ` +
  `with dy = ones, no dx`);
console.log(`evnn ${info.version}: simd ${info.simd}, gemm kernels compiled in: ${info.gemmKernels.join(', ')}; ` +
  `default kernel: ${info.gemm}`);

const evnn = {};
for (const kernel of kernels) {
  addon.setGemmKernel(kernel);
  console.log(`timing evnn with gemm kernel ${addon.info().gemm} ...`);
  evnn[kernel] = timeEvnn(addon, o);
}
addon.setGemmKernel(info.gemm);

let torch = null;
if (o.torch) {
  const { python, tried } = findTorchPython();
  if (python) {
    console.log(`timing torch.nn.GRU with ${python} ...`);
    torch = timeTorch(python, o);
    if (torch.threads !== o.threads) console.log(`note: torch reports ${torch.threads} threads`);
  } else {
    console.log(`PyTorch comparison skipped: no Python with torch found (tried ${tried.join(', ')}). ` +
      'Install it with `apt-get install python3-torch` (Debian/Ubuntu) or `pip install torch`, ' +
      'or set EVNN_PYTHON to an interpreter that has it.');
  }
} else {
  console.log('PyTorch comparison skipped (--no-torch).');
}

const rows = [];
for (const [measure, key, torchKey] of [['forward', 'forward', 'forward_ms'],
  ['forward+backward', 'forwardBackward', 'forward_backward_ms']]) {
  for (const kernel of kernels) {
    const ms = evnn[kernel][key];
    rows.push([measure, `evnn (${kernel})`, fmtMs(ms), torch ? `${(ms / torch[torchKey]).toFixed(2)}x` : '-']);
  }
  if (torch) rows.push([measure, `pytorch ${torch.torch}`, fmtMs(torch[torchKey]), '1.00x']);
}
printTable(rows);
