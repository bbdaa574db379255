// Dense LSTM layer (PyTorch nn.LSTM / cuDNN form), forward and backward over a whole sequence.
//   i = σ(W_i x + b_ii + U_i h + b_hi),  f = σ(W_f x + b_if + U_f h + b_hf)
//   g = tanh(W_g x + b_ig + U_g h + b_hg), o = σ(W_o x + b_io + U_o h + b_ho)
//   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
// Layouts are PyTorch's: w_ih [4H,C], w_hh [4H,H], b_ih [4H], b_hh [4H]; gate blocks (i, f, g, o).
// Tensors are time-major float32: x [T,N,C], y [T,N,H] (y[t] = h after step t), h0, c0 [N,H].
//
// Every call takes the Context first and draws all its scratch from ctx.workspace (released
// before it returns). Backward ACCUMULATES (+=) into the parameter gradients, so a weight used
// more than once receives every contribution; the caller zeroes them once per optimiser step.
// dx, dh0 and dc0 are written (overwritten). Results do not depend on the thread count (with the
// builtin GEMM): every output element is summed in a fixed order.
#pragma once
#include <cstddef>

#include "evnn/context.h"

namespace evnn {
namespace lstm {

struct Dims {
  int T, N, C, H;
};

struct Weights {
  const float* w_ih;
  const float* w_hh;
  const float* b_ih;
  const float* b_hh;
};

struct Grads {  // accumulated (+=) by Backward
  float* dw_ih;
  float* dw_hh;
  float* db_ih;
  float* db_hh;
};

struct Options {
  // Per-chunk scratch budget in floats (0 = 4 Mi): time is processed in chunks of steps whose
  // [steps, N, 4H] gate buffer fits it (at least one step). Tests lower it to take the
  // multi-chunk path; the numbers differ only by the rounding of the chunked GEMM sums.
  size_t chunk_floats = 0;
};

// Floats a training forward saves for backward: T·N·5H, laid out as
//   gates [T, N, 4H]  (post-activation i, f, g, o; row (t, n) holds the four H-blocks in order)
//   c     [T, N, H]   (the cell state after step t)
// starting at cache[0] and cache[T·N·4H].
size_t CacheSize(const Dims& d);

// h0, c0 may be null (zeros); cache null = inference; cN [N,H] may be null (the last cell state;
// c0, or zeros, when T = 0).
void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             const float* h0, const float* c0, float* y, float* cN, float* cache);

// x, h0, c0, y and cache as given to / written by the training Forward.
// dy [T,N,H] may be null (zero); dhN, dcN [N,H] extra gradients on the last h and c, may be null.
// dx [T,N,C], dh0, dc0 [N,H] may each be null (not wanted). Parameter gradients are added to g.
void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* h0, const float* c0, const float* y, const float* cache, const float* dy,
              const float* dhN, const float* dcN, float* dx, float* dh0, float* dc0, const Grads& g);

}  // namespace lstm
}  // namespace evnn
