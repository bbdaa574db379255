// Softmax cross-entropy (see evnn/loss.h). Each row is max-subtracted before exponentiating, so
// large logits cannot overflow; the row sum and the loss are accumulated in float64.
#include "evnn/loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "evnn/parallel.h"
#include "vec_math.h"

namespace evnn {
namespace loss {

CrossEntropyResult SoftmaxCrossEntropy(int N, int K, const float* logits, const int32_t* labels, float* dlogits) {
  if (N < 1 || K < 1) {
    throw std::invalid_argument("evnn::loss::SoftmaxCrossEntropy: N and K must be >= 1, got N=" + std::to_string(N) +
                                " K=" + std::to_string(K));
  }
  for (int i = 0; i < N; ++i) {
    if (labels[i] < 0 || labels[i] >= K) {
      throw std::invalid_argument("evnn::loss::SoftmaxCrossEntropy: labels[" + std::to_string(i) + "] = " +
                                  std::to_string(labels[i]) + " is outside [0, " + std::to_string(K) + ")");
    }
  }
  // Per-row results, reduced in row order afterwards: the same sum for any thread count.
  std::vector<double> row_loss(N);
  std::vector<char> row_correct(N);
  const double inv_n = 1.0 / N;
  parallel_for(0, N, std::max(1, 32768 / K), [&](int64_t r0, int64_t r1) {
    std::vector<float> scratch(dlogits ? 0 : K);
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = logits + r * K;
      float* e = dlogits ? dlogits + r * K : scratch.data();
      int arg = 0;
      float m = x[0];
      for (int j = 1; j < K; ++j) {
        if (x[j] > m) {  // strict: the first of equal maxima wins
          m = x[j];
          arg = j;
        }
      }
      double s = 0.0;
      for (int j = 0; j < K; ++j) {
        e[j] = vmath::exp_clamped(x[j] - m);
        s += e[j];
      }
      const int label = labels[r];
      row_loss[r] = double(m) + std::log(s) - double(x[label]);
      row_correct[r] = arg == label;
      if (dlogits) {
        const float scale = float(inv_n / s);
        for (int j = 0; j < K; ++j) e[j] *= scale;
        e[label] -= float(inv_n);
      }
    }
  });
  CrossEntropyResult res{0.0, 0};
  for (int i = 0; i < N; ++i) {
    res.loss += row_loss[i];
    res.correct += row_correct[i];
  }
  res.loss *= inv_n;
  return res;
}

}  // namespace loss
}  // namespace evnn
