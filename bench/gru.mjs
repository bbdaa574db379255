#!/usr/bin/env node
// Benchmark of evnn's dense GRU (native CPU engine) against torch.nn.GRU on the same shapes and
// thread count. Prints median wall-clock times and the evnn/PyTorch ratio measured in this run
// (below 1 means evnn is faster); nothing here is a pass/fail test.
//
//   node bench/gru.mjs [--threads N] [--kernel builtin|openblas] [--reps 5] [--warmup 1]
//                      [--T 100] [--N 64] [--C 512] [--H 512] [--no-torch] [--addon FILE]
//
// --addon times another build of the addon (default build/Release/evnn.node); it must have this
// checkout's binding API (saved handles), so time an older build with its own checkout's scripts.
// Without --kernel every GEMM kernel compiled into the addon is timed. PyTorch runs through
// bench/torch_gru.py with the first of $EVNN_PYTHON, python3, /usr/bin/python3 that imports torch.
// The driver is bench/dense-rnn.mjs, shared with bench/lstm.mjs.
import { runDenseRnnBench } from './dense-rnn.mjs';

runDenseRnnBench({
  name: 'gru', title: 'GRU', torchClass: 'torch.nn.GRU', gates: 3,
  forwardExtra: {}, backwardExtra: { dhT: null },
}, process.argv.slice(2));
