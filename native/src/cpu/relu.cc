// ReLU forward/backward (see evnn/relu.h): elementwise, split over threads in fixed chunks.
#include "evnn/relu.h"

#include <cstdint>

#include "evnn/parallel.h"

namespace evnn {
namespace relu {

constexpr int64_t kGrain = int64_t(1) << 16;

void Forward(const Context&, size_t n, const float* x, float* y) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t a, int64_t b) {
    // x < 0 ? 0 : x keeps NaN (as torch.relu does); written so the compiler vectorises it.
    for (int64_t i = a; i < b; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  });
}

void Backward(const Context&, size_t n, const float* y, const float* dy, float* dx) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  });
}

}  // namespace relu
}  // namespace evnn
