// The GSCv2 front end of the DeltaRNN reference (config/gscdv2/feat_fft.json, "logfbank"): 16 kHz
// audio cut into non-overlapping 262-sample frames, a symmetric Hamming window, a zero-padded
// 1024-point real FFT, magnitude / nfft, 16 triangular mel filters from 100 to 8000 Hz, 20·log10.
// All arithmetic is float64 like numpy's; only the result is rounded to float32, as the reference
// stores it.
import FFT from 'fft.js';

/** Every choice the features depend on; meta.json records it, and a change makes features stale. */
export const FEATURE_SETTINGS = {
  feature: 'logfbank',
  sample_rate: 16000,
  /** frame_size = frame_stride = 0.016384 s in the reference config */
  frame_seconds: 0.016384,
  /** round(0.016384 · 16000) */
  frame_length: 262,
  frame_step: 262,
  /** ceil(|L − 262| / 262) as the reference, but never 0 (a clip of exactly 262 samples gets 1) */
  frame_count: 'max(1, ceil(|L-frame_length|/frame_step))',
  /** clips shorter than a frame give one frame, zero-padded (the reference's abs() does the same) */
  short_clip: 'one zero-padded frame',
  window: 'hamming-symmetric',
  pre_emphasis: 0,
  nfft: 1024,
  spectrum: 'magnitude/nfft',
  n_filters: 16,
  freq_low: 100,
  freq_high: 8000,
  spacing: 'mel',
  mel_scale: '2595*log10(1+f/700)',
  bin_rule: 'floor((nfft+1)*f/sample_rate)',
  /** soundfile reads the int16 PCM as int32, i.e. every sample times 2^16 */
  input_scale: 65536,
  log: '20*log10',
  /** exact zeros become float64 eps before the log (numpy.finfo(float).eps) */
  zero_floor: Number.EPSILON,
  deltas: false,
  /** frames [label_head, T − label_tail) carry the clip's label, the rest silence */
  label_head: 2,
  label_tail: 2,
} as const;

export type FeatureSettings = typeof FEATURE_SETTINGS;

export const N_FILTERS = FEATURE_SETTINGS.n_filters;

/** What one clip gives: `frames` rows of N_FILTERS dB values, row-major. */
export interface ClipFeatures {
  frames: number;
  data: Float32Array;
}

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** n points from a to b as numpy.linspace computes them (i·step + a, the last one exactly b). */
function linspace(a: number, b: number, n: number): number[] {
  const step = (b - a) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : i * step + a));
}

/**
 * The FFT bins of the n_filters + 2 mel-spaced edge frequencies: for the reference's settings
 * [6, 14, 23, 33, 45, 58, 74, 92, 112, 136, 163, 195, 231, 273, 320, 376, 439, 512]. Like the
 * reference, the frequencies are not clipped to Nyquist first.
 */
export function melBinEdges(s: FeatureSettings = FEATURE_SETTINGS): number[] {
  const hz = linspace(hzToMel(s.freq_low), hzToMel(s.freq_high), s.n_filters + 2).map(melToHz);
  return hz.map((f) => Math.floor(((s.nfft + 1) * f) / s.sample_rate));
}

/** One triangular filter, stored sparsely: weights[j] applies to FFT bin start + j. */
export interface MelFilter {
  start: number;
  weights: Float64Array;
}

/**
 * The triangles between consecutive edges: rising over [e[m−1], e[m]), falling over [e[m], e[m+1]).
 * As in the reference, bin e[m+1] itself gets no weight and an empty side (equal edges) is skipped
 * rather than divided by zero.
 */
export function melFilterbank(s: FeatureSettings = FEATURE_SETTINGS): MelFilter[] {
  const e = melBinEdges(s);
  const filters: MelFilter[] = [];
  for (let m = 1; m <= s.n_filters; m++) {
    const [lo, mid, hi] = [e[m - 1], e[m], e[m + 1]];
    const weights = new Float64Array(Math.max(0, hi - lo));
    for (let k = lo; k < mid; k++) weights[k - lo] = (k - lo) / (mid - lo);
    for (let k = mid; k < hi; k++) weights[k - lo] = (hi - k) / (hi - mid);
    filters.push({ start: lo, weights });
  }
  return filters;
}

/** numpy.hamming(n): the symmetric window 0.54 − 0.46·cos(2πi/(n−1)). */
export function hammingWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  if (n === 1) {
    w[0] = 1; // numpy's value for a one-point window (its formula would divide by zero)
    return w;
  }
  for (let i = 0; i < n; i++) w[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

/**
 * Frames of a clip of `samples` samples: ceil(|L − 262| / 262), the reference's count (16000 → 61,
 * 12000 → 45, 8000 → 30; the tail that does not fill a frame is dropped). A clip shorter than a
 * frame gets the reference's single zero-padded frame; a clip of exactly one frame length, where
 * the reference would give 0 frames and no usable sequence, gets 1.
 */
export function frameCount(samples: number, s: FeatureSettings = FEATURE_SETTINGS): number {
  if (!Number.isInteger(samples) || samples < 0) throw new RangeError(`frameCount: sample count must be a non-negative integer, got ${samples}`);
  return Math.max(1, Math.ceil(Math.abs(samples - s.frame_length) / s.frame_step));
}

/**
 * Reusable extractor: owns the FFT plan, window, filters and scratch buffers, so per-clip work
 * allocates only the result.
 */
export class LogFilterbank {
  readonly settings: FeatureSettings;
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly filters: MelFilter[];
  private readonly frameIn: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly magnitude: Float64Array;
  private readonly floorDb: number;

  constructor(s: FeatureSettings = FEATURE_SETTINGS) {
    this.settings = s;
    this.fft = new FFT(s.nfft);
    this.window = hammingWindow(s.frame_length);
    this.filters = melFilterbank(s);
    this.frameIn = new Float64Array(s.nfft); // samples beyond frame_length stay 0: the zero padding of rfft(x, nfft)
    this.spectrum = new Float64Array(2 * s.nfft); // interleaved re/im, as fft.js writes it
    this.magnitude = new Float64Array(s.nfft / 2 + 1);
    this.floorDb = 20 * Math.log10(s.zero_floor);
  }

  /** Log filterbank of one clip's int16 samples (already at settings.sample_rate). */
  extract(samples: Int16Array): ClipFeatures {
    const s = this.settings;
    const frames = frameCount(samples.length, s);
    const nf = this.filters.length;
    const data = new Float32Array(frames * nf);
    const { frameIn, spectrum, magnitude, window } = this;
    const bins = magnitude.length;
    for (let t = 0; t < frames; t++) {
      const at = t * s.frame_step;
      for (let i = 0; i < s.frame_length; i++) {
        const j = at + i;
        frameIn[i] = j < samples.length ? samples[j] * s.input_scale * window[i] : 0;
      }
      this.fft.realTransform(spectrum, frameIn);
      for (let k = 0; k < bins; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        magnitude[k] = Math.sqrt(re * re + im * im) / s.nfft;
      }
      for (let m = 0; m < nf; m++) {
        const { start, weights } = this.filters[m];
        let e = 0;
        for (let j = 0; j < weights.length; j++) e += weights[j] * magnitude[start + j];
        data[t * nf + m] = e === 0 ? this.floorDb : 20 * Math.log10(e);
      }
    }
    return { frames, data };
  }
}
