// DeltaLSTM layer (gaochangw/DeltaRNN's DeltaLSTM, DESIGN §3), forward and backward over a
// sequence. Parameters are PyTorch nn.LSTM's: w_ih [4H,C], w_hh [4H,H], b_ih [4H], b_hh [4H], gate
// blocks (i, f, g, o). Per step t, with memories x̂, ĥ (0 at the start), h_{-1} = c_{-1} = 0:
//   Δx = x_t − x̂; entries with |Δx| < Θx are zeroed, x̂ takes x_t exactly where |Δx| ≥ Θx
//   Δh = h_{t−1} − ĥ; likewise with Θh            (strict: |Δ| = Θ is kept)
//   M += W Δx + U Δh, M starting at b_ih + b_hh (one memory of 4H per row);
//   i = σ(M_i), f = σ(M_f), g = tanh(M_g), o = σ(M_o), c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t).
// The products skip the columns of W (U) where Δx (Δh) is exactly zero. With Θx = Θh = 0 the
// layer is the LSTM (up to the rounding of the running sums).
// Backward is BPTT through this forward with the threshold masks held constant, as delta_gru.h:
// M_t = b + W x̂_t + U ĥ_t, and x̂ (ĥ) routes its gradient to the x (h_{t'−1}) of its last update;
// dense or event-driven, as Options::backward picks (delta_gru.h).
// Tensors are time-major float32: x [T,N,C], y [T,N,H] (y[t] = h_t).
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"
#include "evnn/delta_gru.h"  // Stats (the same counters)
#include "evnn/fixed_point.h"

namespace evnn {
namespace delta_lstm {

struct Dims {
  int T, N, C, H;
};

struct Weights {  // PyTorch layout, as lstm.h
  const float* w_ih;
  const float* w_hh;
  const float* b_ih;
  const float* b_hh;
};

struct Options {
  float theta_x = 0.0f;
  float theta_h = 0.0f;
  size_t chunk_floats = 0;  // as delta_gru::Options
  // Hardware emulation, as delta_gru::Options. qa (inference only): x, the zeroing thresholds Q(Θ),
  // the pre-activations, the gate outputs (in `nonlinear`), c = Q(f ⊙ c + i ⊙ g), Q(tanh c)
  // (`nonlinear`) and h; qw: M's start is Q(b_ih + b_hh) in `weight` (training too; its gradient
  // straight through, zero where it saturates). The full list is in src/cpu/delta_lstm.cc's header.
  // Under qa evnn follows the reference's DeltaLSTM: Δ is zeroed where |Δ| < Q(Θ), but x̂ and ĥ
  // take the new value where |Δ| ≥ Θ, the unquantised threshold (unlike its DeltaGRU, which uses
  // Q(Θ) for both). With Q(Θ) < Θ (Θ = 0.1 in Q3.5: Q(Θ) = 0.09375) a Δ in [Q(Θ), Θ) is passed
  // on without moving the memory, so it is passed again the next step, as the reference does.
  bool qa = false;
  fixed_point::Format activation{3, 5};
  fixed_point::Format nonlinear{2, 6};
  bool qw = false;
  fixed_point::Format weight{1, 7};
  delta_gru::BackwardPath backward = delta_gru::BackwardPath::kAuto;  // as delta_gru::Options
};

struct Grads {  // accumulated (+=) by Backward
  float* dw_ih;
  float* dw_hh;
  float* db_ih;
  float* db_hh;
};

// The counters of delta_gru::Stats; macs per nonzero Δ entry are 4H, macs_dense T·N·(C + H)·4H.
// Backward: as delta_gru's with 4H for 3H (macs_dense T·N·4H·(2H + C·(dx ? 2 : 1))).
using Stats = delta_gru::Stats;

// Floats the forward pass saves for the backward pass: T·N·(2C + 7H). Layout, region after region,
// each time-major: x̂ [T,N,C], its mask [T,N,C] (1.0f kept / 0.0f), ĥ [T,N,H], its mask [T,N,H],
// the activated gates [T,N,4H] (i, f, g, o per row), c [T,N,H].
size_t CacheSize(const Dims& d);

// cache may be null (inference); stats may be null. cN [N,H] (the last cell state) may be null.
// Throws std::invalid_argument when o.qa is on and cache is not null (qa is inference only).
void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             float* y, float* cN, float* cache, Stats* stats);

// dy [T,N,H] (may be null: zero), dcN [N,H] the gradient of the last cell state (may be null). dx
// may be null; it is written. The weight gradients are added into g. o: the forward call's options.
// x and y are not read (x̂, ĥ and c are in the cache); they stay for symmetry with delta_gru.
void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* y, const float* cache, const float* dy, const float* dcN, float* dx,
              const Grads& g, Stats* stats);

}  // namespace delta_lstm
}  // namespace evnn
