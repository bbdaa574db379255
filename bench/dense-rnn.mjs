// The driver bench/gru.mjs and bench/lstm.mjs share: a dense recurrent layer of evnn's native CPU
// engine against its torch.nn counterpart on the same shapes and thread count. It parses the
// options, times evnn with each GEMM kernel (or the one asked for), runs the PyTorch side
// (bench/torch_<name>.py) and prints median wall-clock times with the evnn/PyTorch ratio measured
// in this run (below 1 means evnn is faster); nothing here is a pass/fail test.
//
// A cell is described by:
//   name        'gru' | 'lstm': the bench's name, its addon functions <name>Forward/<name>Backward
//               and its PyTorch script bench/torch_<name>.py
//   title       'GRU' | 'LSTM'
//   torchClass  'torch.nn.GRU' | 'torch.nn.LSTM'
//   gates       3 | 4: weightIh is [gates·H, C], weightHh [gates·H, H], the biases [gates·H]
//   forwardExtra, backwardExtra: the cell's own null arguments (e.g. LSTM's c0, dhN, dcN)
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failer, loadAddon, medianMs, zeroGrads } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv, cell, fail) {
  const o = {
    threads: os.availableParallelism(), kernel: null, reps: 5, warmup: 1,
    T: 100, N: 64, C: 512, H: 512, torch: true, addon: join(root, 'build', 'Release', 'evnn.node'),
  };
  const ints = new Set(['threads', 'reps', 'warmup', 'T', 'N', 'C', 'H']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-torch') { o.torch = false; continue; }
    if (arg === '--help' || arg === '-h') {
      console.log(`usage: node bench/${cell.name}.mjs [--threads N] [--kernel builtin|openblas] [--reps R] ` +
        '[--warmup W] [--T T] [--N N] [--C C] [--H H] [--no-torch] [--addon FILE]');
      process.exit(0);
    }
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (!ints.has(name) && name !== 'kernel' && name !== 'addon') fail(`unknown argument "${arg}" (see --help)`);
    const value = argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (value.trim() === '') fail(`${arg} needs a value, got ""`);
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

// forward = inference forward (training: false); forward+backward = training forward + backward
// of dy = ones without dx, adding the parameter gradients into buffers allocated once here and
// zeroed in each timed step (as a training step does). The saved handle is released after each
// step outside the timed region.
function timeEvnn(addon, o, cell) {
  const { T, N, C, H } = o;
  const G = cell.gates * H;
  const k = 1 / Math.sqrt(H);
  const weights = {
    weightIh: randomArray(G * C, k, 2), weightHh: randomArray(G * H, k, 3),
    biasIh: randomArray(G, k, 4), biasHh: randomArray(G, k, 5),
  };
  const args = {
    x: randomArray(T * N * C, 1, 1), h0: null, ...cell.forwardExtra, ...weights,
    T, N, C, H, training: false, chunkFloats: 0,
  };
  const trainArgs = { ...args, training: true };
  const grads = {
    dWeightIh: new Float32Array(G * C), dWeightHh: new Float32Array(G * H),
    dBiasIh: new Float32Array(G), dBiasHh: new Float32Array(G),
  };
  const dy = new Float32Array(T * N * H).fill(1);  // d(sum of outputs)/dy
  const backArgs = { ...weights, ...grads, ...cell.backwardExtra, dy, T, N, C, H, needDx: false, chunkFloats: 0 };
  const forwardFn = addon[`${cell.name}Forward`];
  const backwardFn = addon[`${cell.name}Backward`];
  const forward = medianMs(() => forwardFn(args), o.warmup, o.reps);
  const forwardBackward = medianMs(() => {
    zeroGrads(grads);
    const { saved } = forwardFn(trainArgs);
    backwardFn({ ...backArgs, saved });
    return saved;
  }, o.warmup, o.reps, (saved) => saved.release());
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

function timeTorch(python, o, cell, fail) {
  const script = join(root, 'bench', `torch_${cell.name}.py`);
  const args = [script, '--T', o.T, '--N', o.N, '--C', o.C, '--H', o.H, '--threads', o.threads,
    '--reps', o.reps, '--warmup', o.warmup].map(String);
  const env = { ...process.env, OMP_NUM_THREADS: String(o.threads) };
  const r = spawnSync(python, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  if (r.status !== 0) fail(`${python} ${script} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return fail(`${python} ${script} printed no JSON result line; its output was:\n${r.stdout}${r.stderr}`);
  }
}

const fmtMs = (ms) => ms.toFixed(ms < 10 ? 3 : 1);

function printTable(rows) {
  const header = ['measure', 'implementation', 'median ms', 'evnn/pytorch'];
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const r of cells) console.log(r.map((v, c) => (c >= 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  '));
}

/** Runs the bench of `cell` with the command-line arguments `argv`. */
export function runDenseRnnBench(cell, argv) {
  const fail = failer(cell.name);
  const o = parseArgs(argv, cell, fail);
  const addon = loadAddon(o.addon, ['info', 'setThreads', 'setGemmKernel', `${cell.name}Forward`, `${cell.name}Backward`], fail);
  addon.setThreads(o.threads);
  const info = addon.info();
  const kernels = o.kernel ? [o.kernel] : info.gemmKernels;
  if (o.kernel && !info.gemmKernels.includes(o.kernel)) {
    fail(`--kernel ${o.kernel} is not compiled into this addon (it has: ${info.gemmKernels.join(', ')})`);
  }
  console.log(`${cell.title} T=${o.T} N=${o.N} C=${o.C} H=${o.H}, float32, ${o.threads} threads, ` +
    `median of ${o.reps} after ${o.warmup} warm-up; forward = inference forward; forward+backward = training ` +
    'forward + backward with dy = ones, no dx (evnn: parameter gradients added into buffers zeroed in each step)');
  console.log(`evnn ${info.version}: simd ${info.simd}, gemm kernels compiled in: ${info.gemmKernels.join(', ')}; ` +
    `default kernel: ${info.gemm}${o.addon === join(root, 'build', 'Release', 'evnn.node') ? '' : ` (addon ${o.addon})`}`);

  const evnn = {};
  for (const kernel of kernels) {
    addon.setGemmKernel(kernel);
    console.log(`timing evnn with gemm kernel ${addon.info().gemm} ...`);
    evnn[kernel] = timeEvnn(addon, o, cell);
  }
  addon.setGemmKernel(info.gemm);

  let torch = null;
  if (o.torch) {
    const { python, tried } = findTorchPython();
    if (python) {
      console.log(`timing ${cell.torchClass} with ${python} ...`);
      torch = timeTorch(python, o, cell, fail);
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
}
