// Dense GRU layer (PyTorch nn.GRU / cuDNN form), forward and backward over a whole sequence.
//   r = σ(W_r x + b_ir + U_r h + b_hr), z = σ(W_z x + b_iz + U_z h + b_hz)
//   n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn)),  h' = (1−z) ⊙ n + z ⊙ h
// Layouts are PyTorch's: w_ih [3H,C], w_hh [3H,H], b_ih [3H], b_hh [3H]; gate blocks (r, z, n).
// Tensors are time-major float32: x [T,N,C], y [T,N,H] (y[t] = h_{t+1}), h0 [N,H].
#pragma once
#include <cstddef>

#include "evnn/context.h"

namespace evnn {
namespace gru {

struct Dims {
  int T, N, C, H;
};

struct Weights {
  const float* w_ih;
  const float* w_hh;
  const float* b_ih;
  const float* b_hh;
};

struct Options {
  // Time is processed in chunks whose scratch ([steps, N, 3H] floats per buffer) stays under this
  // many floats, while each chunk's GEMMs still have steps·N rows (0 = 4 Mi). Tests lower it.
  size_t chunk_floats = 0;
};

struct Grads {  // accumulated (+=) by Backward, so a shared weight gets every use
  float* dw_ih;
  float* dw_hh;
  float* db_ih;
  float* db_hh;
};

// Floats the forward pass saves for the backward pass.
size_t CacheSize(const Dims& d);

// h0 may be null (zeros). cache may be null when no backward pass will follow (inference).
void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             const float* h0, float* y, float* cache);

// dy [T,N,H] is dL/dy (may be null: zero); dhT [N,H] (may be null) is an extra gradient on the
// last state. dx may be null (first layer on data). dh0 [N,H] may be null. dx and dh0 are
// written; the weight gradients are added into g.
void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* h0, const float* y, const float* cache, const float* dy, const float* dhT,
              float* dx, float* dh0, const Grads& g);

}  // namespace gru
}  // namespace evnn
