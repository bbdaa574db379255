// One Philox4x32-10 block (Salmon et al., SC'11; constants from Random123's philox.h: multipliers
// 0xD2511F53, 0xCD9E8D57, Weyl key increments 0x9E3779B9, 0xBB67AE85), as host and device code:
// the CPU's stream (rng.cc, masks.cc) and the CUDA kernels' (src/cuda) are this one function
// (its outputs as floats: rng::ToUniform).
#pragma once
#include <cstdint>

#include "host_device.h"

namespace evnn {
namespace rng {

struct Block {
  uint32_t v[4];
};

EVNN_HD inline Block philox4x32_10(Block c, uint32_t k0, uint32_t k1) {
  const uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) k0 += kW0, k1 += kW1;
    const uint64_t p0 = uint64_t(kM0) * c.v[0];
    const uint64_t p1 = uint64_t(kM1) * c.v[2];
    const Block n = {{uint32_t(p1 >> 32) ^ c.v[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c.v[3] ^ k1, uint32_t(p0)}};
    c = n;
  }
  return c;
}

// Block b of the stream keyed by a 64-bit seed (low 32 bits first): the counter is the 128-bit
// integer b (b < 2^64: words 2, 3 are 0).
EVNN_HD inline Block philox_block(uint64_t b, uint64_t seed) {
  return philox4x32_10({{uint32_t(b), uint32_t(b >> 32), 0u, 0u}}, uint32_t(seed), uint32_t(seed >> 32));
}

}  // namespace rng
}  // namespace evnn
