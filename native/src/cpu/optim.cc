// Optimizer steps (see evnn/optim.h).
#include "evnn/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "evnn/parallel.h"
#include "optim_step.h"

namespace evnn {
namespace optim {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per chunk worth a thread for these light loops

template <typename Fn>
void for_chunks(size_t n, const Fn& fn) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t b, int64_t e) { fn(size_t(b), size_t(e)); });
}

}  // namespace

void SgdStep(size_t n, float* p, const float* g, float* buf, const SgdOptions& o) {
  if (o.momentum != 0.0 && buf == nullptr) throw std::invalid_argument("evnn::optim::SgdStep: momentum buffer is null");
  const SgdScalars s = sgd_scalars(o);
  for_chunks(n, [&](size_t b, size_t e) {
    if (s.mom != 0.0f) {
      for (size_t i = b; i < e; ++i) sgd_element(s, p[i], g[i], &buf[i]);
    } else {  // sgd_element never touches buf without momentum
      for (size_t i = b; i < e; ++i) sgd_element(s, p[i], g[i], nullptr);
    }
  });
}

void AdamStep(size_t n, float* p, const float* g, float* m, float* v, const AdamOptions& o) {
  if (o.step < 1) throw std::invalid_argument("evnn::optim::AdamStep: step must be >= 1");
  const AdamScalars s = adam_scalars(o);
  for_chunks(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) adam_element(s, p[i], g[i], m[i], v[i]);
  });
}

double GlobalNorm(const Span* grads, size_t count) {
  double total = 0.0;
  for (size_t a = 0; a < count; ++a) {
    const float* x = grads[a].data;
    const int64_t n = int64_t(grads[a].size);
    const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
    std::vector<double> partial(size_t(blocks), 0.0);
    parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        const int64_t i0 = blk * kNormBlock, i1 = std::min(n, i0 + kNormBlock);
        double s[4] = {0.0, 0.0, 0.0, 0.0};  // four lanes: vectorisable, order fixed by the block
        int64_t i = i0;
        for (; i + 4 <= i1; i += 4)
          for (int l = 0; l < 4; ++l) s[l] += double(x[i + l]) * double(x[i + l]);
        for (; i < i1; ++i) s[0] += double(x[i]) * double(x[i]);
        partial[size_t(blk)] = (s[0] + s[1]) + (s[2] + s[3]);
      }
    });
    for (double s : partial) total += s;
  }
  return std::sqrt(total);
}

double ClipGlobalNorm(const Span* grads, size_t count, double max_norm) {
  const double norm = GlobalNorm(grads, count);
  const float coef = clip_coef(norm, max_norm);
  if (coef < 1.0f) {
    for (size_t a = 0; a < count; ++a) {
      float* x = grads[a].data;
      for_chunks(grads[a].size, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) x[i] *= coef;
      });
    }
  }
  return norm;
}

}  // namespace optim
}  // namespace evnn
