// Tokenisation as EvNN's data.py (whitespace split, <eos> per line, vocabulary in first-appearance
// order over train, valid, test), the token Arrow files, and EvNN's batchify/get_batch.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeImagesArrow } from '../../src/data/arrow-images.js';
import { DatasetError } from '../../src/data/errors.js';
import { decodeTokensArrow, encodeTokensArrow, readTokensArrow, tokenSchema, writeTokensArrow } from '../../src/data/token-arrow.js';
import { batchify, segment, segmentStarts } from '../../src/data/token-stream.js';
import { decodeText, EOS, splitLines, splitWords, tokeniseCorpus } from '../../src/data/tokens.js';
import { tempDir } from './fixtures.js';
import { PTB_IDS, PTB_TEXT, PTB_VOCAB, SPLITS, WT2_IDS, WT2_TEXT, WT2_VOCAB } from './lm-fixtures.js';

describe('tokenisation (EvNN data.py)', () => {
  it('splits lines as Python text files do and words as str.split()', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb')).toEqual(['a', 'b']);
    expect(splitLines('a\r\nb\rc\n')).toEqual(['a', 'b', 'c']);
    expect(splitLines('\n\n')).toEqual(['', '']);
    expect(splitWords('  a  b\tc \n')).toEqual(['a', 'b', 'c']);
    expect(splitWords(' ')).toEqual([]);
    // Python's whitespace, not JavaScript's: \xa0, \x1c and \x85 split; \ufeff does not.
    expect(splitWords('a\xa0b\x1cc\x85d')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitWords('\ufeffa b')).toEqual(['\ufeffa', 'b']);
  });

  it('PTB: one vocabulary in first-appearance order over train, valid, test; <eos> per line', () => {
    const c = tokeniseCorpus(PTB_TEXT);
    expect(c.vocabulary).toEqual(PTB_VOCAB);
    for (const s of SPLITS) expect([...c.splits[s].tokens]).toEqual(PTB_IDS[s]);
    expect(c.splits.train.lines).toBe(3);
    expect(c.counts[PTB_VOCAB.indexOf('<unk>')]).toBe(4);
    expect(c.counts[PTB_VOCAB.indexOf(EOS)]).toBe(7);
  });

  it('WikiText-2: heading lines are words, a blank line is a lone <eos>', () => {
    const c = tokeniseCorpus(WT2_TEXT);
    expect(c.vocabulary).toEqual(WT2_VOCAB);
    for (const s of SPLITS) expect([...c.splits[s].tokens]).toEqual(WT2_IDS[s]);
    expect(c.splits.train.lines).toBe(7);
  });

  it('decodes UTF-8 strictly, naming the file', () => {
    expect(decodeText(new TextEncoder().encode('Senjō'), '/x/wiki.train.tokens')).toBe('Senjō');
    expect(() => decodeText(new Uint8Array([0x61, 0xff, 0x62]), '/x/wiki.train.tokens')).toThrow(/^wiki\.train\.tokens: not valid UTF-8 text/);
  });
});

describe('token Arrow files', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('round-trips token: int32', () => {
    expect(tokenSchema().fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(['token: Int32']);
    const tokens = Int32Array.from([5, 0, 3, 2147483647, 1]);
    const path = join(tmp.dir, 'train.arrow');
    writeTokensArrow(path, tokens);
    expect([...readTokensArrow(path)]).toEqual([...tokens]);
  });

  it('names the file for damaged, foreign or out-of-vocabulary files', () => {
    const bytes = encodeTokensArrow(Int32Array.from([0, 1, 2, 3]));
    const fails = (b: Uint8Array, vocab?: number) => {
      try {
        decodeTokensArrow(b, '/d/ptb/valid.arrow', vocab);
      } catch (err) {
        expect(err).toBeInstanceOf(DatasetError);
        expect((err as DatasetError).file).toBe('/d/ptb/valid.arrow');
        return (err as Error).message;
      }
      throw new Error('did not fail');
    };
    expect(fails(bytes.subarray(0, bytes.length - 10))).toMatch(/^valid\.arrow: incomplete Arrow IPC file of \d+ bytes/);
    expect(fails(new TextEncoder().encode('hello world, not arrow'))).toBe('valid.arrow: not an Arrow IPC file (no ARROW1 magic at the start)');
    expect(fails(encodeImagesArrow(new Int8Array(1), new Uint8Array(784)))).toBe('valid.arrow: unexpected columns [label, pixels], expected [token]');
    expect(fails(bytes, 3)).toBe('valid.arrow: token id 3 at row 3 is outside the vocabulary 0..2');
    const missing = join(tmp.dir, 'nope.arrow');
    expect(() => readTokensArrow(missing)).toThrow(`nope.arrow: cannot read ${missing}`);
    const garbage = join(tmp.dir, 'g.arrow');
    writeFileSync(garbage, Buffer.concat([Buffer.from('ARROW1\0\0'), Buffer.alloc(64, 7), Buffer.from('ARROW1')]));
    expect(() => readTokensArrow(garbage)).toThrow(/^g\.arrow: damaged Arrow IPC file/);
  });
});

describe('batching (EvNN batchify / get_batch)', () => {
  // 11 tokens, batch 3: 3 steps per column, the last 2 tokens dropped; column b is tokens 3b..3b+2.
  const tokens = Int32Array.from({ length: 11 }, (_, i) => i);
  const b = batchify(tokens, 3);

  it('cuts the stream into batch_size contiguous columns, time-major', () => {
    expect(b.steps).toBe(3);
    expect(b.batchSize).toBe(3);
    expect([...b.data]).toEqual([0, 3, 6, 1, 4, 7, 2, 5, 8]);
    expect(batchify(tokens, 11).steps).toBe(1);
    expect(batchify(tokens, 12).steps).toBe(0);
    expect(() => batchify(tokens, 0)).toThrow('batchSize must be a positive integer, got 0');
  });

  it('segments: target is input one step ahead, clipped at the end of the stream', () => {
    const s0 = segment(b, 0, 2);
    expect([s0.steps, s0.batchSize]).toEqual([2, 3]);
    expect([...s0.input]).toEqual([0, 3, 6, 1, 4, 7]);
    expect([...s0.target]).toEqual([1, 4, 7, 2, 5, 8]);
    const s1 = segment(b, 1, 5);
    expect(s1.steps).toBe(1);
    expect([...s1.input]).toEqual([1, 4, 7]);
    expect([...s1.target]).toEqual([2, 5, 8]);
    expect(() => segment(b, 2, 1)).toThrow('segment start must be an integer in 0..1 (a stream of 3 steps), got 2');
    expect(segmentStarts(3, 2)).toEqual([0]);
    expect(segmentStarts(10, 3)).toEqual([0, 3, 6]);
    expect(segmentStarts(1, 3)).toEqual([]);
  });
});
