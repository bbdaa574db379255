// EGRU: event-based GRU (Subramoney et al., ICLR 2023), forward and sparse BPTT over a sequence.
// Equations and layouts are EvNN's C++ path (DESIGN §3):
//   z = σ(Wx_z + b_z + (R y_{t−1})_z + br_z), r likewise,
//   g = tanh(Wx_g + b_g + r ⊙ ((R y_{t−1})_g + br_g)),  u = z ⊙ c_{t−1} + (1−z) ⊙ g
//   zoneout: training c' = c_{t−1} + m ⊙ (u − c_{t−1}); evaluation c' = p c_{t−1} + (1−p) u
//   o = H(c' − ϑ) (H(0) = 0), y = o ⊙ c', c = c' − o ⊙ ϑ, trace = 0.9 trace_{t−1} + 0.1 y
// kernel [C,3H], recurrent_kernel [H,3H], bias [3H], recurrent_bias [3H], thr [H]; gate column
// blocks (z, r, g). Tensors are time-major float32 [T,N,·]. y0 (may be null = zeros) sets y_{−1}
// only; c_{−1} = 0 always.
//
// Event-driven: the recurrent product of step t reads only the rows of R of units with
// y_{t−1} ≠ 0, and with Options::sparse_input the input projection reads only the rows of the
// kernel of nonzero inputs (a stacked layer fed by another EGRU). The backward pass computes
// dL/dy_{t−1} only for units that fired at t−1 or lie inside the surrogate support
// (|v| < 1/ε) — elsewhere y does not depend on c and the value would be unused — and accumulates
// dR (and dW for sparse input) only over event rows.
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"

namespace evnn {
namespace egru {

struct Dims {
  int T, N, C, H;
};

// Bits of the `active` map.
constexpr uint8_t kFired = 1;      // o = 1
constexpr uint8_t kInSupport = 2;  // |v| < 1/ε: the surrogate derivative is nonzero

struct Weights {
  const float* kernel;            // [C,3H]
  const float* recurrent_kernel;  // [H,3H] as used: after DropConnect (see DropConnect below)
  const float* bias;              // [3H]
  const float* recurrent_bias;    // [3H]
  const float* thr;               // [H], already clamped to [0,1]
};

struct Options {
  bool training = true;
  float zoneout = 0.0f;       // p; with training the mask decides, in evaluation p mixes
  float dampening = 0.7f;     // γ of the surrogate γ·max(0, 1 − ε|v|)
  float support = 1.0f;       // ε
  bool sparse_input = false;  // x is an event tensor (mostly zeros): event-driven input projection
  float dropconnect = 0.0f;   // p of DropConnect on recurrent_kernel (Backward masks dR with it)
  float grad_clip = 0.0f;     // EvNN's per-layer clipping of this call's gradients; 0 = off
  // Scratch budget: time is processed in chunks whose per-step buffers ([steps, N, 3H] floats)
  // stay under this many floats (0 = 4 Mi). Tests lower it to cover multi-chunk paths.
  size_t chunk_floats = 0;
};

// Multiply-accumulates done and their dense counts, plus event counts, for the sparsity logs.
struct Stats {
  double events = 0;             // Σ o over T·N·H
  double backward_active = 0;    // Σ over T·N·H of [o = 1 or |v| < 1/ε]
  double macs = 0;               // MACs actually done by the products
  double macs_dense = 0;         // what dense products of the same shapes would do
};

struct Grads {  // accumulated (+=) by Backward
  float* dkernel;
  float* drecurrent_kernel;
  float* dbias;
  float* drecurrent_bias;
  float* dthr;
};

// Floats the forward pass saves for the backward pass besides y and c: z, r, g and
// (R y + br)_g per (t, n, unit).
size_t CacheSize(const Dims& d);

// zoneout_mask [T,N,H] (0/1 bytes) is required when training with zoneout > 0, ignored otherwise.
// out_o and trace [T,N,H] may be null when the caller does not keep them (y and c are always
// written: backward reads them).
// cache and active are both given (a backward pass follows) or both null (inference). active
// [T,N,H] receives kFired | kInSupport bits per unit (0: outside both, where y does not depend on
// c): the backward pass of this layer and of the layer above read it. stats may be null.
// EvNN clamps the thresholds to [0, 1] in place before every forward pass.
void ClampThresholds(const Context& ctx, float* thr, int H);

// out = recurrent_kernel ⊙ keep / (1 − p) over n elements (keep: 0/1 bytes); out may alias the
// input. The same map turns the gradient of the kernel as used into that of recurrent_kernel.
void DropConnect(const Context& ctx, const float* recurrent_kernel, const uint8_t* keep, float p, size_t n,
                 float* out);

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x, const float* y0,
             const uint8_t* zoneout_mask, float* y, float* c, float* out_o, float* trace,
             float* cache, uint8_t* active, Stats* stats);

// Upstream gradients dy, dc, d_o, dtrace ([T,N,H] each) may be null (zero); dyN [N,H] (may be
// null) is the gradient of the last step's y (hN) and adds to dy there. dx may be null (not
// wanted); dx_active [T,N,C] (may be null = all) limits dx to the entries marked 1 — the
// `active` map of the EGRU layer below, whose other outputs do not reach its state. dy0 [N,H]
// may be null. active is this layer's map from Forward. dropconnect_keep [H,3H] is the mask
// Forward's kernel was made with (required when o.dropconnect > 0). dx and dy0 are written; the
// parameter gradients of this call — masked by DropConnect and, with o.grad_clip, scaled together
// with dy0 to that L2 norm (EvNN's per-layer clipping) — are added into g.
void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* y0, const uint8_t* zoneout_mask, const uint8_t* dropconnect_keep,
              const float* y, const float* c, const float* cache, const uint8_t* active,
              const float* dy, const float* dyN, const float* dc, const float* d_o,
              const float* dtrace, float* dx, const uint8_t* dx_active, float* dy0,
              const Grads& g, Stats* stats);

}  // namespace egru
}  // namespace evnn
