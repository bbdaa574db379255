// The GSCv2 feature step: the reference's log filterbank (mel bin edges, frame counts, the eps
// floor, a sine checked against a naive float64 DFT), frame labels, train-only statistics, and the
// step itself on a small synthetic clips.arrow with WAVs written by wavefile: files, skip when
// done, redo when clips.arrow changes, and DatasetErrors naming damaged files.
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Field, Float32, Int32, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import wavefile from 'wavefile';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { writeClips, type Clip } from '../../src/data/gscv2/clips.js';
import { FeatureStatsAccumulator } from '../../src/data/gscv2/feature-stats.js';
import { clipsPath, featureMetaPath, featureSplitPath, gscv2Dir } from '../../src/data/gscv2/feature-meta.js';
import { openFeatureSplit, readFeatureMeta, readFeatureSplitFile } from '../../src/data/gscv2/feature-split.js';
import { extractGscv2Features } from '../../src/data/gscv2/features.js';
import { frameLabels } from '../../src/data/gscv2/frame-labels.js';
import { FEATURE_SETTINGS, frameCount, hammingWindow, LogFilterbank, melBinEdges, melFilterbank } from '../../src/data/gscv2/log-filterbank.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir('evnn-gscv2-feat-');
afterAll(() => tmp.cleanup());

const EDGES = [6, 14, 23, 33, 45, 58, 74, 92, 112, 136, 163, 195, 231, 273, 320, 376, 439, 512];
/** 20·log10(float64 eps) as float32: what an exactly-zero band becomes. */
const FLOOR_DB = Math.fround(20 * Math.log10(2 ** -52));

function sine(n: number, hz: number, amplitude: number, phase = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 16000 + phase)));
}

/**
 * The reference's recipe computed independently of the module: samples × 2^16, numpy's Hamming,
 * a naive O(n²) DFT of the frame zero-padded to 1024 (only the 262 nonzero terms), magnitude / 1024,
 * dense triangles from EDGES, 20·log10 with the eps floor.
 */
function naiveFeatures(x: Int16Array): number[][] {
  const N = 1024;
  const F = 262;
  const T = Math.max(1, Math.ceil(Math.abs(x.length - F) / F));
  const fb = Array.from({ length: 16 }, (_, m) => {
    const row = new Float64Array(513);
    const [a, b, c] = [EDGES[m], EDGES[m + 1], EDGES[m + 2]];
    for (let k = a; k < b; k++) row[k] = (k - a) / (b - a);
    for (let k = b; k < c; k++) row[k] = (c - k) / (c - b);
    return row;
  });
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const frame = Array.from({ length: F }, (_, i) => (x[t * F + i] ?? 0) * 65536 * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (F - 1))));
    const mag = new Float64Array(513);
    for (let k = 0; k <= 512; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < F; n++) {
        re += frame[n] * Math.cos((2 * Math.PI * k * n) / N);
        im -= frame[n] * Math.sin((2 * Math.PI * k * n) / N);
      }
      mag[k] = Math.hypot(re, im) / N;
    }
    out.push(fb.map((row) => {
      let e = 0;
      for (let k = 0; k < 513; k++) e += row[k] * mag[k];
      return 20 * Math.log10(e === 0 ? 2 ** -52 : e);
    }));
  }
  return out;
}

describe('log filterbank (feat_fft)', () => {
  it('maps the 18 mel-spaced edges to the reference bins', () => {
    expect(melBinEdges()).toEqual(EDGES);
    const filters = melFilterbank();
    expect(filters).toHaveLength(16);
    filters.forEach((f, m) => {
      expect(f.start).toBe(EDGES[m]);
      expect(f.weights.length).toBe(EDGES[m + 2] - EDGES[m]);
      expect(f.weights[0]).toBe(0);
      expect(f.weights[EDGES[m + 1] - EDGES[m]]).toBe(1); // peak at the centre bin
    });
  });

  it('uses numpy.hamming, the symmetric window', () => {
    const w = hammingWindow(262);
    expect(w[0]).toBeCloseTo(0.08, 15);
    expect(w[261]).toBeCloseTo(0.08, 15);
    for (let i = 0; i < 262; i++) expect(w[i]).toBeCloseTo(w[261 - i], 14);
    expect(hammingWindow(1)[0]).toBe(1);
  });

  it('counts frames as the reference (and gives short clips one frame)', () => {
    expect(FEATURE_SETTINGS.frame_length).toBe(Math.round(0.016384 * 16000));
    expect([16000, 12000, 8000].map((n) => frameCount(n))).toEqual([61, 45, 30]);
    expect([0, 1, 100, 261, 262, 263, 524, 525].map((n) => frameCount(n))).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
    const fb = new LogFilterbank();
    expect(fb.extract(new Int16Array(16000)).frames).toBe(61);
    const short = fb.extract(sine(100, 1000, 5000));
    expect(short.frames).toBe(1);
    expect(short.data.length).toBe(16);
  });

  it('gives the eps floor for digital silence', () => {
    expect(FLOOR_DB).toBeCloseTo(-313.0712, 3);
    const { frames, data } = new LogFilterbank().extract(new Int16Array(12000));
    expect(frames).toBe(45);
    expect(data.every((v) => v === FLOOR_DB)).toBe(true);
  });

  it('agrees with a naive float64 DFT and puts a sine in its mel band', () => {
    // 1156.25 Hz is FFT bin 74 exactly, the centre of band 5 (edges 58, 74, 92).
    const x = sine(16000, (74 * 16000) / 1024, 8000, 0.3);
    const got = new LogFilterbank().extract(x);
    const want = naiveFeatures(x);
    expect(got.frames).toBe(want.length);
    let worst = 0;
    for (let t = 0; t < got.frames; t++) {
      for (let m = 0; m < 16; m++) worst = Math.max(worst, Math.abs(got.data[t * 16 + m] - want[t][m]));
      const row = Array.from(got.data.subarray(t * 16, t * 16 + 16));
      expect(row.indexOf(Math.max(...row))).toBe(5);
    }
    expect(worst).toBeLessThan(1e-3);
    // A 300 Hz sine (bin 19.2) lies between the centres of bands 1 (14) and 2 (23): band 1.
    const low = new LogFilterbank().extract(sine(2000, 300, 8000));
    const row = Array.from(low.data.subarray(0, 16));
    expect(row.indexOf(Math.max(...row))).toBe(1);
    const lowWant = naiveFeatures(sine(2000, 300, 8000));
    for (let m = 0; m < 16; m++) expect(low.data[m]).toBeCloseTo(lowWant[0][m], 3);
  });

  it('scales int16 samples by 2^16 as soundfile reading int32 does', () => {
    const a = new LogFilterbank().extract(sine(1000, 1000, 2000));
    const want = naiveFeatures(sine(1000, 1000, 2000));
    expect(a.data[4]).toBeCloseTo(want[0][4], 3);
    // 20·log10(2^16) ≈ 96.33 dB above the same signal read as int16
    expect(want[0][4]).toBeGreaterThan(96);
  });
});

describe('frame labels', () => {
  it('labels frames 2 … T−3 with the clip class, the two at each end silence', () => {
    const l = frameLabels(61, 7);
    expect(Array.from(l.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(l.subarray(59))).toEqual([0, 0]);
    expect(l.subarray(2, 59).every((v) => v === 7)).toBe(true);
    expect(Array.from(frameLabels(5, 3))).toEqual([0, 0, 3, 0, 0]);
    expect(Array.from(frameLabels(4, 3))).toEqual([0, 0, 0, 0]);
    expect(Array.from(frameLabels(1, 3))).toEqual([0]);
  });
});

describe('feature statistics', () => {
  it('computes the global and per-channel mean and (n−1) std', () => {
    const acc = new FeatureStatsAccumulator(2);
    const a = Float32Array.from([-313, 10, -313, 20]);
    const b = Float32Array.from([50, 30]);
    acc.add(a);
    acc.add(b);
    const all = [-313, 10, -313, 20, 50, 30];
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    const std = Math.sqrt(all.reduce((s, v) => s + (v - mean) ** 2, 0) / (all.length - 1));
    const r = acc.result();
    expect(r.count).toBe(6);
    expect(r.global.mean).toBeCloseTo(mean, 10);
    expect(r.global.std).toBeCloseTo(std, 10);
    expect(r.global.min).toBe(-313);
    expect(r.global.max).toBe(50);
    expect(r.per_channel.mean[0]).toBeCloseTo((-313 - 313 + 50) / 3, 10);
    expect(r.per_channel.std[1]).toBeCloseTo(10, 10); // 10, 20, 30
  });
});

// ---- the step on synthetic clips ----

function writeWav(file: string, samples: Int16Array, rate = 16000): void {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, rate, '16', samples);
  writeFileSync(file, wav.toBuffer());
}

interface Fixture {
  dataDir: string;
  clips: Clip[];
  samples: Map<string, Int16Array>;
}

/** A data dir whose clips.arrow lists train clips (quiet sines) and loud valid/test noise. */
function makeFixture(name: string): Fixture {
  const dataDir = join(tmp.dir, name);
  const dir = gscv2Dir(dataDir);
  const clips: Clip[] = [];
  const samples = new Map<string, Int16Array>();
  const add = (split: Clip['split'], label: number, file: string, x: Int16Array, absolute = false) => {
    const full = join(dir, file);
    writeWav(full, x);
    clips.push({ split, label, keyword: String(label), path: absolute ? full : file });
    samples.set(full, x);
  };
  mkdirSync(dir, { recursive: true });
  add('train', 11, 'a.wav', sine(16000, 500, 3000));
  add('train', 2, 'b.wav', sine(12000, 2000, 1000), true);
  add('train', 0, 'c.wav', new Int16Array(8000));
  let seed = 7;
  const noise = (n: number) => Int16Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) % 60000) - 30000);
  add('valid', 5, 'd.wav', noise(16000));
  add('test', 1, 'e.wav', noise(9000));
  add('test', 9, 'f.wav', sine(200, 700, 20000));
  writeClips(clipsPath(dataDir), clips);
  return { dataDir, clips, samples };
}

const quietRun = (dataDir: string, force = false) => {
  const lines: string[] = [];
  return extractGscv2Features({ dataDir, force, log: (m) => lines.push(m) }).then(() => lines);
};

describe('extractGscv2Features', () => {
  const fx = makeFixture('step');

  it('writes the three splits and meta.json', async () => {
    const lines = await quietRun(fx.dataDir);
    expect(lines.filter((l) => l.startsWith('features '))).toHaveLength(3); // one line per split off a TTY
    const meta = readFeatureMeta(fx.dataDir);
    expect(meta).toMatchObject({
      format: 'evnn-gscv2-features', version: 1, n_features: 16, n_classes: 12, clips_file: 'clips.arrow',
      splits: { train: { file: 'train.arrow', clips: 3, frames: 61 + 45 + 30 }, valid: { clips: 1, frames: 61 }, test: { clips: 2, frames: 34 + 1 } },
    });
    expect(meta.settings).toEqual(JSON.parse(JSON.stringify(FEATURE_SETTINGS)));
    expect(meta.clips_sha256).toMatch(/^[0-9a-f]{64}$/);

    const fb = new LogFilterbank();
    for (const split of ['train', 'valid', 'test'] as const) {
      const s = openFeatureSplit(fx.dataDir, split);
      const clips = fx.clips.filter((c) => c.split === split);
      expect(s.count).toBe(clips.length);
      let at = 0;
      clips.forEach((c, i) => {
        const full = c.path.startsWith('/') ? c.path : join(gscv2Dir(fx.dataDir), c.path);
        const want = fb.extract(fx.samples.get(full)!);
        expect(s.frames[i]).toBe(want.frames);
        expect(s.offsets[i]).toBe(at);
        expect(s.labels[i]).toBe(c.label);
        expect(s.data.subarray(at * 16, (at + want.frames) * 16)).toEqual(want.data);
        expect(s.targets.subarray(at, at + want.frames)).toEqual(frameLabels(want.frames, c.label));
        at += want.frames;
      });
      expect(s.data.length).toBe(at * 16);
    }
  });

  it('takes the statistics from the train split only', () => {
    const meta = readFeatureMeta(fx.dataDir);
    const train = openFeatureSplit(fx.dataDir, 'train').data;
    const mean = train.reduce((s, v) => s + v, 0) / train.length;
    const std = Math.sqrt(train.reduce((s, v) => s + (v - mean) ** 2, 0) / (train.length - 1));
    expect(meta.stats.source).toBe('train');
    expect(meta.stats.count).toBe(train.length);
    expect(meta.stats.mean).toBeCloseTo(mean, 6);
    expect(meta.stats.std).toBeCloseTo(std, 6);
    expect(meta.stats.min).toBe(FLOOR_DB); // the silent train clip
    const ch3 = train.filter((_, i) => i % 16 === 3);
    expect(meta.stats.channel_mean[3]).toBeCloseTo(ch3.reduce((s, v) => s + v, 0) / ch3.length, 6);
    // the loud valid/test noise would move the mean far
    const all = [...train, ...openFeatureSplit(fx.dataDir, 'valid').data, ...openFeatureSplit(fx.dataDir, 'test').data];
    expect(Math.abs(all.reduce((s, v) => s + v, 0) / all.length - meta.stats.mean)).toBeGreaterThan(10);
  });

  it('is skipped when done, redone when forced or when clips.arrow changes', async () => {
    const mtime = statSync(featureSplitPath(fx.dataDir, 'train')).mtimeMs;
    const again = await quietRun(fx.dataDir);
    expect(again.join('\n')).toContain('already extracted');
    expect(statSync(featureSplitPath(fx.dataDir, 'train')).mtimeMs).toBe(mtime);

    const forced = await quietRun(fx.dataDir, true);
    expect(forced.join('\n')).toContain('re-extracting GSCv2 features');
    expect(forced.join('\n')).toContain('forced');

    const before = readFeatureMeta(fx.dataDir).clips_sha256;
    const extra = join(gscv2Dir(fx.dataDir), 'g.wav');
    writeWav(extra, sine(16000, 3000, 4000));
    writeClips(clipsPath(fx.dataDir), [...fx.clips, { split: 'valid', label: 4, keyword: 'left', path: 'g.wav' }]);
    const redo = await quietRun(fx.dataDir);
    expect(redo.join('\n')).toContain('clips.arrow has changed');
    const meta = readFeatureMeta(fx.dataDir);
    expect(meta.clips_sha256).not.toBe(before);
    expect(meta.splits.valid).toMatchObject({ clips: 2, frames: 122 });
    expect(openFeatureSplit(fx.dataDir, 'valid').labels).toEqual(Int32Array.from([5, 4]));
  });

  it('writes and reads an empty split', async () => {
    const dataDir = join(tmp.dir, 'empty-split');
    mkdirSync(gscv2Dir(dataDir), { recursive: true });
    writeWav(join(gscv2Dir(dataDir), 'x.wav'), sine(16000, 440, 1000));
    writeClips(clipsPath(dataDir), [{ split: 'train', label: 3, keyword: 'go', path: 'x.wav' }]);
    await quietRun(dataDir);
    const valid = openFeatureSplit(dataDir, 'valid');
    expect([valid.count, valid.data.length, valid.targets.length]).toEqual([0, 0, 0]);
    expect(readFeatureMeta(dataDir).splits.test).toMatchObject({ clips: 0, frames: 0 });
  });

  it('draws a bar on a terminal', async () => {
    let out = '';
    const tty = Object.assign(new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } }), { isTTY: true, columns: 120 });
    const lines: string[] = [];
    await extractGscv2Features({ dataDir: fx.dataDir, force: true, log: (m) => lines.push(m), progress: tty });
    expect(out).toContain('features train');
    expect(lines.filter((l) => l.startsWith('features '))).toHaveLength(3);
  });
});

describe('damaged inputs', () => {
  it('names a truncated features Arrow file', async () => {
    const fx = makeFixture('truncated');
    await quietRun(fx.dataDir);
    const file = featureSplitPath(fx.dataDir, 'train');
    truncateSync(file, statSync(file).size - 100);
    const err = (() => { try { openFeatureSplit(fx.dataDir, 'train'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe(file);
    expect((err as DatasetError).message).toMatch(/train\.arrow: incomplete Arrow IPC file.*truncated/);
    // the step notices the size change and redoes the features
    const lines = await quietRun(fx.dataDir);
    expect(lines.join('\n')).toContain('train.arrow has');
    expect(openFeatureSplit(fx.dataDir, 'train').count).toBe(3);
  });

  it('names wrong columns, rows whose lengths disagree, and a file meta.json does not describe', async () => {
    const fx = makeFixture('columns');
    await quietRun(fx.dataDir);
    const file = featureSplitPath(fx.dataDir, 'valid');
    writeFileSync(file, tableToIPC(new Table({ token: vectorFromArray(['x'], new Utf8()) }), 'file'));
    expect(() => openFeatureSplit(fx.dataDir, 'valid')).toThrow(/valid\.arrow: unexpected columns \[token\]/);

    // one row claiming 2 frames with 16 values (should be 32)
    const fields = [
      new Field('features', new List(new Field('item', new Float32(), false)), false),
      new Field('frames', new Int32(), false),
      new Field('label', new Int32(), false),
      new Field('targets', new List(new Field('item', new Int32(), false)), false),
    ];
    const schema = new Schema(fields);
    const children = [
      makeData({ type: fields[0].type as List<Float32>, length: 1, nullCount: 0, valueOffsets: Int32Array.from([0, 16]), child: makeData({ type: new Float32(), length: 16, data: new Float32Array(16) }) }),
      makeData({ type: new Int32(), length: 1, data: Int32Array.from([2]) }),
      makeData({ type: new Int32(), length: 1, data: Int32Array.from([3]) }),
      makeData({ type: fields[3].type as List<Int32>, length: 1, nullCount: 0, valueOffsets: Int32Array.from([0, 2]), child: makeData({ type: new Int32(), length: 2, data: new Int32Array(2) }) }),
    ];
    const bad = tableToIPC(new Table([new RecordBatch(schema, makeData({ type: new Struct(fields), length: 1, children }))]), 'file');
    writeFileSync(file, bad);
    expect(() => readFeatureSplitFile(file)).toThrow(/valid\.arrow: row 0: features holds 16 values, expected frames × 16 = 32/);

    // a valid file from another run: the counts disagree with meta.json
    writeFileSync(file, readFileSync(featureSplitPath(fx.dataDir, 'test')));
    const err = (() => { try { openFeatureSplit(fx.dataDir, 'valid'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe(file);
    expect((err as DatasetError).message).toContain('meta.json says 1 and 61');
  });

  it('names a damaged WAV and leaves no finished features behind', async () => {
    const fx = makeFixture('wav');
    const wav = join(gscv2Dir(fx.dataDir), 'd.wav');
    writeFileSync(wav, readFileSync(wav).subarray(0, 30));
    const err = await quietRun(fx.dataDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe(wav);
    expect((err as DatasetError).message).toContain('d.wav');
    expect(() => statSync(featureMetaPath(fx.dataDir))).toThrow();
    expect(() => readFeatureMeta(fx.dataDir)).toThrow(DatasetError);
  });

  it('names a missing clips.arrow', async () => {
    const err = await quietRun(join(tmp.dir, 'nothing')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).file).toBe(clipsPath(join(tmp.dir, 'nothing')));
  });
});
