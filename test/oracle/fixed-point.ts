// Oracle for fixed-point quantisation (gaochangw/DeltaRNN's quantize_tensor; native
// include/evnn/fixed_point.h), in float64:
//   Q(qi.qf)(x) = clamp(round(x · 2^qf), −2^(qi+qf−1), 2^(qi+qf−1) − 1) / 2^qf
// qi counts the sign bit; round() is round half to even (torch.round). The gradient is straight
// through the rounding and zero where the clamp saturates (autograd of a pass-through round
// followed by torch.clamp, whose gradient is 1 on the closed range).

export interface FixedPointFormat {
  /** integer bits, the sign bit included */
  qi: number;
  /** fraction bits */
  qf: number;
}

/** The engine's defaults (delta_gru::Options): activations Q3.5, gate outputs Q2.6, weights Q1.7. */
export const DEFAULT_ACTIVATION: FixedPointFormat = { qi: 3, qf: 5 };
export const DEFAULT_NONLINEAR: FixedPointFormat = { qi: 2, qf: 6 };
export const DEFAULT_WEIGHT: FixedPointFormat = { qi: 1, qf: 7 };

/** Round half to even (Math.round rounds halves up, so ties are handled here). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // a tie is exactly representable (v = k + ½); Math.round took it up: step back if r is odd
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Q(x) in the format f. */
export function quantize(x: number, f: FixedPointFormat): number {
  const power = 2 ** f.qf;
  const clip = 2 ** (f.qi + f.qf - 1);
  return Math.min(Math.max(roundHalfEven(x * power), -clip), clip - 1) / power;
}

/** Q(x) when `on`, else x (the layers' switch). */
export function quantizeIf(x: number, f: FixedPointFormat, on: boolean): number {
  return on ? quantize(x, f) : x;
}

/** 1 where Q's clamp does not saturate (the straight-through gradient), else 0. */
export function passThrough(x: number, f: FixedPointFormat): number {
  const v = roundHalfEven(x * 2 ** f.qf);
  const clip = 2 ** (f.qi + f.qf - 1);
  return v >= -clip && v <= clip - 1 ? 1 : 0;
}
