// Softmax cross-entropy over rows of logits [N,K] with integer labels, as PyTorch's
// F.cross_entropy(reduction='mean'), fused with its gradient and an accuracy count.
#pragma once
#include <cstdint>

namespace evnn {
namespace loss {

struct CrossEntropyResult {
  double loss;  // mean over the N rows of (logsumexp(row) − row[label])
  int correct;  // rows whose arg-max (lowest index among ties) equals the label
};

// dlogits [N,K] (may be null) receives d(mean loss)/d logits = (softmax − onehot)/N.
// Labels must lie in [0, K); throws std::invalid_argument naming the first one that does not.
CrossEntropyResult SoftmaxCrossEntropy(int N, int K, const float* logits, const int32_t* labels, float* dlogits);

}  // namespace loss
}  // namespace evnn
