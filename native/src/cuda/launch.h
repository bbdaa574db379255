// The launch shape of the CUDA backend's elementwise kernels: blocks of kThreads, a grid large
// enough for one element per thread (capped: the kernels loop over the rest grid-stride).
#pragma once
#include <algorithm>
#include <cstddef>

namespace evnn {
namespace cuda {

constexpr int kThreads = 256;

inline unsigned grid_for(size_t n) {
  return unsigned(std::max<size_t>(1, std::min<size_t>((n + kThreads - 1) / kThreads, size_t(1) << 20)));
}

}  // namespace cuda
}  // namespace evnn
