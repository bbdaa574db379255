// Philox keep-masks on the CPU: blocks of 4 outputs, split over threads at block boundaries.
#include "evnn/masks.h"

#include <algorithm>

#include "evnn/parallel.h"
#include "evnn/rng.h"
#include "philox_math.h"

namespace evnn {
namespace masks {

uint64_t StreamSeed(const Key& key) {
  const rng::Counter out = rng::Philox4x32_10({key.epoch, key.batch, key.layer, uint32_t(key.purpose)},
                                              rng::KeyFromSeed(key.seed));
  return uint64_t(out[0]) | (uint64_t(out[1]) << 32);
}

void Bernoulli(const Context&, const Key& key, float p, size_t n, uint8_t* keep) {
  const uint64_t seed = StreamSeed(key);
  const size_t blocks = (n + 3) / 4;
  parallel_for(0, int64_t(blocks), 4096, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      // Output number i is word i mod 4 of the block with counter i / 4 (rng::Uniform's layout).
      const rng::Block r = rng::philox_block(uint64_t(b), seed);
      const size_t i0 = size_t(b) * 4;
      for (size_t w = 0; w < 4 && i0 + w < n; ++w) keep[i0 + w] = rng::ToUniform(r.v[w]) >= p ? 1 : 0;
    }
  });
}

void ApplyKeep(const Context&, const float* x, const uint8_t* keep, float p, size_t n, float* y) {
  const float scale = 1.0f / (1.0f - p);
  parallel_for(0, int64_t(n), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = keep[i] ? x[i] * scale : 0.0f;
  });
}

void ApplyRowKeep(const Context&, const float* w, const uint8_t* keep, float p, size_t rows, size_t cols, float* out) {
  const float scale = 1.0f / (1.0f - p);
  parallel_for(0, int64_t(rows), 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float s = keep[r] ? scale : 0.0f;
      for (size_t j = 0; j < cols; ++j) out[size_t(r) * cols + j] = w[size_t(r) * cols + j] * s;
    }
  });
}

void AddRowKept(const Context&, const float* g, const uint8_t* keep, float p, size_t rows, size_t cols, float* acc) {
  const float scale = 1.0f / (1.0f - p);
  parallel_for(0, int64_t(rows), 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      if (!keep[r]) continue;
      for (size_t j = 0; j < cols; ++j) acc[size_t(r) * cols + j] += g[size_t(r) * cols + j] * scale;
    }
  });
}

}  // namespace masks
}  // namespace evnn
