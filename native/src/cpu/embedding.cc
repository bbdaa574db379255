// Embedding gather and scatter-add on the CPU. The backward splits the embedding columns over
// threads and visits the tokens in order, so every dweight element is summed by one thread in a
// fixed order (the same result for any thread count, repeated ids included).
#include "evnn/embedding.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "evnn/parallel.h"

namespace evnn {
namespace embedding {
namespace {

void check_ids(const Dims& d, const int32_t* ids, const char* fn) {
  for (int64_t i = 0; i < d.n; ++i) {
    if (ids[i] < 0 || ids[i] >= d.V) {
      throw std::out_of_range(std::string("evnn::embedding::") + fn + ": ids[" + std::to_string(i) + "] = " +
                              std::to_string(ids[i]) + " is outside [0, " + std::to_string(d.V) + ")");
    }
  }
}

inline float row_scale(const uint8_t* keep, float p, int32_t id) {
  return keep ? (keep[id] ? 1.0f / (1.0f - p) : 0.0f) : 1.0f;
}

}  // namespace

void Forward(const Context&, const Dims& d, const float* weight, const int32_t* ids, const uint8_t* keep, float p,
             float* out) {
  check_ids(d, ids, "Forward");
  const int D = d.D;
  parallel_for(0, d.n, std::max<int64_t>(1, 8192 / std::max(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float s = row_scale(keep, p, ids[i]);
      const float* w = weight + size_t(ids[i]) * D;
      float* o = out + size_t(i) * D;
      for (int j = 0; j < D; ++j) o[j] = w[j] * s;
    }
  });
}

void Backward(const Context&, const Dims& d, const int32_t* ids, const uint8_t* keep, float p, const float* dout,
              float* dweight) {
  check_ids(d, ids, "Backward");
  const int D = d.D;
  parallel_for(0, D, 16, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < d.n; ++i) {
      const float s = row_scale(keep, p, ids[i]);
      if (s == 0.0f) continue;
      float* dw = dweight + size_t(ids[i]) * D;
      const float* g = dout + size_t(i) * D;
      for (int64_t j = j0; j < j1; ++j) dw[j] += g[j] * s;
    }
  });
}

}  // namespace embedding
}  // namespace evnn
