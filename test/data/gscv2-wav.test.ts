// readWavPcm16 / writeWavPcm16: a round trip, and every other format or a damaged file refused
// with a DatasetError naming the file and what is wrong.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { encodeWavPcm16, readWavPcm16, writeWavPcm16 } from '../../src/data/gscv2/wav.js';
import { tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('evnn-wav-');
});
afterEach(() => tmp.cleanup());

function wav(channels: number, rate: number, depth: string, samples: ArrayLike<number> | ArrayLike<number>[]): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, rate, depth, samples);
  return w.toBuffer();
}

function failure(file: string): DatasetError {
  let err: unknown = null;
  try {
    readWavPcm16(file);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as DatasetError).file).toBe(file);
  return err as DatasetError;
}

describe('GSCv2 WAV files', () => {
  it('write and read back 16 kHz PCM16 mono, atomically', () => {
    const samples = Int16Array.from({ length: 16000 }, (_, i) => ((i * 37) % 65536) - 32768);
    const file = join(tmp.dir, 'sub', 'clip.wav');
    writeWavPcm16(file, samples);
    expect(readdirSync(join(tmp.dir, 'sub'))).toEqual(['clip.wav']);
    const got = readWavPcm16(file);
    expect(got.sampleRate).toBe(16000);
    expect(got.samples).toEqual(samples);
    // The same bytes as wavefile writes, and readable by wavefile.
    expect(new Uint8Array(readFileSync(file))).toEqual(encodeWavPcm16(samples));
    const back = new wavefile.WaveFile(readFileSync(file));
    expect(Array.from(back.getSamples(false, Int16Array))).toEqual(Array.from(samples));
  });

  it('reads a short clip and the extreme values', () => {
    const file = join(tmp.dir, 'short.wav');
    writeWavPcm16(file, new Int16Array([-32768, 32767, 0, -1, 1]));
    expect(Array.from(readWavPcm16(file).samples)).toEqual([-32768, 32767, 0, -1, 1]);
  });

  it('refuses other sample rates, channel counts and sample formats, naming the file', () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['8k.wav', wav(1, 8000, '16', new Int16Array(800)), /8k\.wav: has a sample rate of 8000 Hz; expected 16000 Hz/],
      ['stereo.wav', wav(2, 16000, '16', [new Int16Array(100), new Int16Array(100)]), /stereo\.wav: has 2 channels; expected mono/],
      ['float.wav', wav(1, 16000, '32f', new Float32Array(100)), /float\.wav: is 32-bit float; expected 16-bit PCM/],
      ['8bit.wav', wav(1, 16000, '8', new Uint8Array(100)), /8bit\.wav: is 8-bit PCM; expected 16-bit PCM/],
      ['24bit.wav', wav(1, 16000, '24', new Int32Array(100)), /24bit\.wav: is 24-bit PCM; expected 16-bit PCM/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(tmp.dir, name);
      writeFileSync(file, bytes);
      expect(failure(file).message).toMatch(message);
    }
  });

  it('refuses a truncated file, an empty data chunk, a file that is not a WAV and a missing one', () => {
    const full = encodeWavPcm16(new Int16Array(1000));
    const cut = join(tmp.dir, 'cut.wav');
    writeFileSync(cut, full.subarray(0, full.length - 501));
    expect(failure(cut).message).toBe('cut.wav: truncated: the data chunk declares 2000 bytes but only 1499 are present');

    const empty = join(tmp.dir, 'empty.wav');
    writeFileSync(empty, encodeWavPcm16(new Int16Array(0)));
    expect(failure(empty).message).toBe('empty.wav: has no samples');

    const text = join(tmp.dir, 'text.wav');
    writeFileSync(text, 'this is not a wave file at all, only text');
    expect(failure(text).message).toMatch(/^text\.wav: not a readable WAV file \(/);

    const header = join(tmp.dir, 'header.wav');
    writeFileSync(header, full.subarray(0, 20));
    expect(failure(header).message).toMatch(/^header\.wav: not a readable WAV file/);

    const missing = join(tmp.dir, 'missing.wav');
    expect(failure(missing).message).toMatch(/^missing\.wav: cannot be read \(ENOENT/);
  });

  it('refuses an odd-sized data chunk', () => {
    const bytes = new Uint8Array(encodeWavPcm16(new Int16Array(10)));
    // data chunk size field at byte 40 of wavefile's canonical 44-byte header
    new DataView(bytes.buffer).setUint32(40, 19, true);
    const file = join(tmp.dir, 'odd.wav');
    writeFileSync(file, bytes);
    expect(failure(file).message).toBe('odd.wav: damaged: the data chunk of 19 bytes is not a whole number of 16-bit samples');
  });
});
