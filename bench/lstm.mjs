#!/usr/bin/env node
// Benchmark of evnn's dense LSTM (native CPU engine) against torch.nn.LSTM on the same shapes and
// thread count. Prints median wall-clock times and the evnn/PyTorch ratio measured in this run
// (below 1 means evnn is faster); nothing here is a pass/fail test.
//
//   node bench/lstm.mjs [--threads N] [--kernel builtin|openblas] [--reps 5] [--warmup 1]
//                       [--T 100] [--N 64] [--C 512] [--H 512] [--no-torch] [--addon FILE]
//
// --addon times another build of the addon (default build/Release/evnn.node) with this checkout's
// binding API. Without --kernel every GEMM kernel compiled into the addon is timed. PyTorch runs
// through bench/torch_lstm.py with the first of $EVNN_PYTHON, python3, /usr/bin/python3 that
// imports torch. h0 = c0 = 0; the backward gets dy = ones and no gradient of hN or cN, as
// PyTorch's out.sum().backward(). The driver is bench/dense-rnn.mjs, shared with bench/gru.mjs.
import { runDenseRnnBench } from './dense-rnn.mjs';

runDenseRnnBench({
  name: 'lstm', title: 'LSTM', torchClass: 'torch.nn.LSTM', gates: 4,
  forwardExtra: { c0: null }, backwardExtra: { dhN: null, dcN: null },
}, process.argv.slice(2));
