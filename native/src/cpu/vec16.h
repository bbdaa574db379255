// A 16-float vector (one cache line; AVX-512 registers, two AVX2 ones elsewhere) with unaligned
// loads and stores through memcpy: what the LIF kernels (lif_s3gd.cc, lif_readout.cc) compute on.
#pragma once
#include <cstdint>
#include <cstring>

namespace evnn {
namespace vec16 {

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

inline v16f load16(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store16(float* p, v16f v) { std::memcpy(p, &v, sizeof v); }

}  // namespace vec16
}  // namespace evnn
