// `prepare ptb` / `prepare wikitext2` from a folder or an archive: tokenisation into
// {train,valid,test}.arrow + meta.json, the vocabulary-size check, reuse, and the registry module.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadLmTokens, prepareLmCorpus, type PrepareLmOptions } from '../../src/data/lm-corpus.js';
import { PTB, WIKITEXT2, type LmCorpusSpec } from '../../src/data/lm-files.js';
import { getDataset } from '../../src/data/registry.js';
import { dataSchema } from '../../src/config/data.js';
import { failure } from './failure.js';
import { tempDir } from './fixtures.js';
import {
  PTB_IDS, PTB_NAMES, PTB_TEXT, PTB_VOCAB, readJson, SPLITS, wikitextZip, WT2_IDS, WT2_NAMES, WT2_TEXT, WT2_VOCAB, writeCorpus, writeFile,
  writeSimpleExamplesTgz,
} from './lm-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'datasets');
});
afterEach(() => tmp.cleanup());

const prepare = (spec: LmCorpusSpec, source: string, o: Partial<PrepareLmOptions> = {}) =>
  prepareLmCorpus(spec, { dataDir, source, allowOtherVocab: true, ...o });

describe('prepare ptb / wikitext2 from local files', () => {
  it('a folder of ptb.*.txt: train/valid/test.arrow and meta.json with vocabulary and counts', async () => {
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    const logs: string[] = [];
    const meta = await prepare(PTB, src, { log: (m) => logs.push(m) });
    const dir = join(dataDir, 'ptb');
    for (const s of SPLITS) expect([...loadLmTokens(PTB, dataDir, s)]).toEqual(PTB_IDS[s]);
    const onDisk = readJson(join(dir, 'meta.json'));
    expect(onDisk).toMatchObject({
      dataset: 'ptb',
      format_version: 1,
      source: { kind: 'directory', location: src },
      input_files: { train: join(src, 'ptb.train.txt'), valid: join(src, 'ptb.valid.txt'), test: join(src, 'ptb.test.txt') },
      official: false,
      allow_other_vocab: true,
      vocabulary_size: PTB_VOCAB.length,
      vocabulary: PTB_VOCAB,
      sizes: { train: 14, valid: 8, test: 10 },
      lines: { train: 3, valid: 2, test: 2 },
      files: { train: 'train.arrow', valid: 'valid.arrow', test: 'test.arrow' },
    });
    expect((onDisk.word_counts as number[])[PTB_VOCAB.indexOf('<eos>')]).toBe(7);
    expect(meta.vocabulary).toEqual(PTB_VOCAB);
    expect(logs.some((l) => l.includes('inputs differ from the official Penn Treebank files'))).toBe(true);
    // meta.json is written last.
    expect(statSync(join(dir, 'meta.json')).mtimeMs).toBeGreaterThanOrEqual(statSync(join(dir, 'test.arrow')).mtimeMs);
  });

  it("Mikolov's simple-examples tree, EvNN's renamed files, and the .tgz archive give the same tokens", async () => {
    await prepare(PTB, writeCorpus(tmp.dir, 'a', PTB_NAMES, PTB_TEXT));
    const direct = readFileSync(join(dataDir, 'ptb', 'train.arrow'));

    const tree = join(tmp.dir, 'b');
    writeCorpus(tree, 'simple-examples/data', PTB_NAMES, PTB_TEXT);
    const m1 = await prepare(PTB, tree, { force: true });
    expect(m1.input_files.valid).toBe(join(tree, 'simple-examples', 'data', 'ptb.valid.txt'));
    expect(readFileSync(join(dataDir, 'ptb', 'train.arrow')).equals(direct)).toBe(true);

    const renamed = writeCorpus(tmp.dir, 'c', { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' }, PTB_TEXT);
    await prepare(PTB, renamed, { force: true });
    expect(readFileSync(join(dataDir, 'ptb', 'train.arrow')).equals(direct)).toBe(true);

    const tgz = await writeSimpleExamplesTgz(join(tmp.dir, 'd'));
    const m2 = await prepare(PTB, tgz, { force: true });
    expect(m2.source).toEqual({ kind: 'archive', location: tgz });
    expect(m2.input_files.train).toBe(`${tgz}#simple-examples/data/ptb.train.txt`);
    for (const s of SPLITS) expect([...loadLmTokens(PTB, dataDir, s)]).toEqual(PTB_IDS[s]);
  });

  it('wikitext2 from the wikitext-2-v1 zip layout and from a folder', async () => {
    const zip = writeFile(join(tmp.dir, 'wikitext-2-v1.zip'), wikitextZip());
    const meta = await prepare(WIKITEXT2, zip);
    expect(meta.vocabulary).toEqual(WT2_VOCAB);
    expect(meta.input_files.test).toBe(`${zip}#wikitext-2/wiki.test.tokens`);
    for (const s of SPLITS) expect([...loadLmTokens(WIKITEXT2, dataDir, s)]).toEqual(WT2_IDS[s]);
    const unzipped = join(tmp.dir, 'unzipped');
    writeCorpus(unzipped, 'wikitext-2', WT2_NAMES, WT2_TEXT);
    const m2 = await prepare(WIKITEXT2, unzipped);
    expect(m2.input_files.train).toBe(join(unzipped, 'wikitext-2', 'wiki.train.tokens'));
    for (const s of SPLITS) expect([...loadLmTokens(WIKITEXT2, dataDir, s)]).toEqual(WT2_IDS[s]);
  });

  it('refuses a vocabulary of another size than the official one unless allowed', async () => {
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    const err = await failure(prepare(PTB, src, { allowOtherVocab: false }));
    expect(err.file).toBe(src);
    expect(err.message).toBe(
      `Penn Treebank: the files in ${src} give a vocabulary of ${PTB_VOCAB.length} words, not the official 10000 (not the official files?); ` +
        'pass --allow-other-vocab (in a config: data.allow_other_vocab: true) to use them anyway',
    );
    expect(existsSync(join(dataDir, 'ptb'))).toBe(false);
    const zip = writeFile(join(tmp.dir, 'w.zip'), wikitextZip());
    expect((await failure(prepare(WIKITEXT2, zip, { allowOtherVocab: false }))).message).toContain(`give a vocabulary of ${WT2_VOCAB.length} words, not the official 33278`);
  });

  it('names the missing or damaged file', async () => {
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    rmSync(join(src, 'ptb.valid.txt'));
    let err = await failure(prepare(PTB, src));
    expect(err.file).toBe(join(src, 'ptb.valid.txt'));
    expect(err.message).toBe(`ptb.valid.txt: not found in ${src} (next to ptb.train.txt, at ptb.valid.txt)`);

    const empty = join(tmp.dir, 'empty');
    writeFile(join(empty, 'x.txt'), 'x');
    err = await failure(prepare(PTB, empty));
    expect(err.message).toBe(
      `ptb.train.txt: not found in ${empty} (looked for ptb.train.txt, train.txt, data/ptb.train.txt, data/train.txt, ` +
        'simple-examples/data/ptb.train.txt, simple-examples/data/train.txt, PennTreebank/ptb.train.txt, PennTreebank/train.txt)',
    );

    writeFileSync(join(src, 'ptb.valid.txt'), '');
    err = await failure(prepare(PTB, src));
    expect(err.message).toBe('ptb.valid.txt: contains no text');

    writeFileSync(join(src, 'ptb.valid.txt'), Buffer.from([0x20, 0xc3, 0x28, 0x0a]));
    err = await failure(prepare(PTB, src));
    expect(err.file).toBe(join(src, 'ptb.valid.txt'));
    expect(err.message).toMatch(/^ptb\.valid\.txt: not valid UTF-8 text/);

    const tgz = await writeSimpleExamplesTgz(join(tmp.dir, 't'));
    const cut = writeFile(join(tmp.dir, 'cut.tgz'), readFileSync(tgz).subarray(0, 60));
    err = await failure(prepare(PTB, cut));
    expect(err.file).toBe(cut);
    expect(err.message).toMatch(/^cut\.tgz: damaged tar archive: /);

    const zip = wikitextZip();
    const badZip = writeFile(join(tmp.dir, 'bad.zip'), zip.subarray(0, zip.length - 30));
    err = await failure(prepare(WIKITEXT2, badZip));
    expect(err.file).toBe(badZip);
    expect(err.message).toMatch(/^bad\.zip: damaged zip archive: /);

    const notArchive = writeFile(join(tmp.dir, 'notes.txt'), 'hello');
    err = await failure(prepare(PTB, notArchive));
    expect(err.message).toBe('notes.txt: not a zip, tar or gzipped tar archive');

    const wrongTree = writeFile(join(tmp.dir, 'w2.zip'), wikitextZip());
    err = await failure(prepare(PTB, wrongTree));
    expect(err.file).toBe(wrongTree);
    expect(err.message).toMatch(new RegExp(`^ptb\\.train\\.txt: not found in the archive ${wrongTree} \\(looked for ptb\\.train\\.txt, `));

    const missing = join(tmp.dir, 'nowhere');
    err = await failure(prepare(PTB, missing));
    expect(err.message).toBe(`Penn Treebank source ${missing} does not exist (give a folder, a .tgz/.tar/.zip archive, or download)`);
  });

  it('reuses a prepared corpus unless forced or asked for another source; a damaged split names the file', async () => {
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    await prepare(PTB, src);
    const logs: string[] = [];
    const log = (m: string) => logs.push(m);
    const before = readFileSync(join(dataDir, 'ptb', 'meta.json'), 'utf8');
    await prepare(PTB, src, { log });
    await prepareLmCorpus(PTB, { dataDir, log }); // no source: whatever is prepared
    expect(logs.filter((l) => l.includes('already prepared')).length).toBe(2);
    expect(readFileSync(join(dataDir, 'ptb', 'meta.json'), 'utf8')).toBe(before);

    const other = writeCorpus(tmp.dir, 'other', PTB_NAMES, { ...PTB_TEXT, test: ' zebra \n' });
    logs.length = 0;
    const m = await prepare(PTB, other, { log });
    expect(logs[0]).toBe(`re-preparing Penn Treebank in ${join(dataDir, 'ptb')}: it was prepared from directory ${src}; asked for ${other}`);
    expect(m.vocabulary[m.vocabulary.length - 1]).toBe('zebra');

    const valid = join(dataDir, 'ptb', 'valid.arrow');
    writeFileSync(valid, readFileSync(valid).subarray(0, 40));
    expect(() => loadLmTokens(PTB, dataDir, 'valid')).toThrow(/^valid\.arrow: incomplete Arrow IPC file/);
    rmSync(valid);
    logs.length = 0;
    await prepare(PTB, other, { log });
    expect(logs[0]).toBe(`re-preparing Penn Treebank in ${join(dataDir, 'ptb')}: ${valid} is missing`);
    expect(loadLmTokens(PTB, dataDir, 'valid').length).toBe(8);
    rmSync(join(dataDir, 'ptb', 'meta.json'));
    expect(() => loadLmTokens(PTB, dataDir, 'test')).toThrow(
      `ptb is not prepared in ${join(dataDir, 'ptb')}: ${join(dataDir, 'ptb', 'meta.json')} does not exist; run \`evnn prepare ptb --source DIR|ARCHIVE|download\``,
    );
  });
});

describe('the ptb and wikitext2 registry modules', () => {
  it('serve metadata and tokens; open() says batching belongs to the LM step', async () => {
    const ptb = getDataset('ptb');
    expect(getDataset('wikitext2').name).toBe('wikitext2');
    expect(ptb.views).toEqual([]);
    expect(ptb.arrowSchema().fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(['token: Int32']);
    const src = writeCorpus(tmp.dir, 'ptb-src', PTB_NAMES, PTB_TEXT);
    await ptb.prepareByName({ dataDir, source: src, allowOtherVocab: true, force: false, log: () => {} });
    const data = dataSchema.parse({ dataset: 'ptb', source: src });
    expect(ptb.metadata(data, dataDir)).toEqual({ task: 'language-model', numClasses: PTB_VOCAB.length, vocabulary: PTB_VOCAB });
    expect(() => ptb.metadata(data)).toThrow('ptb: metadata() needs the data directory');
    expect([...ptb.tokens!(dataDir, 'valid')]).toEqual(PTB_IDS.valid);
    expect([...ptb.tokens!(dataDir, 'train', 4)]).toEqual(PTB_IDS.train.slice(0, 4));
    expect(() => ptb.open(dataDir, data)).toThrow('language-model batching is done by the LM training step (not yet implemented)');
    await expect(ptb.prepareByName({ dataDir, source: src, validFraction: 0.1, force: false, log: () => {} })).rejects.toThrow(
      '--valid-fraction: not for ptb, which comes with official train, valid and test files',
    );
    await expect(getDataset('mnist').prepareByName({ dataDir, allowOtherVocab: true, force: false, log: () => {} })).rejects.toThrow(
      '--allow-other-vocab: for the language-model corpora (ptb, wikitext2) only, not mnist',
    );
    // A config's data section goes through prepare() with its source and allow_other_vocab.
    await ptb.prepare({ dataDir, data: { ...data, allow_other_vocab: true }, force: true, log: () => {} });
    expect(readJson(join(dataDir, 'ptb', 'meta.json')).allow_other_vocab).toBe(true);
  });
});
