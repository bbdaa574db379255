// Mean over time (time_mean.h): rows of N·H split over the threads; each output element sums its
// T inputs in time order, so the result does not depend on the thread count.
#include "evnn/time_mean.h"

#include <stdexcept>
#include <string>

#include "evnn/parallel.h"

namespace evnn {
namespace time_mean {

namespace {
void check(const Dims& d, const void* a, const void* b, const char* fn) {
  if (d.T < 1 || d.N < 1 || d.H < 1) throw std::invalid_argument(std::string("evnn::time_mean::") + fn + ": dims must be >= 1");
  if (!a || !b) throw std::invalid_argument(std::string("evnn::time_mean::") + fn + ": null tensor");
}
}  // namespace

void Forward(const Context& ctx, const Dims& d, const float* x, float* y) {
  check(d, x, y, "Forward");
  (void)ctx;
  const int64_t NH = int64_t(d.N) * d.H;
  const float inv = 1.0f / float(d.T);
  parallel_for(0, NH, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float s = 0.0f;
      for (int t = 0; t < d.T; ++t) s += x[t * NH + i];
      y[i] = s * inv;
    }
  });
}

void Backward(const Context& ctx, const Dims& d, const float* dy, float* dx) {
  check(d, dy, dx, "Backward");
  (void)ctx;
  const int64_t NH = int64_t(d.N) * d.H;
  const float inv = 1.0f / float(d.T);
  parallel_for(0, NH, 4096, [&](int64_t i0, int64_t i1) {
    for (int t = 0; t < d.T; ++t)
      for (int64_t i = i0; i < i1; ++i) dx[t * NH + i] += dy[i] * inv;
  });
}

}  // namespace time_mean
}  // namespace evnn
