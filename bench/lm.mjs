#!/usr/bin/env node
// Training-step throughput of EvNN's language model: tokens/s of one training segment (forward,
// loss over the vocabulary, backward, all dropouts on) for the EGRU at the activity it reaches,
// and for evnn's GRU and LSTM of the same sizes, from one run. The tokens are random (uniform over
// the vocabulary), so the EGRU's activity is that of an untrained model at its initial thresholds.
//
//   node bench/lm.mjs [--preset ptb|quick] [--threads N] [--reps R] [--warmup W] [--families egru,gru,lstm]
//
// ptb: the PTB recipe's sizes (V 10000, 750 → 1350 → 1350 → 750, batch 64, bptt 70);
// quick: configs/ptb-egru-quick.yaml's (200 → 400 → 200, batch 32, bptt 35).
// Needs the built library (npm ci or npx tsc) in dist/.
import { parseArgs } from 'node:util';
import { failer } from './common.mjs';

const fail = failer('lm');
const PRESETS = {
  ptb: { V: 10000, emb: 750, hidden: 1350, layers: 3, N: 64, T: 70, dropconnect: 0.7, thrMean: 0.01, width: 3.6, dropout: 0.25, words: 0.1, embDrop: 0.6, outDrop: 0.5 },
  quick: { V: 10000, emb: 200, hidden: 400, layers: 2, N: 32, T: 35, dropconnect: 0.5, thrMean: 0.05, width: 3.6, dropout: 0.2, words: 0.05, embDrop: 0.3, outDrop: 0.3 },
};

let args;
try {
  args = parseArgs({
    options: {
      preset: { type: 'string', default: 'ptb' }, threads: { type: 'string', default: '2' }, reps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' }, families: { type: 'string', default: 'egru,gru,lstm' }, help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail(`${err.message} (see --help)`);
}
if (args.help) {
  console.log('usage: node bench/lm.mjs [--preset ptb|quick] [--threads N] [--reps R] [--warmup W] [--families egru,gru,lstm]');
  process.exit(0);
}
const p = PRESETS[args.preset];
if (!p) fail(`--preset must be ptb or quick, got "${args.preset}"`);
const int = (name, min) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer >= ${min}, got "${args[name]}"`);
  return v;
};
const threads = int('threads', 1), reps = int('reps', 1), warmup = int('warmup', 0);
const families = args.families.split(',').map((f) => f.trim());
for (const f of families) if (!['egru', 'gru', 'lstm'].includes(f)) fail(`--families lists egru, gru and/or lstm, got "${f}"`);

let lib;
try {
  lib = await import('../dist/models/language-model.js');
} catch (err) {
  fail(`cannot load dist/ (${err.message}); build it with \`npx tsc -p tsconfig.json\``);
}
const { native } = await import('../dist/native/addon.js');
native().setThreads(threads);
const info = native().info();

function tokens(n, seed) {
  const a = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s % p.V;
  }
  return a;
}

console.log(`language-model training step, preset ${args.preset}: V=${p.V}, ${p.emb} → ${new Array(p.layers - 1).fill(p.hidden).join(' → ')} → ${p.emb}, ` +
  `batch ${p.N}, bptt ${p.T}; ${threads} threads, gemm ${info.gemm}, simd ${info.simd}; median of ${reps} after ${warmup} warm-up`);
console.log('a step = forward, cross-entropy over the vocabulary, backward (word, embedding, between-layer and output dropout on; EGRU DropConnect on)');
const rows = [];
for (const type of families) {
  const options = type === 'egru'
    ? { dropconnect: p.dropconnect, thrMean: p.thrMean, dampeningFactor: p.width, pseudoDerivativeSupport: p.width }
    : {};
  const model = new lib.LanguageModel({
    vocabSize: p.V, embDim: p.emb, seed: 1, dropoutWords: p.words, dropoutEmb: p.embDrop, dropoutOutput: p.outDrop,
    rnn: { type, hiddenSizes: [...new Array(p.layers - 1).fill(p.hidden), p.emb], options, dropout: p.dropout },
  });
  const n = p.T * p.N;
  const times = [];
  let activity;
  for (let r = 0; r < warmup + reps; r++) {
    const input = tokens(n, 2 * r + 1);
    const target = tokens(n, 2 * r + 2);
    const t0 = performance.now();
    const res = await model.trainSegment(input, target, p.T, p.N, { epoch: 0, batch: r });
    const ms = performance.now() - t0;
    if (r >= warmup) times.push(ms);
    activity = res.activity;
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  rows.push({ type, ms, tokensPerS: n / (ms / 1000), activity });
  console.log(`  ${type}: ${ms.toFixed(0)} ms per step`);
}
const ref = rows.find((r) => r.type === 'lstm') ?? rows[0];
console.log('\nfamily  ms/step  tokens/s  activity  vs ' + ref.type);
for (const r of rows) {
  console.log(`${r.type.padEnd(6)}  ${r.ms.toFixed(0).padStart(7)}  ${r.tokensPerS.toFixed(0).padStart(8)}  ${r.activity === undefined ? '       -' : `${(100 * r.activity).toFixed(1).padStart(7)}%`}  ${(ref.ms / r.ms).toFixed(2)}x`);
}
