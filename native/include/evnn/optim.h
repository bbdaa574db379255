// Optimizer steps over flat float32 parameter arrays, with PyTorch's semantics (torch.optim.SGD,
// Adam, AdamW, torch.nn.utils.clip_grad_norm_). All updates are in place; elementwise loops run
// in parallel chunks and do not depend on the thread count.
#pragma once
#include <cstddef>

namespace evnn {
namespace optim {

// Hyper-parameters are doubles, as PyTorch's Python floats: derived scalars (1 − dampening,
// lr / bc1, ...) are formed in float64 and rounded to float32 once.
struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // PyTorch initialises the momentum buffer with the (decayed) gradient
};

// d = g + wd·p; with momentum: buf = d (first step) or m·buf + (1 − dampening)·d, then
// d = d + m·buf (nesterov) or buf; p −= lr·d. buf may be null only when momentum == 0.
void SgdStep(size_t n, float* p, const float* g, float* buf, const SgdOptions& o);

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  long long step;  // 1-based, for the bias corrections 1 − β^step
  bool decoupled;  // AdamW: p ·= 1 − lr·wd; Adam: g += wd·p
};

// m = m + (1 − β1)·(g − m) (PyTorch's lerp); v = β2·v + (1 − β2)·g²;
// p −= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps).
void AdamStep(size_t n, float* p, const float* g, float* m, float* v, const AdamOptions& o);

struct Span {
  float* data;
  size_t size;
};

// sqrt(Σ g²) over all arrays, accumulated in float64 in fixed-size blocks (same result for any
// thread count).
double GlobalNorm(const Span* grads, size_t count);

// PyTorch clip_grad_norm_: coef = max_norm / (norm + 1e-6); the gradients are scaled by coef
// only when coef < 1. Returns the norm before clipping.
double ClipGlobalNorm(const Span* grads, size_t count, double max_norm);

}  // namespace optim
}  // namespace evnn
