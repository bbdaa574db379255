// Tap regularisers. Sums are float64 over fixed blocks, so values do not depend on the thread count.
#include "evnn/regularizers.h"

#include <algorithm>
#include <vector>

#include "evnn/parallel.h"

namespace evnn {
namespace regularizers {
namespace {

constexpr size_t kBlock = 1 << 14;

// Σ f(x_i) in float64, blockwise in a fixed order.
template <typename F>
double Sum(const float* x, size_t n, const F& f) {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> part(blocks, 0.0);
  parallel_for(0, int64_t(blocks), 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double s = 0;
      for (size_t i = size_t(b) * kBlock, e = std::min(n, size_t(b + 1) * kBlock); i < e; ++i) s += f(x[i]);
      part[size_t(b)] = s;
    }
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

template <typename F>
void AddEach(float* dx, size_t n, const F& f) {
  parallel_for(0, int64_t(n), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] += f(size_t(i));
  });
}

}  // namespace

double MeanTarget(const Context&, const float* x, size_t n, double constant, double target, float* dx) {
  if (n == 0) return 0.0;
  const double gap = Sum(x, n, [](float v) { return double(v); }) / double(n) - target;
  const float g = float(2.0 * constant * gap / double(n));
  if (dx) AddEach(dx, n, [&](size_t) { return g; });
  return constant * gap * gap;
}

double MeanSquare(const Context&, const float* x, size_t n, double constant, double target, float* dx) {
  if (n == 0) return 0.0;
  const double value = constant * Sum(x, n, [&](float v) { return (double(v) - target) * (double(v) - target); }) / double(n);
  const double scale = 2.0 * constant / double(n);
  if (dx) AddEach(dx, n, [&](size_t i) { return float(scale * (double(x[i]) - target)); });
  return value;
}

}  // namespace regularizers
}  // namespace evnn
