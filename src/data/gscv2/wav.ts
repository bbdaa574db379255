// Reading and writing the 16 kHz, 16-bit PCM, mono WAV files of Google Speech Commands. The
// `wavefile` package parses and builds the RIFF structure; this module insists on the one format
// the keyword-spotting pipeline handles, so a clip in any other format (or a cut-off file) fails
// with a DatasetError naming the file and what is wrong, instead of silently becoming bad features.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import wavefile from 'wavefile';
import { writeFileAtomic } from '../../util/atomic.js';
import { DatasetError } from '../errors.js';

export const GSC_SAMPLE_RATE = 16000;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** The fields of wavefile's `fmt` object this module reads (the package types it as `object`). */
interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  /** For WAVE_FORMAT_EXTENSIBLE: the GUID as four 32-bit words, the first being the format code. */
  subformat: number[];
}

interface DataChunk {
  chunkSize: number;
  samples: Uint8Array;
}

export interface WavPcm16 {
  samples: Int16Array;
  sampleRate: number;
}

function formatName(fmt: FmtChunk): string {
  const code = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE && fmt.subformat.length > 0 ? fmt.subformat[0] : fmt.audioFormat;
  if (code === WAVE_FORMAT_PCM) return `${fmt.bitsPerSample}-bit PCM`;
  if (code === 3) return `${fmt.bitsPerSample}-bit float`;
  if (code === 6) return 'A-law';
  if (code === 7) return 'mu-law';
  if (code === 17) return 'IMA ADPCM';
  return `format code ${code}`;
}

/** The samples of a WAV file's bytes; `file` names it in errors. */
export function parseWavPcm16(bytes: Uint8Array, file: string): WavPcm16 {
  const name = basename(file);
  const fail = (what: string): never => {
    throw new DatasetError(file, `${name}: ${what}`);
  };
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new DatasetError(file, `${name}: not a readable WAV file (${(err as Error).message})`, { cause: err });
  }
  const fmt = wav.fmt as unknown as FmtChunk;
  const data = wav.data as unknown as DataChunk;
  const pcm = fmt.audioFormat === WAVE_FORMAT_PCM || (fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE && fmt.subformat[0] === WAVE_FORMAT_PCM);
  if (!pcm || fmt.bitsPerSample !== 16) fail(`is ${formatName(fmt)}; expected 16-bit PCM`);
  if (fmt.numChannels !== 1) fail(`has ${fmt.numChannels} channels; expected mono`);
  if (fmt.sampleRate !== GSC_SAMPLE_RATE) fail(`has a sample rate of ${fmt.sampleRate} Hz; expected ${GSC_SAMPLE_RATE} Hz`);
  if (fmt.blockAlign !== 2) fail(`has a block size of ${fmt.blockAlign} bytes; expected 2 for 16-bit mono`);
  // wavefile cuts the data chunk at the end of the buffer without complaint: a file cut off in
  // transfer shows up only as fewer bytes than the chunk header declares.
  if (data.samples.length < data.chunkSize) fail(`truncated: the data chunk declares ${data.chunkSize} bytes but only ${data.samples.length} are present`);
  if (data.chunkSize % 2 !== 0) fail(`damaged: the data chunk of ${data.chunkSize} bytes is not a whole number of 16-bit samples`);
  if (data.chunkSize === 0) fail('has no samples');

  const count = data.chunkSize / 2;
  const samples = new Int16Array(count);
  const raw = data.samples;
  // RIFX files are big-endian; everything else (RIFF, RF64) little-endian.
  const bigEndian = wav.container === 'RIFX';
  const view = new DataView(raw.buffer, raw.byteOffset, count * 2);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(2 * i, !bigEndian);
  return { samples, sampleRate: fmt.sampleRate };
}

/** The samples of a 16 kHz PCM16 mono WAV file; anything else is a DatasetError naming the file. */
export function readWavPcm16(file: string): WavPcm16 {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DatasetError(file, `${basename(file)}: cannot be read (${(err as Error).message})`, { cause: err });
  }
  return parseWavPcm16(bytes, file);
}

/** The bytes of a PCM16 mono WAV file holding `samples`. */
export function encodeWavPcm16(samples: Int16Array, sampleRate = GSC_SAMPLE_RATE): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return wav.toBuffer();
}

/** Writes `samples` as a PCM16 mono WAV file, atomically (a reader never sees half a file). */
export function writeWavPcm16(file: string, samples: Int16Array, sampleRate = GSC_SAMPLE_RATE): void {
  writeFileAtomic(file, encodeWavPcm16(samples, sampleRate));
}
