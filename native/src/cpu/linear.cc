// Linear layer forward/backward as three GEMMs and a column sum (see evnn/linear.h).
#include "evnn/linear.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "column_sums.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace evnn {
namespace linear {
namespace {

void check_dims(const Dims& d, const char* fn) {
  if (d.M < 0 || d.I < 0 || d.O < 0) {
    throw std::invalid_argument(std::string("evnn::linear::") + fn + ": dims must be >= 0, got M=" +
                                std::to_string(d.M) + " I=" + std::to_string(d.I) + " O=" + std::to_string(d.O));
  }
}

}  // namespace

void Forward(const Context&, const Dims& d, const float* x, const float* w, const float* b, float* y) {
  check_dims(d, "Forward");
  const int M = d.M, I = d.I, O = d.O;
  if (M == 0 || O == 0) return;
  if (b) {  // y starts as the broadcast bias and the GEMM accumulates onto it (beta = 1)
    parallel_for(0, M, std::max(1, 16384 / O), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) std::copy(b, b + O, y + r * O);
    });
  }
  gemm(Trans::No, Trans::Yes, M, O, I, 1.0f, x, std::max(I, 1), w, std::max(I, 1), b ? 1.0f : 0.0f, y, O);
}

void Backward(const Context&, const Dims& d, const float* x, const float* w, const float* dy, float* dx, float* dw,
              float* db) {
  check_dims(d, "Backward");
  const int M = d.M, I = d.I, O = d.O;
  if (dx) gemm(Trans::No, Trans::No, M, I, O, 1.0f, dy, std::max(O, 1), w, std::max(I, 1), 0.0f, dx, std::max(I, 1));
  gemm(Trans::Yes, Trans::No, O, I, M, 1.0f, dy, std::max(O, 1), x, std::max(I, 1), 1.0f, dw, std::max(I, 1));
  if (db) {
    std::vector<double> sums(size_t(O), 0.0);
    add_column_sums(dy, M, O, 0, O, sums.data());
    for (int k = 0; k < O; ++k) db[k] += float(sums[size_t(k)]);
  }
}

}  // namespace linear
}  // namespace evnn
