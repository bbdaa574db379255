// Philox4x32-10 as host and device functions: the same counter-based stream as the CPU's
// (evnn/rng.h, src/cpu/rng.cc; constants from Random123's philox.h), so a kernel draws output
// number i of a stream exactly as the CPU does, whatever thread computes it.
#pragma once
#include <cstdint>

namespace evnn {
namespace cuda {

struct Philox4 {
  uint32_t v[4];
};

__host__ __device__ inline Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
  const uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) k0 += kW0, k1 += kW1;
    const uint64_t p0 = uint64_t(kM0) * c.v[0];
    const uint64_t p1 = uint64_t(kM1) * c.v[2];
    const Philox4 n = {{uint32_t(p1 >> 32) ^ c.v[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c.v[3] ^ k1, uint32_t(p0)}};
    c = n;
  }
  return c;
}

// Block b of the stream keyed by a 64-bit seed (low 32 bits first), as rng::Uniform lays it out.
__host__ __device__ inline Philox4 philox_block(uint64_t b, uint64_t seed) {
  return philox4x32_10({{uint32_t(b), uint32_t(b >> 32), 0u, 0u}}, uint32_t(seed), uint32_t(seed >> 32));
}

// rng::ToUniform: the top 24 bits times 2^-24, exact in float32.
__host__ __device__ inline float to_uniform(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

}  // namespace cuda
}  // namespace evnn
