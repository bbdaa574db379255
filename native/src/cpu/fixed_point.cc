// The array forms of fixed_point.h's Quantize and PassThrough. Element-wise, so the split over
// threads changes nothing; the grain keeps small arrays (a bias, one step's output) on the caller.
#include "evnn/fixed_point.h"

#include <cstdint>

#include "evnn/parallel.h"

namespace evnn {
namespace fixed_point {

namespace {
constexpr int64_t kGrain = 1 << 15;
}  // namespace

void QuantizeInPlace(float* x, size_t n, const Format& f) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] = Quantize(x[i], f, true);
  });
}

void PassThroughGrad(const float* x, float* dx, size_t n, const Format& f) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t b, int64_t e) {
    // zero, not dx·0, where saturated: the gradient is structurally zero even if dx is not finite
    for (int64_t i = b; i < e; ++i)
      if (PassThrough(x[i], f) == 0.0f) dx[i] = 0.0f;
  });
}

}  // namespace fixed_point
}  // namespace evnn
