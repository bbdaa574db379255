// Normalisation statistics of the training features: the reference normalises with ONE scalar
// mean and std over every train frame and channel (dataloader.py, torch.mean / torch.std, which is
// the unbiased n−1 estimate); per-channel means and stds are kept as an option. Sums are float64
// and shifted by the first value seen, so the dB values (−313 … +100) lose no precision to
// cancellation over millions of frames.

export interface MeanStd {
  mean: number;
  /** sample standard deviation (n − 1); 0 when fewer than 2 values */
  std: number;
}

export interface FeatureStats {
  /** values behind the global mean/std: frames × channels */
  count: number;
  global: MeanStd & { min: number; max: number };
  per_channel: { mean: number[]; std: number[] };
}

class ShiftedSum {
  private shift: number | null = null;
  private s = 0;
  private s2 = 0;
  n = 0;

  add(x: number): void {
    if (this.shift === null) this.shift = x;
    const d = x - this.shift;
    this.s += d;
    this.s2 += d * d;
    this.n++;
  }

  result(): MeanStd {
    if (this.n === 0 || this.shift === null) return { mean: Number.NaN, std: Number.NaN };
    const m = this.s / this.n;
    const variance = this.n < 2 ? 0 : Math.max(0, (this.s2 - this.s * m) / (this.n - 1));
    return { mean: this.shift + m, std: Math.sqrt(variance) };
  }
}

export class FeatureStatsAccumulator {
  private readonly all = new ShiftedSum();
  private readonly channels: ShiftedSum[];
  private min = Infinity;
  private max = -Infinity;

  constructor(private readonly nChannels: number) {
    this.channels = Array.from({ length: nChannels }, () => new ShiftedSum());
  }

  /** Adds one clip's frames × nChannels row-major values. */
  add(data: Float32Array): void {
    const c = this.nChannels;
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      this.all.add(x);
      this.channels[i % c].add(x);
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    }
  }

  get count(): number {
    return this.all.n;
  }

  result(): FeatureStats {
    if (this.all.n === 0) throw new RangeError('FeatureStatsAccumulator: no values to compute statistics from');
    const per = this.channels.map((ch) => ch.result());
    return {
      count: this.all.n,
      global: { ...this.all.result(), min: this.min, max: this.max },
      per_channel: { mean: per.map((p) => p.mean), std: per.map((p) => p.std) },
    };
  }
}
