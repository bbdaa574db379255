#!/usr/bin/env node
// Benchmark of EvNN's DVS128 convolutional front end (src/models/conv-front-end.ts: five convs
// with ReLU, the frame-size-dependent MaxPools, Linear → 512) on one batch of B × T frames
// (40 × 68 = 2720 frames of EvNN's recipe: batch 40, 1.7 s at 25 ms per frame), evnn on the CPU
// against PyTorch on the CPU (bench/conv_torch.py via /usr/bin/python3, the same thread count;
// skipped with a note when torch cannot be imported) — issue 14, "Performance".
//
// Timed (medians of --reps after --warmup, per frame size), round-robin: every round times each
// contender once in turn (evnn with each GEMM kernel compiled in, then PyTorch in a persistent
// worker process), so load from other processes on a shared machine falls on all of them alike:
//  - forward: the training forward (each layer keeps what its backward needs);
//  - forward+backward: that forward, then the backward to every parameter's gradient (the frames
//    are data: no input gradient), gradient buffers zeroed first, as a training step does.
// evnn runs through the library's ConvFrontEnd (dist/), so the figures include what a user's
// call costs (allocation of the outputs, the TypeScript between the native calls). Frames: about
// 20% of the pixels hold event counts / 19 (EvNN's scaling), the rest 0; dense convolutions do
// not depend on the values. GPU rows need evnn's CUDA backend; without it the run says so.
//
//   node bench/conv.mjs [--sizes 128,64,32] [--batch 40] [--steps 68] [--threads N] [--reps 3]
//                       [--warmup 1] [--kernels openblas,builtin] [--no-torch] [--python /usr/bin/python3]
//                       [--json FILE]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { failer, machineCpu, median } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = failer('conv');

function parseArgs(argv) {
  const o = {
    sizes: [128, 64, 32], batch: 40, steps: 68, threads: os.availableParallelism?.() ?? os.cpus().length, reps: 3, warmup: 1,
    kernels: null, torch: true, python: '/usr/bin/python3', json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    const int = (name, v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) fail(`${name} must be an integer >= 1, got ${v}`);
      return n;
    };
    if (a === '--sizes') o.sizes = next().split(',').map((s) => int('--sizes', s));
    else if (a === '--batch') o.batch = int(a, next());
    else if (a === '--steps') o.steps = int(a, next());
    else if (a === '--threads') o.threads = int(a, next());
    else if (a === '--reps') o.reps = int(a, next());
    else if (a === '--warmup') {
      o.warmup = Number(next());
      if (!Number.isInteger(o.warmup) || o.warmup < 0) fail(`--warmup must be an integer >= 0, got ${argv[i]}`);
    }
    else if (a === '--kernels') o.kernels = next().split(',');
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--python') o.python = next();
    else if (a === '--json') o.json = next();
    else fail(`unknown option ${a}`);
  }
  return o;
}


function ms(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// Deterministic frames: ~20% of pixels hold k/19 for k in 1..19.
function frames(n, F) {
  const x = new Float32Array(n * F * F);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    if ((s >>> 8) % 5 === 0) x[i] = (1 + ((s >>> 16) % 19)) / 19;
  }
  return x;
}

// A process's own CPU seconds (/proc/<pid>/stat), to tell how much of the run other processes took.
function processCpu(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;  // utime + stime
  } catch {
    return 0;
  }
}

// bench/conv_torch.py as a worker: one request line in, one JSON line out (see its docstring).
function startTorch(o) {
  const probe = spawnSync(o.python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { note: `PyTorch skipped: ${o.python} cannot import torch (${(probe.stderr || String(probe.error)).trim().split('\n').pop()})` };
  }
  const child = spawn(o.python, [join(root, 'bench', 'conv_torch.py'), '--batch', String(o.batch), '--steps', String(o.steps),
    '--threads', String(o.threads)], {
    stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(o.threads), MKL_NUM_THREADS: String(o.threads) },
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.resolve(JSON.parse(l)));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the PyTorch worker exited (code ${code})`));
  });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ask = (req) => {
    const p = next();
    child.stdin.write(`${req}\n`);
    return p;
  };
  return { first: next(), ask, cpu: () => processCpu(child.pid), stop: () => child.stdin.end('quit\n') };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dist = join(root, 'dist', 'models', 'conv-front-end.js');
  if (!existsSync(dist)) fail(`${dist} does not exist; build the library with \`npm run build\``);
  const { ConvFrontEnd } = await import(pathToFileURL(dist).href);
  const { native } = await import(pathToFileURL(join(root, 'dist', 'native', 'addon.js')).href);
  const addon = native();
  addon.setThreads(o.threads);
  const info = addon.info();
  const kernels = o.kernels ?? info.gemmKernels;
  const n = o.batch * o.steps;
  console.log(`evnn ${info.version}, simd ${info.simd}, ${o.threads} thread(s), gemm kernels ${kernels.join(', ')}; ` +
    `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`);
  console.log(`one batch = ${o.batch} × ${o.steps} = ${n} frames; medians of ${o.reps} after ${o.warmup} warm-up\n`);

  const cpu0 = machineCpu(), own0 = process.cpuUsage(), started = process.hrtime.bigint();
  const torch = o.torch ? startTorch(o) : { note: 'PyTorch skipped (--no-torch)' };
  let torchName = null;
  if (torch.first) {
    const hello = await torch.first;
    torchName = `PyTorch ${hello.torch}`;
    console.log(`${torchName}: ${hello.threads} thread(s), float32, CPU`);
  } else console.log(torch.note);

  const results = [];
  for (const F of o.sizes) {
    const fe = new ConvFrontEnd({ frameSize: F, seed: 1 });
    const x = { data: frames(n, F), shape: [o.steps, o.batch, 1, F, F] };
    const dy = { data: new Float32Array(n * 512).fill(0.01), shape: [o.steps, o.batch, 512] };
    if (torchName) await torch.ask(`size ${F}`);
    // Every contender as { who, forward(), fwdbwd() } returning milliseconds.
    const contenders = kernels.map((k) => ({
      who: `evnn (${k})`,
      forward: async () => (addon.setGemmKernel(k), ms(() => fe.forward(x, { training: true }))),
      fwdbwd: async () => (addon.setGemmKernel(k), ms(() => {
        fe.forward(x, { training: true });
        fe.backward(dy);
      })),
    }));
    if (torchName) {
      contenders.push({
        who: torchName,
        forward: async () => (await torch.ask('forward')).ms,
        fwdbwd: async () => (await torch.ask('fwdbwd')).ms,
      });
    }
    const times = contenders.map(() => ({ forward: [], fwdbwd: [] }));
    for (const what of ['forward', 'fwdbwd']) {
      for (let r = 0; r < o.warmup + o.reps; r++) {
        for (const [i, c] of contenders.entries()) {
          const t = await c[what]();
          if (r >= o.warmup) times[i][what].push(t);
        }
      }
    }
    for (const [i, c] of contenders.entries()) {
      const row = { who: c.who, frame: F, frames: n, forward_ms: median(times[i].forward), forward_backward_ms: median(times[i].fwdbwd),
        forward_all_ms: times[i].forward, forward_backward_all_ms: times[i].fwdbwd };
      results.push(row);
      console.log(`frame ${F}: ${c.who}: forward ${row.forward_ms.toFixed(0)} ms [${row.forward_all_ms.map((v) => v.toFixed(0)).join(', ')}], ` +
        `forward+backward ${row.forward_backward_ms.toFixed(0)} ms [${row.forward_backward_all_ms.map((v) => v.toFixed(0)).join(', ')}]`);
    }
  }
  addon.setGemmKernel(info.gemm);
  const torchCpu = torch.cpu?.() ?? 0;
  torch.stop?.();
  const torchNote = torch.note ?? null;
  const cpu1 = machineCpu(), own = process.cpuUsage(own0);
  // Share of the machine's CPU time during the run that went to other processes (0 when quiet).
  const otherShare = cpu0 && cpu1
    ? Math.max(0, cpu1.busy - cpu0.busy - (own.user + own.system) / 1e6 - torchCpu) / (cpu1.total - cpu0.total)
    : null;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`\nrun took ${seconds.toFixed(0)} s; other processes took ${otherShare === null ? 'an unknown share' : `${(100 * otherShare).toFixed(1)}%`} ` +
    `of the machine's CPU time meanwhile (load average now ${os.loadavg().map((v) => v.toFixed(2)).join(', ')})`);

  console.log('\n| frame | who | forward ms | fwd+bwd ms | PyTorch / this (fwd) | PyTorch / this (fwd+bwd) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const t = results.find((q) => q.who === torchName && q.frame === r.frame);
    const ratio = (a, b) => (t ? (a / b).toFixed(2) : '–');
    console.log(`| ${r.frame} | ${r.who} | ${r.forward_ms.toFixed(0)} | ${r.forward_backward_ms.toFixed(0)} | ` +
      `${ratio(t?.forward_ms, r.forward_ms)} | ${ratio(t?.forward_backward_ms, r.forward_backward_ms)} |`);
  }
  console.log(info.cuda.compiled
    ? '\nGPU: the CUDA backend has no Conv2d kernels yet; GPU rows not measured.'
    : '\nGPU: this build has no CUDA backend (info().cuda.compiled is false); GPU rows not measured.');
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, info, results, torchNote, otherShare, seconds }, null, 2));
}

main();
