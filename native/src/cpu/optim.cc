// Optimizer steps (see evnn/optim.h).
#include "evnn/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "evnn/parallel.h"

namespace evnn {
namespace optim {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per chunk worth a thread for these light loops
constexpr int64_t kNormBlock = 1 << 14;  // fixed partial-sum blocks of the norm

template <typename Fn>
void for_chunks(size_t n, const Fn& fn) {
  parallel_for(0, int64_t(n), kGrain, [&](int64_t b, int64_t e) { fn(size_t(b), size_t(e)); });
}

}  // namespace

void SgdStep(size_t n, float* p, const float* g, float* buf, const SgdOptions& o) {
  const float lr = float(o.lr), wd = float(o.weight_decay), mom = float(o.momentum), damp = float(1.0 - o.dampening);
  if (mom != 0.0f && buf == nullptr) throw std::invalid_argument("evnn::optim::SgdStep: momentum buffer is null");
  for_chunks(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      float d = g[i];
      if (wd != 0.0f) d += wd * p[i];
      if (mom != 0.0f) {
        const float bi = o.first_step ? d : mom * buf[i] + damp * d;
        buf[i] = bi;
        d = o.nesterov ? d + mom * bi : bi;
      }
      p[i] -= lr * d;
    }
  });
}

void AdamStep(size_t n, float* p, const float* g, float* m, float* v, const AdamOptions& o) {
  if (o.step < 1) throw std::invalid_argument("evnn::optim::AdamStep: step must be >= 1");
  const double bc1 = 1.0 - std::pow(o.beta1, double(o.step));
  const double bc2 = 1.0 - std::pow(o.beta2, double(o.step));
  const float step_size = float(o.lr / bc1);
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float b2 = float(o.beta2), eps = float(o.eps);
  const float one_b1 = float(1.0 - o.beta1), one_b2 = float(1.0 - o.beta2);
  const float decay = o.decoupled ? float(1.0 - o.lr * o.weight_decay) : 1.0f;
  const float l2 = o.decoupled ? 0.0f : float(o.weight_decay);
  for_chunks(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const float pi = p[i] * decay;
      const float gi = g[i] + l2 * pi;
      const float mi = m[i] + one_b1 * (gi - m[i]);
      const float vi = b2 * v[i] + one_b2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - step_size * (mi / (std::sqrt(vi) / bc2_sqrt + eps));
    }
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
  const float coef = float(max_norm / (norm + 1e-6));
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
