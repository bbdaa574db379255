// Fixed-point quantisation for hardware emulation (gaochangw/DeltaRNN's quantize_tensor):
// Q(qi.qf)(x) = clamp(round(x · 2^qf), −2^(qi+qf−1), 2^(qi+qf−1) − 1) / 2^qf, qi counting the sign
// bit. round() is round-half-to-even (torch.round; std::nearbyint in the default rounding mode).
// The gradient is straight-through for the rounding and zero where the clamp saturates (what
// autograd of the reference gives: a pass-through round followed by torch.clamp).
#pragma once
#include <cmath>
#include <cstddef>

namespace evnn {
namespace fixed_point {

struct Format {
  int qi = 0;  // integer bits, the sign bit included
  int qf = 0;  // fraction bits
};

// Quantises x, or returns it unchanged when `on` is false.
inline float Quantize(float x, const Format& f, bool on) {
  if (!on) return x;
  const float power = std::ldexp(1.0f, f.qf);
  const float clip = std::ldexp(1.0f, f.qi + f.qf - 1);
  float v = std::nearbyint(x * power);
  v = v < -clip ? -clip : (v > clip - 1.0f ? clip - 1.0f : v);
  return v / power;
}

// 1 where Quantize's clamp does not saturate (the straight-through gradient), else 0.
inline float PassThrough(float x, const Format& f) {
  const float v = std::nearbyint(x * std::ldexp(1.0f, f.qf));
  const float clip = std::ldexp(1.0f, f.qi + f.qf - 1);
  return (v >= -clip && v <= clip - 1.0f) ? 1.0f : 0.0f;
}

// In place over n values (the after-epoch weight quantisation, the classifier output).
void QuantizeInPlace(float* x, size_t n, const Format& f);

// The gradient through Quantize of x over n values: dx[i] kept where PassThrough(x[i]) is 1, set
// to 0 where it is 0 (an exact zero even when dx[i] is not finite).
void PassThroughGrad(const float* x, float* dx, size_t n, const Format& f);

}  // namespace fixed_point
}  // namespace evnn
