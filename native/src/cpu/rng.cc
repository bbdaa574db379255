// Philox4x32-10 streams (see evnn/rng.h); the block function is philox_math.h's, shared with the
// CUDA kernels.
#include "evnn/rng.h"

#include "evnn/parallel.h"
#include "philox_math.h"

namespace evnn {
namespace rng {

Counter Philox4x32_10(Counter ctr, Key key) {
  const Block b = philox4x32_10({{ctr[0], ctr[1], ctr[2], ctr[3]}}, key[0], key[1]);
  return {b.v[0], b.v[1], b.v[2], b.v[3]};
}

void Uniform(float* out, size_t n, uint64_t seed, uint64_t offset) {
  // Chunks cover whole blocks of 4 outputs where they can; each element's value is fixed by its
  // stream position alone, so the chunking cannot change the result.
  parallel_for(0, int64_t(n), 1 << 14, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    while (i < i1) {
      const uint64_t pos = offset + uint64_t(i);  // wraps modulo 2^64, like the counter
      const Block c = philox_block(pos >> 2, seed);
      for (unsigned w = unsigned(pos & 3); w < 4 && i < i1; ++w, ++i) out[i] = ToUniform(c.v[w]);
    }
  });
}

}  // namespace rng
}  // namespace evnn
