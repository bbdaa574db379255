// The GSCv2 prepare step on the synthetic fixture (scripts/make-gscv2-fixture.sh): from the
// folders, from the archives and from a download off a local server; the official split lists,
// the unknown sampling, the silence clips, reuse and redo, and damaged inputs named in errors.
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import wavefile from 'wavefile';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GSC_CLASSES, readClips, SILENCE, UNKNOWN, type Clip } from '../../src/data/gscv2/clips.js';
import { downloadVerified, sha256OfFile } from '../../src/data/gscv2/download.js';
import { clipsPath, COMMAND_WORDS, GSC_DOWNLOAD_BASE, GSC_MAIN, GSC_SHA256, GSC_TEST, type GscInput, metaPath, silenceDir } from '../../src/data/gscv2/layout.js';
import { readGscv2Meta, type Gscv2Meta } from '../../src/data/gscv2/meta.js';
import { prepareGscv2, type PrepareGscv2Options } from '../../src/data/gscv2/prepare.js';
import { loopProgress } from '../../src/data/gscv2/progress.js';
import { silenceValidCount } from '../../src/data/gscv2/silence.js';
import { readWavPcm16 } from '../../src/data/gscv2/wav.js';
import { failure } from './failure.js';
import { describeWithGscv2Fixture, type Gscv2Fixture } from './gscv2-fixture.js';
import { tempDir } from './fixtures.js';
import { useLocalServer } from './local-server.js';

const UNKNOWN_WORDS = ['bed', 'cat', 'dog', 'house'];
const srv = useLocalServer('application/gzip');

async function prepare(o: Partial<PrepareGscv2Options> & { dataDir: string; source: string }): Promise<string[]> {
  const logs: string[] = [];
  await prepareGscv2({ seed: 0, force: false, log: (m) => logs.push(m), ...o });
  return logs;
}

function meta(dataDir: string): Gscv2Meta {
  const got = readGscv2Meta(dataDir);
  if ('problem' in got) throw new Error(got.problem);
  return got.meta;
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

/** A clip's path as `<tree>/<folder>/<file>` (or `silence/<file>`), whichever way it was stored. */
function canonical(fx: Gscv2Fixture, c: Clip): string {
  if (c.path.startsWith('/')) return relative(fx.folderSource, c.path);
  return c.path.replace(/^audio\//, '');
}

const key = (fx: Gscv2Fixture, c: Clip): string => `${c.split} ${c.label} ${c.keyword} ${canonical(fx, c)}`;

/** The first `members` members of an uncompressed tar, without the end-of-archive marker. */
function tarCutAtMember(tar: Buffer, members: number): Buffer {
  let off = 0;
  for (let k = 0; k < members; k++) {
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return tar.subarray(0, off);
}

/** The absolute WAV file of a clip. */
const wavOf = (dataDir: string, c: Clip): string => (c.path.startsWith('/') ? c.path : join(dataDir, 'gscv2', c.path));

describeWithGscv2Fixture('preparing GSCv2', (fx) => {
  let tmp: ReturnType<typeof tempDir>;
  let fromFolders: string;
  let folderClips: Clip[];
  let folderLogs: string[];
  beforeAll(async () => {
    tmp = tempDir('evnn-gscv2-prep-');
    fromFolders = join(tmp.dir, 'folders');
    folderLogs = await prepare({ dataDir: fromFolders, source: fx().folderSource });
    folderClips = readClips(clipsPath(fromFolders));
  });
  afterAll(() => tmp?.cleanup());

  describe('from the unpacked folders', () => {
    it('writes clips.arrow and meta.json, reading the source in place', () => {
      const m = meta(fromFolders);
      expect(m.format).toBe('evnn-gscv2');
      expect(m.version).toBe(1);
      expect(m.classes).toEqual([...GSC_CLASSES]);
      expect(m.seed).toBe(0);
      expect(m.source.kind).toBe('directory');
      expect(m.source.location).toBe(fx().folderSource);
      expect(m.source.inputs[GSC_MAIN]).toEqual({ kind: 'folder', location: fx().main, root: fx().main, sha256: null, official: null });
      expect(m.files.clips).toBe('clips.arrow');
      // Clips of the source are stored by absolute path, generated silence relative to gscv2/.
      for (const c of folderClips) {
        if (c.label === SILENCE && c.split !== 'test') expect(c.path).toMatch(/^silence\/[a-z_]+_db-?\d+_V\d+\.wav$/);
        else expect(c.path.startsWith(fx().folderSource + '/')).toBe(true);
      }
      // Nothing is written into the source.
      expect(readdirSync(fx().main).some((e) => e === '_silence_')).toBe(false);
      for (const s of ['train', 'valid', 'test'] as const) {
        expect(folderLogs.some((l) => l.startsWith(`${s}: ${m.counts[s].total} clips (_silence_ `))).toBe(true);
        expect(folderClips.filter((c) => c.split === s).length).toBe(m.counts[s].total);
        for (const [i, name] of GSC_CLASSES.entries()) expect(m.counts[s].per_class[name]).toBe(folderClips.filter((c) => c.split === s && c.label === i).length);
      }
    });

    it('splits the keywords by the official lists, and takes the test split from the test set', () => {
      const validation = new Set(lines(join(fx().main, 'validation_list.txt')));
      const testing = new Set(lines(join(fx().main, 'testing_list.txt')));
      expect(validation.size).toBeGreaterThan(0);
      expect(testing.size).toBeGreaterThan(0);
      for (const c of folderClips.filter((c) => c.split !== 'test' && c.label !== SILENCE)) {
        const entry = relative(fx().main, c.path);
        expect(testing.has(entry), entry).toBe(false);
        expect(validation.has(entry)).toBe(c.split === 'valid');
      }
      for (const word of COMMAND_WORDS) {
        const files = readdirSync(join(fx().main, word)).map((f) => `${word}/${f}`);
        const got = (s: string): string[] => folderClips.filter((c) => c.split === s && c.keyword === word).map((c) => relative(fx().main, c.path)).sort();
        expect(got('train')).toEqual(files.filter((f) => !validation.has(f) && !testing.has(f)).sort());
        expect(got('valid')).toEqual(files.filter((f) => validation.has(f)).sort());
        expect(folderClips.filter((c) => c.keyword === word).every((c) => c.label === GSC_CLASSES.indexOf(word as (typeof GSC_CLASSES)[number]))).toBe(true);
      }
      // Test: every WAV of the test set, by its folder; unknown clips name their word.
      const test = folderClips.filter((c) => c.split === 'test');
      const expected: string[] = [];
      for (const folder of readdirSync(fx().test).sort()) for (const f of readdirSync(join(fx().test, folder))) expected.push(`${folder}/${f}`);
      expect(test.map((c) => relative(fx().test, c.path)).sort()).toEqual(expected.sort());
      for (const c of test) {
        const folder = relative(fx().test, c.path).split('/')[0];
        expect(GSC_CLASSES[c.label]).toBe(folder);
        if (c.label === UNKNOWN) expect(UNKNOWN_WORDS).toContain(c.keyword);
        else expect(c.keyword).toBe(folder);
      }
      expect(test.some((c) => c.label === SILENCE && /\/_silence_\/\d+\.wav$/.test(c.path))).toBe(true);
      expect(test.some((c) => c.label === UNKNOWN && c.path.endsWith('.wav.wav'))).toBe(true);
    });

    it('samples ceil(nYes/nWords) train and ceil(400/nWords) valid clips per unknown word from its split of the lists', () => {
      const m = meta(fromFolders);
      const nYes = readdirSync(join(fx().main, 'yes')).length;
      expect(m.rules.unknown).toMatchObject({ words: UNKNOWN_WORDS, n_yes: nYes, train_per_word: Math.ceil(nYes / 4), valid_per_word: 100, valid_target: 400 });
      const validation = new Set(lines(join(fx().main, 'validation_list.txt')));
      const testing = new Set(lines(join(fx().main, 'testing_list.txt')));
      for (const word of UNKNOWN_WORDS) {
        const files = readdirSync(join(fx().main, word)).map((f) => `${word}/${f}`);
        const trainPool = files.filter((f) => !validation.has(f) && !testing.has(f));
        const validPool = files.filter((f) => validation.has(f));
        const train = folderClips.filter((c) => c.split === 'train' && c.keyword === word);
        const valid = folderClips.filter((c) => c.split === 'valid' && c.keyword === word);
        expect(trainPool.length).toBeGreaterThan(Math.ceil(nYes / 4)); // the fixture has enough to sample from
        expect(train.length).toBe(Math.ceil(nYes / 4));
        expect(valid.length).toBe(Math.min(100, validPool.length)); // capped by what exists
        for (const c of train) expect(trainPool).toContain(relative(fx().main, c.path));
        for (const c of valid) expect(validPool).toContain(relative(fx().main, c.path));
        expect([...train, ...valid].every((c) => c.label === UNKNOWN)).toBe(true);
      }
      expect(m.counts.train.per_class._unknown_).toBe(4 * Math.ceil(nYes / 4));
    });

    it('cuts 3 x nYes one-second silence clips; the three gains of one index share a slice; valid takes whole slices', () => {
      const m = meta(fromFolders);
      const n = readdirSync(join(fx().main, 'yes')).length;
      const files = readdirSync(silenceDir(fromFolders)).filter((f) => f.endsWith('.wav'));
      expect(files.length).toBe(3 * n);
      const byIndex = new Map<number, Map<number, string>>();
      for (const f of files) {
        const mm = /^([a-z_]+)_db(-?\d+)_V(\d+)\.wav$/.exec(f);
        expect(mm, f).not.toBeNull();
        const i = Number(mm![3]);
        if (!byIndex.has(i)) byIndex.set(i, new Map());
        byIndex.get(i)!.set(Number(mm![2]), f);
      }
      expect([...byIndex.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      const noiseUsed = new Set<string>();
      for (const [, gains] of byIndex) {
        expect([...gains.keys()].sort((a, b) => a - b)).toEqual([-10, -5, 0]);
        const noise = [...gains.values()].map((f) => f.replace(/_db.*$/, ''));
        expect(new Set(noise).size).toBe(1);
        const s0 = readWavPcm16(join(silenceDir(fromFolders), gains.get(0)!)).samples;
        const s5 = readWavPcm16(join(silenceDir(fromFolders), gains.get(-5)!)).samples;
        const s10 = readWavPcm16(join(silenceDir(fromFolders), gains.get(-10)!)).samples;
        expect([s0.length, s5.length, s10.length]).toEqual([16000, 16000, 16000]);
        // The same slice at three gains: each sample is the 0 dB one scaled and rounded.
        let maxAbs = 0;
        let worst = 0;
        for (let k = 0; k < 16000; k++) {
          worst = Math.max(worst, Math.abs(s5[k] - s0[k] * 10 ** (-5 / 20)), Math.abs(s10[k] - s0[k] * 10 ** (-10 / 20)));
          maxAbs = Math.max(maxAbs, Math.abs(s0[k]));
        }
        expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(maxAbs).toBeGreaterThan(100); // noise, not digital silence
        noiseUsed.add(noise[0]);
      }
      expect(noiseUsed.size).toBeGreaterThan(1); // more than one noise file is used
      const validCount = silenceValidCount(n);
      expect(validCount).toBe(Math.round(0.3 * n));
      const silence = folderClips.filter((c) => c.label === SILENCE && c.split !== 'test');
      const valid = silence.filter((c) => c.split === 'valid');
      expect(valid.length).toBe(validCount);
      expect(m.rules.silence).toMatchObject({ per_gain: n, gains_db: [-10, -5, 0], samples: 16000, valid: validCount, noise_files: ['brown_noise', 'pink_noise', 'white_noise'] });
      const slice = (c: Clip): string => c.path.replace(/_db-?\d+_/, '_');
      const validSlices = new Set(valid.map(slice));
      expect(validSlices.size).toBe(Math.ceil(validCount / 3));
      expect(silence.filter((c) => c.split === 'train').some((c) => validSlices.has(slice(c)))).toBe(false);
      expect(silence.length + m.rules.silence.unused).toBe(3 * n);
      expect(m.rules.silence.unused).toBe(3 * Math.ceil(validCount / 3) - validCount);
    });

    it('the reference numbers of the valid-silence rule', () => {
      expect(silenceValidCount(4044)).toBe(400);
      expect(silenceValidCount(28)).toBe(8);
      expect(silenceValidCount(1)).toBe(0);
    });
  });

  describe('from the archives', () => {
    it('extracts them under gscv2/audio/ and gives the same clips as the folders', async () => {
      const dataDir = join(tmp.dir, 'archives');
      await prepare({ dataDir, source: fx().archiveSource });
      const clips = readClips(clipsPath(dataDir));
      expect(clips.map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));
      for (const c of clips) expect(c.path).toMatch(/^(audio\/speech_commands_(v0\.02|test_set_v0\.02)|silence)\//);
      for (const c of clips.slice(0, 20)) expect(existsSync(wavOf(dataDir, c))).toBe(true);
      const m = meta(dataDir);
      const inputMain = m.source.inputs[GSC_MAIN];
      expect(inputMain.kind).toBe('archive');
      expect(inputMain.location).toBe(fx().mainArchive);
      expect(inputMain.sha256).toBe(await sha256OfFile(fx().mainArchive));
      expect(inputMain.official).toBe(false);
      expect(m.source.inputs[GSC_TEST].root).toBe(join(dataDir, 'gscv2', 'audio', GSC_TEST));
      expect(readdirSync(join(dataDir, 'gscv2', 'audio')).sort()).toEqual([GSC_MAIN, GSC_TEST].sort());
      // A second, forced prepare reuses nothing but gives the same clips.
      const logs = await prepare({ dataDir, source: fx().archiveSource, force: true });
      expect(logs.some((l) => l.startsWith('extracting '))).toBe(true);
      expect(readClips(clipsPath(dataDir)).map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));
    });

    it('a damaged or truncated .tar.gz is an error naming it, and leaves nothing extracted', async () => {
      for (const [name, damage, why] of [
        ['truncated', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)), 'zlib: unexpected end of file'],
        ['garbage', (b: Buffer) => Buffer.concat([b.subarray(0, 10), Buffer.alloc(5000, 7)]), 'zlib: invalid block type'],
        ['not-a-tar', () => gzipSync(Buffer.alloc(5000, 7)), 'TAR_ENTRY_INVALID: checksum failure'],
        // Cut at a member boundary and gzipped again: only the missing end-of-archive marker tells.
        ['cut-members', (b: Buffer) => gzipSync(tarCutAtMember(gunzipSync(b), 20)), 'the tar archive ends without its end-of-archive marker (truncated?)'],
      ] as [string, (b: Buffer) => Buffer, string][]) {
        const source = join(tmp.dir, `damaged-${name}`);
        cpSync(fx().archiveSource, source, { recursive: true });
        const archive = join(source, 'speech_commands_v0.02.tar.gz');
        writeFileSync(archive, damage(readFileSync(archive)));
        const dataDir = join(tmp.dir, `damaged-${name}-data`);
        const err = await failure(prepare({ dataDir, source }));
        expect(err.file).toBe(archive);
        expect(err.message).toBe(`speech_commands_v0.02.tar.gz: damaged or unreadable archive: ${why}`);
        expect(existsSync(join(dataDir, 'gscv2', 'audio', GSC_MAIN))).toBe(false);
        expect(readdirSync(join(dataDir, 'gscv2', 'audio'))).toEqual([]);
        expect(existsSync(metaPath(dataDir))).toBe(false);
      }
    });

    it('a source holding neither folder nor archive is an error naming what is missing', async () => {
      const source = join(tmp.dir, 'half');
      cpSync(fx().archiveSource, source, { recursive: true });
      rmSync(join(source, 'speech_commands_test_set_v0.02.tar.gz'));
      const err = await failure(prepare({ dataDir: join(tmp.dir, 'half-data'), source }));
      expect(err.file).toBe(join(source, GSC_TEST));
      expect(err.message).toContain(`${GSC_TEST}: neither the folder`);
    });
  });

  describe('reuse and redo', () => {
    let dataDir: string;
    beforeEach(() => {
      dataDir = join(tmp.dir, `reuse-${Math.random().toString(36).slice(2)}`);
    });

    it('skips a prepared directory, redoes it when forced, and rewrites silence only when missing or forced', async () => {
      await prepare({ dataDir, source: fx().folderSource });
      const clipsMtime = statSync(clipsPath(dataDir)).mtimeMs;
      const oneSilence = join(silenceDir(dataDir), readdirSync(silenceDir(dataDir)).find((f) => f.endsWith('.wav'))!);
      const silenceMtime = statSync(oneSilence).mtimeMs;

      const again = await prepare({ dataDir, source: fx().folderSource });
      expect(again).toEqual([expect.stringMatching(/^GSCv2 already prepared in .* train\/valid\/test clips\); reusing it$/)]);
      expect(statSync(clipsPath(dataDir)).mtimeMs).toBe(clipsMtime);

      // Interrupted: no meta.json. The next run redoes it, keeping the silence clips that are there.
      rmSync(metaPath(dataDir));
      const someSilence = readdirSync(silenceDir(dataDir)).filter((f) => f.endsWith('.wav'));
      rmSync(join(silenceDir(dataDir), someSilence[5]));
      const redo = await prepare({ dataDir, source: fx().folderSource });
      expect(redo[0]).toMatch(/^preparing GSCv2 in .* \(.*meta\.json is missing\)$/);
      expect(redo).toContain(`silence: 1 clips written, ${someSilence.length - 1} kept in ${silenceDir(dataDir)}`);
      expect(existsSync(join(silenceDir(dataDir), someSilence[5]))).toBe(true);
      expect(statSync(oneSilence).mtimeMs).toBe(silenceMtime);
      expect(readClips(clipsPath(dataDir)).map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));

      const forced = await prepare({ dataDir, source: fx().folderSource, force: true });
      expect(forced[0]).toMatch(/\(forced\)$/);
      expect(forced).toContain(`silence: ${someSilence.length} clips written, 0 kept in ${silenceDir(dataDir)}`);
      expect(readClips(clipsPath(dataDir)).map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));
    });

    it('re-prepares for another seed, with another unknown sample and other silence', async () => {
      await prepare({ dataDir, source: fx().folderSource, seed: 7 });
      const logs = await prepare({ dataDir, source: fx().folderSource, seed: 7 });
      expect(logs[0]).toMatch(/reusing it$/);
      const seven = readClips(clipsPath(dataDir));
      expect(meta(dataDir).seed).toBe(7);
      const back = await prepare({ dataDir, source: fx().folderSource, seed: 0 });
      expect(back[0]).toMatch(/re-preparing GSCv2 in .*: it was prepared with seed 7; asked for 0$/);
      expect(readClips(clipsPath(dataDir)).map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));
      const unknownOf = (cs: Clip[]): string[] => cs.filter((c) => c.label === UNKNOWN && c.split === 'train').map((c) => c.path);
      expect(unknownOf(seven)).not.toEqual(unknownOf(folderClips));
      // The keyword split does not depend on the seed.
      const kw = (cs: Clip[]): string[] => cs.filter((c) => c.label > UNKNOWN).map((c) => `${c.split} ${c.path}`);
      expect(kw(seven)).toEqual(kw(folderClips));
    });
  });

  describe('damaged WAV files', () => {
    const bad = (channels: number, rate: number, depth: string, samples: ArrayLike<number> | ArrayLike<number>[]): Uint8Array => {
      const w = new wavefile.WaveFile();
      w.fromScratch(channels, rate, depth, samples);
      return w.toBuffer();
    };
    const cases: [string, (good: Buffer) => Uint8Array, RegExp][] = [
      ['8 kHz', () => bad(1, 8000, '16', new Int16Array(8000)), /has a sample rate of 8000 Hz; expected 16000 Hz$/],
      ['stereo', () => bad(2, 16000, '16', [new Int16Array(16000), new Int16Array(16000)]), /has 2 channels; expected mono$/],
      ['float', () => bad(1, 16000, '32f', new Float32Array(16000)), /is 32-bit float; expected 16-bit PCM$/],
      ['truncated', (good) => good.subarray(0, good.length - 1000), /truncated: the data chunk declares \d+ bytes but only \d+ are present$/],
    ];
    for (const [what, make, message] of cases) {
      it(`a ${what} clip fails prepare, naming the file`, async () => {
        const source = join(tmp.dir, `bad-${what.replace(/\s/g, '')}`);
        cpSync(fx().folderSource, source, { recursive: true });
        const validation = new Set(lines(join(source, GSC_MAIN, 'validation_list.txt')));
        const target = readdirSync(join(source, GSC_MAIN, 'left')).find((f) => !validation.has(`left/${f}`))!;
        const file = join(source, GSC_MAIN, 'left', target);
        writeFileSync(file, make(readFileSync(file)));
        const dataDir = join(tmp.dir, `bad-${what.replace(/\s/g, '')}-data`);
        const err = await failure(prepare({ dataDir, source }));
        expect(err.file).toBe(file);
        expect(err.message.startsWith(`${target}: `)).toBe(true);
        expect(err.message).toMatch(message);
        expect(existsSync(metaPath(dataDir))).toBe(false);
      });
    }

    it('a damaged file in the test set or in _background_noise_ is named too', async () => {
      const source = join(tmp.dir, 'bad-noise');
      cpSync(fx().folderSource, source, { recursive: true });
      const noise = join(source, GSC_MAIN, '_background_noise_', 'pink_noise.wav');
      writeFileSync(noise, bad(1, 44100, '16', new Int16Array(44100)));
      const err = await failure(prepare({ dataDir: join(tmp.dir, 'bad-noise-data'), source }));
      expect(err.file).toBe(noise);
      expect(err.message).toBe('pink_noise.wav: has a sample rate of 44100 Hz; expected 16000 Hz');
      copyFileSync(join(fx().main, '_background_noise_', 'pink_noise.wav'), noise);
      const silence = join(source, GSC_TEST, '_silence_', '0.wav');
      writeFileSync(silence, readFileSync(silence).subarray(0, 100));
      const err2 = await failure(prepare({ dataDir: join(tmp.dir, 'bad-noise-data'), source }));
      expect(err2.file).toBe(silence);
    });
  });

  describe('downloading', () => {
    let checksums: Record<GscInput, string>;
    beforeAll(async () => {
      checksums = { [GSC_MAIN]: await sha256OfFile(fx().mainArchive), [GSC_TEST]: await sha256OfFile(fx().testArchive) };
    });
    beforeEach(() => {
      srv.served.clear();
      srv.requests.length = 0;
      srv.served.set('/data/speech_commands_v0.02.tar.gz', readFileSync(fx().mainArchive));
      srv.served.set('/data/speech_commands_test_set_v0.02.tar.gz', readFileSync(fx().testArchive));
    });

    it('downloads both archives, verifies them, extracts them and prepares the same clips', async () => {
      const dataDir = join(tmp.dir, 'download');
      const downloadBase = `${srv.base}/data/`;
      const logs = await prepare({ dataDir, source: 'download', downloadBase, checksums });
      expect(srv.requests).toEqual(['/data/speech_commands_v0.02.tar.gz', '/data/speech_commands_test_set_v0.02.tar.gz']);
      expect(logs).toContain(`downloading ${downloadBase}speech_commands_v0.02.tar.gz (${(readFileSync(fx().mainArchive).length / 2 ** 20).toFixed(1)} MiB)`);
      expect(readdirSync(join(dataDir, 'gscv2', 'download')).sort()).toEqual(['speech_commands_test_set_v0.02.tar.gz', 'speech_commands_v0.02.tar.gz']);
      expect(readClips(clipsPath(dataDir)).map((c) => key(fx(), c))).toEqual(folderClips.map((c) => key(fx(), c)));
      const m = meta(dataDir);
      expect(m.source).toMatchObject({ kind: 'download', location: downloadBase });
      expect(m.source.inputs[GSC_TEST]).toMatchObject({ kind: 'download', location: `${downloadBase}speech_commands_test_set_v0.02.tar.gz`, sha256: checksums[GSC_TEST], official: false });

      // Prepared: reused without a request; forced: re-extracted from the stored, re-verified archives.
      srv.requests.length = 0;
      await prepare({ dataDir, source: 'download', downloadBase, checksums });
      const forced = await prepare({ dataDir, source: 'download', downloadBase, checksums, force: true });
      expect(srv.requests).toEqual([]);
      expect(forced).toContain(`verifying the downloaded ${join(dataDir, 'gscv2', 'download', 'speech_commands_v0.02.tar.gz')}`);
      // An interrupted prepare after the downloads: the extracted folders are reused, nothing is fetched.
      rmSync(metaPath(dataDir));
      const redo = await prepare({ dataDir, source: 'download', downloadBase, checksums });
      expect(srv.requests).toEqual([]);
      expect(redo).toContain(`using ${join(dataDir, 'gscv2', 'audio', GSC_MAIN)} (extracted from the verified download before)`);
    });

    it('a checksum mismatch names the file and both hashes, and keeps no download', async () => {
      const dataDir = join(tmp.dir, 'download-bad');
      const wrong = { ...checksums, [GSC_TEST]: 'f'.repeat(64) };
      const err = await failure(prepare({ dataDir, source: 'download', downloadBase: `${srv.base}/data/`, checksums: wrong }));
      expect(err.file).toBe(`${srv.base}/data/speech_commands_test_set_v0.02.tar.gz`);
      expect(err.message).toContain(`speech_commands_test_set_v0.02.tar.gz: SHA-256 mismatch: expected ${'f'.repeat(64)}, got ${checksums[GSC_TEST]}`);
      expect(readdirSync(join(dataDir, 'gscv2', 'download'))).toEqual(['speech_commands_v0.02.tar.gz']);
      expect(existsSync(metaPath(dataDir))).toBe(false);
      // A 404 names the URL.
      srv.served.clear();
      const e404 = await failure(prepare({ dataDir: join(tmp.dir, 'download-404'), source: 'download', downloadBase: `${srv.base}/data/`, checksums }));
      expect(e404.message).toBe(`speech_commands_v0.02.tar.gz: download from ${srv.base}/data/speech_commands_v0.02.tar.gz failed: HTTP 404 Not Found`);
    });

    it('a partial download restarts cleanly when the server ignores ranges', async () => {
      const dir = join(tmp.dir, 'restart');
      const target = join(dir, 'speech_commands_test_set_v0.02.tar.gz');
      const bytes = readFileSync(fx().testArchive);
      cpSync(fx().testArchive, `${target}.part`);
      writeFileSync(`${target}.part`, Buffer.concat([Buffer.from('junk that must not survive'), bytes.subarray(0, 1000)]));
      const logs: string[] = [];
      await downloadVerified({ url: `${srv.base}/data/speech_commands_test_set_v0.02.tar.gz`, target, sha256: checksums[GSC_TEST], log: (m) => logs.push(m) });
      expect(logs[0]).toBe('the server does not resume downloads here (HTTP 200); downloading speech_commands_test_set_v0.02.tar.gz from the start');
      expect(readFileSync(target).equals(bytes)).toBe(true);
      expect(existsSync(`${target}.part`)).toBe(false);
    });

    describe('with a server that serves ranges', () => {
      const ranges: string[] = [];
      let server: Server;
      let base = '';
      let body = Buffer.alloc(0);
      /** When set, the server sends only this many bytes and then drops the connection. */
      let cutAt: number | null = null;
      beforeAll(async () => {
        body = readFileSync(fx().testArchive);
        server = createServer((req, res) => {
          const range = req.headers.range;
          ranges.push(range ?? '');
          let start = 0;
          const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
          if (m) {
            start = Number(m[1]);
            if (start >= body.length) {
              res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
              return;
            }
            res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
          } else {
            res.writeHead(200, { 'content-length': body.length });
          }
          if (cutAt !== null) {
            res.write(body.subarray(start, cutAt));
            setTimeout(() => res.destroy(), 50);
          } else {
            res.end(body.subarray(start));
          }
        });
        await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await new Promise<void>((ok) => server.close(() => ok()));
      });

      it('an interrupted download keeps its part file and the next attempt resumes it', async () => {
        const target = join(tmp.dir, 'resume', 'speech_commands_test_set_v0.02.tar.gz');
        const url = `${base}/speech_commands_test_set_v0.02.tar.gz`;
        cutAt = Math.floor(body.length / 3);
        const err = await failure(downloadVerified({ url, target, sha256: checksums[GSC_TEST], log: () => {} }));
        expect(err.file).toBe(url);
        expect(err.message).toMatch(/^speech_commands_test_set_v0\.02\.tar\.gz: download from .* was interrupted after \d+ bytes \(run again to resume\)/);
        expect(existsSync(target)).toBe(false);
        const kept = statSync(`${target}.part`).size;
        expect(kept).toBeGreaterThan(0);
        expect(kept).toBeLessThan(body.length);

        cutAt = null;
        ranges.length = 0;
        const logs: string[] = [];
        await downloadVerified({ url, target, sha256: checksums[GSC_TEST], log: (m) => logs.push(m) });
        expect(ranges).toEqual([`bytes=${kept}-`]);
        expect(logs[0]).toMatch(/^resuming the download of speech_commands_test_set_v0\.02\.tar\.gz at /);
        expect(readFileSync(target).equals(body)).toBe(true);
        expect(existsSync(`${target}.part`)).toBe(false);
      });

      it('a complete part file (interrupted before the rename) is verified and kept; a damaged one is fetched again', async () => {
        const target = join(tmp.dir, 'complete', 'speech_commands_test_set_v0.02.tar.gz');
        const url = `${base}/speech_commands_test_set_v0.02.tar.gz`;
        cpSync(fx().testArchive, `${target}.part`);
        ranges.length = 0;
        await downloadVerified({ url, target, sha256: checksums[GSC_TEST], log: () => {} });
        expect(ranges).toEqual([`bytes=${body.length}-`]);
        expect(readFileSync(target).equals(body)).toBe(true);

        rmSync(target);
        const damaged = Buffer.from(body);
        damaged[100] ^= 0xff;
        writeFileSync(`${target}.part`, damaged);
        ranges.length = 0;
        const logs: string[] = [];
        await downloadVerified({ url, target, sha256: checksums[GSC_TEST], log: (m) => logs.push(m) });
        expect(ranges).toEqual([`bytes=${body.length}-`, '']);
        expect(logs[0]).toMatch(/is as long as the file but does not verify/);
        expect(readFileSync(target).equals(body)).toBe(true);
      });
    });
  });

  it('pins the official URL and checksums', () => {
    expect(GSC_DOWNLOAD_BASE).toBe('https://storage.googleapis.com/download.tensorflow.org/data/');
    expect(GSC_SHA256).toEqual({
      [GSC_MAIN]: 'af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58',
      [GSC_TEST]: 'cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df',
    });
  });
});

describe('the progress bar of the long loops', () => {
  const sink = (isTTY: boolean): Writable & { isTTY: boolean; text: string } => {
    const w = new Writable({
      write(chunk: Buffer, _enc, done) {
        w.text += chunk.toString();
        done();
      },
    }) as Writable & { isTTY: boolean; text: string };
    w.isTTY = isTTY;
    w.text = '';
    return w;
  };

  it('draws on a terminal and stays silent elsewhere', () => {
    const tty = sink(true);
    const bar = loopProgress('checking WAV files', 10, 'files', tty);
    for (let i = 0; i < 10; i++) bar.tick();
    bar.done();
    expect(tty.text).toContain('checking WAV files');
    const pipe = sink(false);
    const quiet = loopProgress('checking WAV files', 10, 'files', pipe);
    quiet.tick(5);
    quiet.done();
    expect(pipe.text).toBe('');
  });
});
