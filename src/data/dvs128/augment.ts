// EvNN's training augmentation (utils.py: torchvision RandomResizedCrop(128, scale=(0.6, 1),
// NEAREST), then RandomPerspective() (distortion 0.5, p = 0.5, BILINEAR, fill 0), then
// RandomRotation(25) (NEAREST, fill 0)), applied to a sample's whole [T, 2, 128, 128] tensor with
// one draw of parameters per sample. The parameters are drawn as torchvision draws them (from
// evnn's Rng, so the numbers differ from torch's); the three inverse maps follow torchvision's
// tensor code (F.resized_crop → interpolate 'nearest'; F.perspective and F.rotate → grid_sample
// with align_corners=False, zero padding, and for bilinear the fill mask multiplied in) and are
// composed once per sample into one sparse map (≤ 4 weighted source pixels per output pixel),
// which every plane then goes through. Geometry runs in float64 where torch uses float32, so a
// source coordinate that falls within float32 rounding of a pixel boundary may round differently.
import { Rng } from '../../util/rng.js';
import { DVS128_WIDTH } from './layout.js';

const N = DVS128_WIDTH; // square sensor
const PIX = N * N;

export interface CropParams { top: number; left: number; height: number; width: number }

export interface AugmentParams {
  crop: CropParams;
  /** The 8 coefficients mapping output to input coordinates (torchvision's), or null when not applied. */
  perspective: number[] | null;
  /** RandomRotation's angle in degrees. */
  angle: number;
}

/** torch.randint(lo, hi): an integer in [lo, hi). */
const randint = (rng: Rng, lo: number, hi: number): number => lo + rng.int(hi - lo);
const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
/** Python's round (half to even), as torchvision rounds the crop size. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** RandomResizedCrop.get_params for a 128×128 image, scale (0.6, 1), ratio (3/4, 4/3). */
export function sampleCrop(rng: Rng): CropParams {
  const logLo = Math.log(3 / 4);
  const logHi = Math.log(4 / 3);
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = PIX * uniform(rng, 0.6, 1.0);
    const aspect = Math.exp(uniform(rng, logLo, logHi));
    const w = roundHalfEven(Math.sqrt(area * aspect));
    const h = roundHalfEven(Math.sqrt(area / aspect));
    if (w > 0 && w <= N && h > 0 && h <= N) return { top: randint(rng, 0, N - h + 1), left: randint(rng, 0, N - w + 1), height: h, width: w };
  }
  // torchvision's fallback, a centre crop of the whole ratio-clamped image: for a square, all of it.
  return { top: 0, left: 0, height: N, width: N };
}

/** RandomPerspective.get_params (distortion 0.5): end points of the four corners. */
export function samplePerspectiveCorners(rng: Rng): number[][] {
  const half = Math.floor(N / 2);
  const d = Math.floor(0.5 * half);
  return [
    [randint(rng, 0, d + 1), randint(rng, 0, d + 1)],
    [randint(rng, N - d - 1, N), randint(rng, 0, d + 1)],
    [randint(rng, N - d - 1, N), randint(rng, N - d - 1, N)],
    [randint(rng, 0, d + 1), randint(rng, N - d - 1, N)],
  ];
}

/** Solves the 8×8 system for torchvision's perspective coefficients (end points → start points). */
export function perspectiveCoefficients(start: number[][], end: number[][]): number[] {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [ex, ey] = end[i];
    const [sx, sy] = start[i];
    a.push([ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey]);
    b.push(sx);
    a.push([0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey]);
    b.push(sy);
  }
  // Gaussian elimination with partial pivoting (four point pairs determine the map exactly).
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = c + 1; r < 8; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < 8; k++) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  const x = new Array<number>(8).fill(0);
  for (let r = 7; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < 8; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}

/** One draw of the three transforms' parameters, in torchvision's order. */
export function sampleAugment(rng: Rng): AugmentParams {
  const crop = sampleCrop(rng);
  let perspective: number[] | null = null;
  if (rng.uniform() < 0.5) {
    const start = [[0, 0], [N - 1, 0], [N - 1, N - 1], [0, N - 1]];
    perspective = perspectiveCoefficients(start, samplePerspectiveCorners(rng));
  }
  return { crop, perspective, angle: uniform(rng, -25, 25) };
}

/** The Rng of sample `unit` (row, slice) in `epoch`: the same draw whenever the run is resumed. */
export const augmentRng = (seed: number, epoch: number, row: number, slice: number): Rng => new Rng(seed, epoch, row, slice, 0xd75128);

/** grid_sample's nearest: std::nearbyint, half to even. */
function nearest(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** A sparse map: output pixel o reads Σ_k weight[4o+k] · src[index[4o+k]] (index −1: none). */
export interface Warp {
  index: Int32Array;
  weight: Float32Array;
}

/** The three transforms composed into one map (crop, then perspective, then rotation). */
export function buildWarp(params: AugmentParams): Warp {
  const { top, left, height, width } = params.crop;
  // RandomResizedCrop: output (y, x) ← source (top + ⌊y·h/128⌋, left + ⌊x·w/128⌋).
  const cropRow = new Int32Array(N);
  const cropCol = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    cropRow[i] = top + Math.min(Math.floor(i * (height / N)), height - 1);
    cropCol[i] = left + Math.min(Math.floor(i * (width / N)), width - 1);
  }
  const cropIndex = (y: number, x: number): number => cropRow[y] * N + cropCol[x];
  const index = new Int32Array(4 * PIX).fill(-1);
  const weight = new Float32Array(4 * PIX);
  const rad = (params.angle * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const c = params.perspective;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const o = 4 * (y * N + x);
      // RandomRotation (last): the inverse affine of torchvision's F.rotate about the centre.
      const xc = x + 0.5 - N / 2;
      const yc = y + 0.5 - N / 2;
      const qx = nearest(cos * xc - sin * yc + N / 2 - 0.5);
      const qy = nearest(sin * xc + cos * yc + N / 2 - 0.5);
      if (qx < 0 || qx >= N || qy < 0 || qy >= N) continue;
      if (c === null) {
        index[o] = cropIndex(qy, qx);
        weight[o] = 1;
        continue;
      }
      // RandomPerspective: output pixel centre → input coordinate, bilinear with zero padding,
      // multiplied by the bilinearly sampled fill mask (torchvision's fill = 0 path).
      const X = qx + 0.5;
      const Y = qy + 0.5;
      const den = c[6] * X + c[7] * Y + 1;
      const sx = (c[0] * X + c[1] * Y + c[2]) / den - 0.5;
      const sy = (c[3] * X + c[4] * Y + c[5]) / den - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const taps: [number, number, number][] = [[y0, x0, (1 - fy) * (1 - fx)], [y0, x0 + 1, (1 - fy) * fx], [y0 + 1, x0, fy * (1 - fx)], [y0 + 1, x0 + 1, fy * fx]];
      let mask = 0;
      for (const [ty, tx, w] of taps) if (ty >= 0 && ty < N && tx >= 0 && tx < N) mask += w;
      let k = 0;
      for (const [ty, tx, w] of taps) {
        if (ty < 0 || ty >= N || tx < 0 || tx >= N || w === 0) continue;
        index[o + k] = cropIndex(ty, tx);
        weight[o + k] = w * mask;
        k++;
      }
    }
  }
  return { index, weight };
}

/** dst = warp(src), both 128×128 planes. */
export function applyWarp(w: Warp, src: Float32Array, dst: Float32Array, srcAt = 0): void {
  const { index, weight } = w;
  for (let o = 0, q = 0; o < PIX; o++, q += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const i = index[q + k];
      if (i < 0) break;
      v += weight[q + k] * src[srcAt + i];
    }
    dst[o] = v;
  }
}
