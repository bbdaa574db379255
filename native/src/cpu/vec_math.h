// Branch-free float activations for the CPU pointwise kernels. glibc's expf/tanhf are scalar
// calls that stop GCC from vectorising a loop; these inline versions (Cephes polynomials, a few
// ulp) use only arithmetic and bit operations, so gate loops compile to AVX2/SSE code. Under nvcc
// they are host and device functions: the CUDA kernels (src/cuda) evaluate the same polynomials.
#pragma once
#include <cstdint>
#include <cstring>

#include "host_device.h"

namespace evnn {
namespace vmath {

EVNN_HD inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

EVNN_HD inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// c ? a : b as bit operations. GCC (with the default -ftrapping-math) turns `?:` chains around
// divisions into branches and then refuses to vectorise the loop; masks keep it straight-line.
EVNN_HD inline float select(bool c, float a, float b) {
  const int32_t m = -int32_t(c);
  return bits_to_float((float_to_bits(a) & m) | (float_to_bits(b) & ~m));
}

// exp(x) with x clamped to [-87.33, 88], so 2^n stays a normal float: finite for every input
// except NaN, which propagates (a diverged model should show NaN, not plausible numbers).
EVNN_HD inline float exp_clamped(float x) {
  x = select(x < -87.33f, -87.33f, x);
  x = select(x > 88.0f, 88.0f, x);
  // Adding 1.5·2^23 rounds to the nearest integer in the low mantissa bits (no float->int cvt).
  const float kShift = 12582912.0f;
  const float t = x * 1.44269504088896341f + kShift;
  const uint32_t n = uint32_t(float_to_bits(t)) - uint32_t(float_to_bits(kShift));  // unsigned: no UB for NaN
  const float fn = t - kShift;
  float r = x - fn * 0.693359375f;  // ln 2 split in two for an exact reduction
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * bits_to_float(int32_t((n + 127u) << 23));
}

// 1 / (1 + e^-x); the clamped exp keeps the denominator finite for any x.
EVNN_HD inline float sigmoid(float x) { return 1.0f / (1.0f + exp_clamped(-x)); }

// tanh: odd polynomial near 0 (keeps relative accuracy for tiny x), (1-e)/(1+e) with
// e = exp(-2|x|) <= 0.29 elsewhere (no cancellation); both computed, one selected.
EVNN_HD inline float tanh(float x) {
  const float a = bits_to_float(float_to_bits(x) & 0x7fffffff);
  const float e = exp_clamped(-2.0f * a);
  const float big = (1.0f - e) / (1.0f + e);
  const float s = x * x;
  const float small =
      ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s +
        1.33314422036e-1f) * s - 3.33332819422e-1f) * s * x + x;
  const float signed_big = bits_to_float(float_to_bits(big) | (float_to_bits(x) & INT32_MIN));
  return select(a < 0.625f, small, signed_big);
}

}  // namespace vmath
}  // namespace evnn
