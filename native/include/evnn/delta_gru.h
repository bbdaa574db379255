// DeltaGRU layer (gaochangw/DeltaRNN's DeltaGRU, DESIGN §3), forward and backward over a sequence.
// Parameters are PyTorch nn.GRU's: w_ih [3H,C], w_hh [3H,H], b_ih [3H], b_hh [3H], gate blocks
// (r, z, n). Per step t, with memories x̂, ĥ (0 at the start) and h_{-1} = 0 (no h0):
//   Δx = x_t − x̂; entries with |Δx| < Θx are zeroed, x̂ takes x_t exactly where |Δx| ≥ Θx
//   Δh = h_{t−1} − ĥ; likewise with Θh            (strict: |Δ| = Θ is kept)
//   M_r += W_r Δx + U_r Δh, M_z += W_z Δx + U_z Δh, M_xn += W_n Δx, M_hn += U_n Δh, the memories
//   starting at b_ir + b_hr, b_iz + b_hz, b_in and b_hn;
//   r = σ(M_r), z = σ(M_z), n = tanh(M_xn + r ⊙ M_hn), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
// The products skip the columns of W (U) where Δx (Δh) is exactly zero. With Θx = Θh = 0 the
// layer is the GRU (up to the rounding of the running sums).
// Backward is BPTT through this forward with the threshold masks held constant: since
// M = b + W x̂_t + U ĥ_t, dL/dx̂_t = W^T dA_t, and x̂_t = m_t ⊙ x_t + (1 − m_t) ⊙ x̂_{t−1}, so the
// gradient of x̂ reaches the x of its last update (likewise ĥ → h_{t'−1} of its last update t').
// It runs one of two paths with the same gradients: dense (GEMMs over all of x̂, ĥ) or
// event-driven (work in proportion to the updates: dW = Σ_s G_s Δx_sᵀ over the nonzero Δ, with
// G_t the running sum of the gate gradients from T down to t, and one dot per update for dx, dh);
// Options::backward picks one, by default from the updates' density (src/cpu/delta_common.h).
// Tensors are time-major float32: x [T,N,C], y [T,N,H] (y[t] = h_t).
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"
#include "evnn/fixed_point.h"

namespace evnn {
namespace delta_gru {

struct Dims {
  int T, N, C, H;
};

struct Weights {  // PyTorch layout, as gru.h
  const float* w_ih;
  const float* w_hh;
  const float* b_ih;
  const float* b_hh;
};

// The backward's path (Options::backward): kAuto chooses per call from the density of the
// updates in the cache; kDense and kEvents force one (the checks take both).
enum class BackwardPath { kAuto, kDense, kEvents };

struct Options {
  float theta_x = 0.0f;  // Θx: input delta threshold (>= 0)
  float theta_h = 0.0f;  // Θh: hidden delta threshold (>= 0)
  // Backward processes time in chunks whose scratch ([steps, N, max(3H, C)] floats per buffer)
  // stays under this many floats (0 = 4 Mi). Tests lower it.
  size_t chunk_floats = 0;
  // Hardware emulation (the reference's quantisation options; off by default).
  // qa: fixed-point activations, inference only (Forward throws std::invalid_argument when a cache
  // is passed with it on): x, the thresholds, the pre-activations, the sigmoid/tanh outputs (in
  // `nonlinear`), the products (1 − z) ⊙ n and z ⊙ h, h, and (as the reference) M_hn's start are
  // quantised; the full list is in src/cpu/delta_gru.cc's header. With qa evnn follows the
  // reference's DeltaGRU: the quantised thresholds Q(Θ) serve both the zeroing and the memory
  // update (its update_states is handed the quantised ones). The reference's DeltaLSTM moves its
  // memories with the raw Θ instead, and evnn's DeltaLSTM follows that (delta_lstm.h).
  bool qa = false;
  fixed_point::Format activation{3, 5};  // aqi.aqf
  fixed_point::Format nonlinear{2, 6};   // nqi.nqf
  // qw: the delta memories start at the weight-quantised bias sums Q(b_ir + b_hr), ... (training
  // and inference; the backward's bias gradient passes through Q straight-through, zero where it
  // saturates). The weights themselves are quantised by the training loop after each epoch.
  bool qw = false;
  fixed_point::Format weight{1, 7};  // wqi.wqf
  BackwardPath backward = BackwardPath::kAuto;
};

struct Grads {  // accumulated (+=) by Backward
  float* dw_ih;
  float* dw_hh;
  float* db_ih;
  float* db_hh;
};

// Written (not accumulated) by Forward: counts of exactly-zero Δx and Δh entries after the
// threshold, their fractions (zero_both = (zeros of Δx + zeros of Δh) / (entries of both), the
// reference's SP_T_DV), and the multiply-accumulates of the two matrix products: macs those run
// (3H per nonzero Δ entry), macs_dense those of the dense GRU (T·N·(C + H)·3H).
// Backward writes macs, the multiply-accumulates its products ran, and macs_dense, those of the
// dense backward (T·N·3H·(2H + C·(dx ? 2 : 1)): dĥ and dW_hh, dW_ih and dx̂); the dense path runs
// macs = macs_dense, the event path 3H per nonzero Δ entry (dW_ih, dW_hh) plus 3H per update routed
// (every h update after step 0, and the x updates when dx is asked for). Zero counts are left 0.
struct Stats {
  int64_t dx_zeros = 0, dx_total = 0, dh_zeros = 0, dh_total = 0;
  double zero_dx = 0, zero_dh = 0, zero_both = 0;
  double macs = 0, macs_dense = 0;
};

// Floats the forward pass saves for the backward pass: T·N·(2C + 6H). Layout, region after
// region, each time-major:
//   xhat  [T,N,C]  x̂ after step t's update          (offset 0)
//   mx    [T,N,C]  1.0f where |Δx| ≥ Θx at step t, else 0.0f   (offset T·N·C)
//   hhat  [T,N,H]  ĥ after step t's update           (offset 2·T·N·C)
//   mh    [T,N,H]  1.0f where |Δh| ≥ Θh at step t, else 0.0f   (offset 2·T·N·C + T·N·H)
//   gates [T,N,4H] per (t, n): r, z, n, M_hn         (offset 2·T·N·C + 2·T·N·H)
size_t CacheSize(const Dims& d);

// cache may be null (inference); stats may be null.
void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             float* y, float* cache, Stats* stats);

// dy [T,N,H] is dL/dy (may be null: zero). dx may be null; it is written. The weight gradients
// are added into g. stats may be null. o must be the options of the forward call.
void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* y, const float* cache, const float* dy, float* dx, const Grads& g,
              Stats* stats);

}  // namespace delta_gru
}  // namespace evnn
