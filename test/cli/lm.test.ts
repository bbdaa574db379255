// `evnn run` on a language-model config end to end, on a small corpus in PTB's format written by
// the test: an EGRU language model learns (test perplexity well below the unigram perplexity of
// its training text), logs its per-layer sparsity, names its parameters as EvNN does, and resumes
// after SIGKILL to the same numbers.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { evnn, evnnBackground, tempDir, writeConfig } from './helpers.js';

// Sentences from a tiny grammar: the next word is often (not always) predictable from the last.
function corpus(lines: number, seed: number): string {
  const rng = new Rng(seed);
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(rng.uniform() * a.length)];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(` ${pick(['the', 'a'])} ${pick(['cat', 'dog', 'bird'])} ${pick(['sat', 'ran', 'flew'])} ${pick(['on', 'over'])} the ${pick(['mat', 'hill', 'tree'])} `);
  }
  return `${out.join('\n')}\n`;
}

function unigramPerplexity(text: string): number {
  const words = text.split('\n').filter((l, i, a) => i < a.length - 1).flatMap((l) => [...l.split(/\s+/).filter(Boolean), '<eos>']);
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const n = words.length;
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
  return Math.exp(h);
}

const config = (source: string) => `
seed: 4
threads: 2
data: { dataset: ptb, source: ${JSON.stringify(source)}, allow_other_vocab: true }
model:
  type: language-model
  emb_dim: 16
  rnn: { type: egru, hidden_size: 24, num_layers: 2, dropout: 0.1, dropconnect: 0.2, thr_mean: 0.1, dampening_factor: 1, pseudo_derivative_support: 1 }
  dropout_words: 0.05
  dropout_emb: 0.1
  dropout_output: 0.1
train:
  epochs: 3
  batch_size: 8
  eval_batch_size: 8
  test_batch_size: 2
  bptt: 12
  optimizer: { type: adamw, lr: 0.01, betas: [0, 0.999], weight_decay: 0.01 }
  thr_lr_scale: 0
  grad_clip: 1
`;

describe('evnn run: language model', () => {
  it('an EGRU language model learns a small PTB-format corpus, logs sparsity per layer, and resumes to the same numbers', async () => {
    const dir = tempDir('lm');
    const src = join(dir, 'ptb-src');
    mkdirSync(src, { recursive: true });
    const train = corpus(400, 1);
    writeFileSync(join(src, 'ptb.train.txt'), train);
    writeFileSync(join(src, 'ptb.valid.txt'), corpus(60, 2));
    writeFileSync(join(src, 'ptb.test.txt'), corpus(60, 3));
    const cfg = writeConfig(dir, 'lm', config(src));
    const dataDir = join(dir, 'datasets');
    const whole = join(dir, 'whole');
    const r = evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', whole]);
    expect(r.stderr + r.stdout).toContain('test perplexity');
    expect(r.stdout).toMatch(/test activity rnns\.0 \d+\.\d\d%, rnns\.1 \d+\.\d\d%/);
    expect(r.code).toBe(0);
    const runDir = join(whole, 'lm', readdirSync(join(whole, 'lm'))[0]);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.metric.name).toBe('perplexity');
    const unigram = unigramPerplexity(train);
    // measured: unigram 12.0; the model 2.59 on test after 3 epochs (the grammar allows about 2.2)
    expect(summary.metric.value).toBeLessThan(0.4 * unigram);
    expect(summary.metric.value).toBeCloseTo(Math.exp(summary.final.test_loss), 6);
    expect(Object.keys(summary.test_activity)).toEqual(['rnns.0', 'rnns.1']);
    for (const a of Object.values(summary.test_activity) as number[]) expect(a > 0 && a < 1).toBe(true);
    const sparsity = tableFromIPC(readFileSync(join(runDir, 'sparsity.arrow')));
    const layers = sparsity.getChild('layer')!.toArray() as string[];
    expect([...new Set(layers)]).toEqual(['rnns.0', 'rnns.1']);
    expect(sparsity.getChild('family')!.get(0)).toBe('egru');
    const activity = sparsity.getChild('activity')!.toArray() as Float64Array;
    expect(activity.every((a) => a > 0 && a < 1)).toBe(true);
    const best = readSafetensors(join(runDir, 'best.safetensors'));
    expect([...best.tensors.keys()]).toEqual(expect.arrayContaining(['embeddings.weight', 'rnns.0.kernel', 'rnns.1.thr', 'decoder.decoder.bias']));

    // Exported under EvNN's names (the tied weight under both), evaluated back from that file.
    const exported = join(dir, 'evnn.safetensors');
    const ex = evnn(['export', cfg, '--out', exported, '--data-dir', dataDir, '--results-dir', whole]);
    expect(ex.stderr).toBe('');
    expect(ex.code).toBe(0);
    const file = readSafetensors(exported);
    expect([...file.tensors.keys()].sort()).toEqual([
      'decoder.decoder.bias', 'decoder.decoder.weight', 'embeddings.weight',
      ...['0', '1'].flatMap((l) => ['bias', 'kernel', 'recurrent_bias', 'recurrent_kernel', 'thr'].map((k) => `rnns.${l}.${k}`)),
    ]);
    expect(Array.from(file.tensors.get('decoder.decoder.weight')!.data)).toEqual(Array.from(file.tensors.get('embeddings.weight')!.data));
    expect(file.metadata).toEqual({});
    const ev = evnn(['eval', cfg, '--checkpoint', exported, '--data-dir', dataDir, '--results-dir', whole]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toContain(`perplexity ${summary.metric.value.toFixed(2)}`);
    // A file with a missing or an extra name is refused, naming it.
    const tensors = Object.fromEntries([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
    const { ['rnns.1.thr']: _thr, ...missing } = tensors;
    writeSafetensors(join(dir, 'missing.safetensors'), missing);
    const m = evnn(['eval', cfg, '--checkpoint', join(dir, 'missing.safetensors'), '--data-dir', dataDir, '--results-dir', whole]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('missing parameter rnns.1.thr');
    writeSafetensors(join(dir, 'extra.safetensors'), { ...tensors, 'rnns.0._max_norm': { shape: [1], data: new Float32Array(1) } });
    const x = evnn(['eval', cfg, '--checkpoint', join(dir, 'extra.safetensors'), '--data-dir', dataDir, '--results-dir', whole]);
    expect(x.code).toBe(1);
    expect(x.stderr).toContain('unknown parameter(s) rnns.0._max_norm');

    // Killed (SIGKILL) after its first checkpoint and run again: the same numbers.
    const cut = join(dir, 'cut');
    const child = evnnBackground(['run', cfg, '--data-dir', dataDir, '--results-dir', cut, '--quiet']);
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    const started = Date.now();
    for (;;) {
      const runs = existsSync(join(cut, 'lm')) ? readdirSync(join(cut, 'lm')) : [];
      if (runs.length && existsSync(join(cut, 'lm', runs[0], 'last.safetensors'))) break;
      if (Date.now() - started > 60_000) throw new Error('no checkpoint appeared');
      await new Promise((res) => setTimeout(res, 5));
    }
    child.kill('SIGKILL');
    await exited;
    const cutDir = join(cut, 'lm', readdirSync(join(cut, 'lm'))[0]);
    expect(existsSync(join(cutDir, 'summary.json')), 'the run was really interrupted').toBe(false);
    expect(evnn(['run', cfg, '--data-dir', dataDir, '--results-dir', cut, '--quiet']).code).toBe(0);
    expect(readFileSync(join(cutDir, 'log.jsonl'), 'utf8')).toContain('"event":"resume"');
    const resumed = JSON.parse(readFileSync(join(cutDir, 'summary.json'), 'utf8'));
    expect(resumed.final).toEqual(summary.final);
  });
});
