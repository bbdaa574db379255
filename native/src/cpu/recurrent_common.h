// Helpers shared by the CPU recurrent layers (gru.cc, egru.cc): scratch buffers, argument checks
// whose messages name the layer and function, time chunking and the flattened pointwise split.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "evnn/context.h"
#include "evnn/parallel.h"

namespace evnn {
namespace recurrent {

using Buffer = std::unique_ptr<float[]>;
inline Buffer alloc(size_t n) { return Buffer(new float[n > 0 ? n : 1]); }
inline Buffer alloc_zeroed(size_t n) {
  Buffer b = alloc(n);
  std::fill(b.get(), b.get() + std::max<size_t>(n, 1), 0.0f);
  return b;
}

// std::invalid_argument "evnn::<layer>::<fn>: ..." for negative sizes or a missing pointer.
inline void check_dims(const char* layer, const char* fn, int T, int N, int C, int H) {
  if (T < 0 || N < 0 || C < 0 || H < 0) {
    throw std::invalid_argument(std::string("evnn::") + layer + "::" + fn + ": dims must be >= 0, got T=" +
                                std::to_string(T) + " N=" + std::to_string(N) + " C=" + std::to_string(C) +
                                " H=" + std::to_string(H));
  }
}
inline void require(const char* layer, const void* p, const char* fn, const char* name) {
  if (p == nullptr) throw std::invalid_argument(std::string("evnn::") + layer + "::" + fn + ": " + name + " is null");
}

// The scratch workspace of a CPU call (std::invalid_argument when the context has none).
inline Workspace& workspace_of(const Context& ctx, const char* layer) {
  if (ctx.workspace == nullptr) throw std::invalid_argument(std::string("evnn::") + layer + ": the context has no workspace");
  return *ctx.workspace;
}

// A layer's chunk budget in floats per scratch buffer: the caller's, or 4 Mi (16 MiB).
inline size_t chunk_budget(size_t requested) { return requested > 0 ? requested : size_t(1) << 22; }

// Steps per time chunk whose per-step scratch (`per_step` floats) fits `budget` floats: at least
// one, at most T.
inline int steps_per_chunk_of(int T, size_t per_step, size_t budget) {
  const size_t s = per_step == 0 ? size_t(T) : budget / per_step;
  return int(std::max<size_t>(1, std::min<size_t>(s, size_t(std::max(T, 1)))));
}

// Steps per time chunk whose [steps, N, 3H] scratch fits `budget` floats.
inline int steps_per_chunk(int T, int N, int H, size_t budget) { return steps_per_chunk_of(T, size_t(N) * 3 * H, budget); }

// Runs fn(row, j0, j1) over the [rows, H] index space split into contiguous chunks; rows and
// columns are flattened so a single long row (N = 1) still spreads over the threads.
template <typename Fn>
void for_each_segment(int rows, int H, int64_t grain, const Fn& fn) {
  parallel_for(0, int64_t(rows) * H, grain, [&](int64_t b, int64_t e) {
    while (b < e) {
      const int row = int(b / H);
      const int j0 = int(b - int64_t(row) * H);
      const int j1 = int(std::min<int64_t>(H, j0 + (e - b)));
      fn(row, j0, j1);
      b += j1 - j0;
    }
  });
}

}  // namespace recurrent
}  // namespace evnn
