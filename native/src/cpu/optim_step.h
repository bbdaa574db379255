// One element of each optimizer step (evnn/optim.h), shared by the CPU loops (optim.cc) and the
// CUDA kernels (src/cuda/optim.cu): the float32 scalars are derived once on the host, in float64
// and rounded once, as PyTorch forms them from its Python floats.
#pragma once
#include <cmath>
#include <cstdint>

#include "evnn/optim.h"
#include "host_device.h"

namespace evnn {
namespace optim {

struct SgdScalars {
  float lr, wd, mom, damp;  // damp = 1 − dampening
  bool nesterov, first_step;
};
inline SgdScalars sgd_scalars(const SgdOptions& o) {
  return {float(o.lr), float(o.weight_decay), float(o.momentum), float(1.0 - o.dampening), o.nesterov, o.first_step};
}
// d = g + wd·p; with momentum: buf = d (first step) or m·buf + (1 − dampening)·d, then
// d = d + m·buf (nesterov) or buf; p −= lr·d.
EVNN_HD inline void sgd_element(const SgdScalars& s, float& p, float g, float* buf) {
  float d = g;
  if (s.wd != 0.0f) d += s.wd * p;
  if (s.mom != 0.0f) {
    const float bi = s.first_step ? d : s.mom * *buf + s.damp * d;
    *buf = bi;
    d = s.nesterov ? d + s.mom * bi : bi;
  }
  p -= s.lr * d;
}

struct AdamScalars {
  float step_size, bc2_sqrt, b2, eps, one_b1, one_b2, decay, l2;
};
// step ≥ 1 (checked by the callers)
inline AdamScalars adam_scalars(const AdamOptions& o) {
  const double bc1 = 1.0 - std::pow(o.beta1, double(o.step));
  const double bc2 = 1.0 - std::pow(o.beta2, double(o.step));
  return {float(o.lr / bc1),
          float(std::sqrt(bc2)),
          float(o.beta2),
          float(o.eps),
          float(1.0 - o.beta1),
          float(1.0 - o.beta2),
          o.decoupled ? float(1.0 - o.lr * o.weight_decay) : 1.0f,
          o.decoupled ? 0.0f : float(o.weight_decay)};
}
// m = m + (1 − β1)·(g − m) (PyTorch's lerp); v = β2·v + (1 − β2)·g²;
// p −= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps); AdamW decays p first, Adam adds wd·p to g.
EVNN_HD inline void adam_element(const AdamScalars& s, float& p, float g, float& m, float& v) {
  const float pi = p * s.decay;
  const float gi = g + s.l2 * pi;
  const float mi = m + s.one_b1 * (gi - m);
  const float vi = s.b2 * v + s.one_b2 * gi * gi;
  m = mi;
  v = vi;
  p = pi - s.step_size * (mi / (sqrtf(vi) / s.bc2_sqrt + s.eps));
}

// clip_grad_norm_'s factor: the gradients are scaled by it only when it is < 1.
inline float clip_coef(double norm, double max_norm) { return float(max_norm / (norm + 1e-6)); }

// The fixed blocks of the global norm's partial sums (the same on the CPU and the GPU).
constexpr int64_t kNormBlock = 1 << 14;

}  // namespace optim
}  // namespace evnn
