// Dense GRU on the CPU, haste/cuDNN style: the input projections of many steps in one GEMM,
// one recurrent GEMM per step, and one fused (vectorised, threaded) pointwise kernel per step.
// Backward runs the time loop backwards with one GEMM per step for dh_{t-1} and leaves the
// weight and input gradients to a few large GEMMs per time chunk.
#include "evnn/gru.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "column_sums.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace gru {

namespace {

// Cache row per (t, n): r, z, n, and U_n h + b_hn (needed for dr), H floats each.
constexpr int kCacheGates = 4;
// Elements per thread below which waking another thread costs more than it saves.
constexpr int64_t kForwardGrain = 4096;
constexpr int64_t kBackwardGrain = 8192;

using recurrent::for_each_segment;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("gru", fn, d.T, d.N, d.C, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("gru", p, fn, name); }
int steps_per_chunk(const Dims& d, const Options& o) {
  return recurrent::steps_per_chunk(d.T, d.N, d.H, recurrent::chunk_budget(o.chunk_floats));
}

// One step's gates for row segment [j0, j1): gx, gh are the raw GEMM outputs (no biases).
template <bool kCache>
inline void forward_segment(int H, int j0, int j1, const float* __restrict gx,
                            const float* __restrict gh, const float* __restrict b_ih,
                            const float* __restrict b_hh, const float* __restrict hprev,
                            float* __restrict h, float* __restrict cache) {
  for (int j = j0; j < j1; ++j) {
    const float r = vmath::sigmoid(gx[j] + b_ih[j] + gh[j] + b_hh[j]);
    const float z = vmath::sigmoid(gx[H + j] + b_ih[H + j] + gh[H + j] + b_hh[H + j]);
    const float hn = gh[2 * H + j] + b_hh[2 * H + j];
    const float n = vmath::tanh(gx[2 * H + j] + b_ih[2 * H + j] + r * hn);
    h[j] = n + z * (hprev[j] - n);  // (1 - z) n + z h
    if (kCache) {
      cache[j] = r;
      cache[H + j] = z;
      cache[2 * H + j] = n;
      cache[3 * H + j] = hn;
    }
  }
}

// Gradients of one step for row segment [j0, j1). dh_next: dL/dh_t from later steps; writes
// the gate pre-activation gradients for the input side (r, z, n) and the hidden side
// (r, z, r ⊙ dn) and the direct part z ⊙ dh of dL/dh_{t-1}.
inline void backward_segment(int H, int j0, int j1, const float* __restrict dh_next,
                             const float* __restrict dy, const float* __restrict c,
                             const float* __restrict hprev, float* __restrict dgx,
                             float* __restrict dgh, float* __restrict dh_prev) {
  for (int j = j0; j < j1; ++j) {
    const float g = dh_next[j] + dy[j];
    const float r = c[j], z = c[H + j], n = c[2 * H + j], hn = c[3 * H + j];
    const float da_n = g * (1.0f - z) * (1.0f - n * n);
    const float da_z = g * (hprev[j] - n) * z * (1.0f - z);
    const float da_r = da_n * hn * r * (1.0f - r);
    dgx[j] = da_r;
    dgx[H + j] = da_z;
    dgx[2 * H + j] = da_n;
    dgh[j] = da_r;
    dgh[H + j] = da_z;
    dgh[2 * H + j] = da_n * r;
    dh_prev[j] = g * z;
  }
}

}  // namespace

size_t CacheSize(const Dims& d) {
  check_dims(d, "CacheSize");
  return size_t(d.T) * d.N * kCacheGates * d.H;
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             const float* h0, float* y, float* cache) {
  check_dims(d, "Forward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  if (T == 0 || N == 0 || H == 0) return;
  require(w.w_ih, "Forward", "w_ih");
  require(w.w_hh, "Forward", "w_hh");
  require(w.b_ih, "Forward", "b_ih");
  require(w.b_hh, "Forward", "b_hh");
  require(y, "Forward", "y");
  if (C > 0) require(x, "Forward", "x");

  const int S = steps_per_chunk(d, o);
  Workspace& ws = recurrent::workspace_of(ctx, "gru");
  Workspace::Scope scope(ws);
  float* gx = ws.Floats(size_t(S) * N * G);
  float* gh = ws.Floats(size_t(N) * G);
  const float* zeros = h0 ? nullptr : ws.Zeros(size_t(N) * H);
  const size_t NH = size_t(N) * H;

  for (int t0 = 0; t0 < T; t0 += S) {
    const int t1 = std::min(T, t0 + S);
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::No, Trans::Yes, rows, G, C, 1.0f, x + size_t(t0) * N * C, C, w.w_ih, C, 0.0f,
           gx, G);
    } else {
      std::fill(gx, gx + size_t(rows) * G, 0.0f);
    }
    for (int t = t0; t < t1; ++t) {
      const float* hprev = t > 0 ? y + (t - 1) * NH : h0;
      if (hprev) {
        gemm(Trans::No, Trans::Yes, N, G, H, 1.0f, hprev, H, w.w_hh, H, 0.0f, gh, G);
      } else {
        std::fill(gh, gh + size_t(N) * G, 0.0f);
        hprev = zeros;
      }
      const float* gx_t = gx + size_t(t - t0) * N * G;
      float* y_t = y + t * NH;
      float* cache_t = cache ? cache + size_t(t) * N * kCacheGates * H : nullptr;
      for_each_segment(N, H, kForwardGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        if (cache_t) {
          forward_segment<true>(H, j0, j1, gx_t + gi, gh + gi, w.b_ih, w.b_hh, hprev + hi,
                                y_t + hi, cache_t + size_t(n) * kCacheGates * H);
        } else {
          forward_segment<false>(H, j0, j1, gx_t + gi, gh + gi, w.b_ih, w.b_hh, hprev + hi,
                                 y_t + hi, nullptr);
        }
      });
    }
  }
}

void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* h0, const float* y, const float* cache, const float* dy, const float* dhT,
              float* dx, float* dh0, const Grads& g) {
  check_dims(d, "Backward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  require(g.dw_ih, "Backward", "dw_ih");
  require(g.dw_hh, "Backward", "dw_hh");
  require(g.db_ih, "Backward", "db_ih");
  require(g.db_hh, "Backward", "db_hh");
  const size_t NH = size_t(N) * H;
  if (T == 0 || N == 0 || H == 0) {  // nothing depends on the weights: nothing to add
    if (dx) std::fill(dx, dx + size_t(T) * N * C, 0.0f);
    if (dh0) {
      if (dhT) std::copy(dhT, dhT + NH, dh0);
      else std::fill(dh0, dh0 + NH, 0.0f);
    }
    return;
  }
  require(w.w_ih, "Backward", "w_ih");
  require(w.w_hh, "Backward", "w_hh");
  require(y, "Backward", "y");
  require(cache, "Backward", "cache");
  if (C > 0) require(x, "Backward", "x");

  const int S = steps_per_chunk(d, o);
  Workspace& ws = recurrent::workspace_of(ctx, "gru");
  Workspace::Scope scope(ws);
  float* dgx = ws.Floats(size_t(S) * N * G);
  float* dgh = ws.Floats(size_t(S) * N * G);
  float* dh_a = ws.Floats(NH);
  float* dh_b = ws.Floats(NH);
  // A null dy is a zero upstream gradient (only dhT reaches the sequence).
  const float* dy_all = dy ? dy : ws.Zeros(NH);
  const size_t dy_step = dy ? NH : 0;
  const float* h_init = h0 ? h0 : ws.Zeros(NH);
  if (dhT) std::copy(dhT, dhT + NH, dh_a);
  else std::fill(dh_a, dh_a + NH, 0.0f);
  std::vector<double> sum_dgh(G, 0.0), sum_dgx_n(H, 0.0);

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* hprev = t > 0 ? y + (t - 1) * NH : h_init;
      const float* dy_t = dy_all + t * dy_step;
      const float* cache_t = cache + size_t(t) * N * kCacheGates * H;
      float* dgx_t = dgx + size_t(t - t0) * N * G;
      float* dgh_t = dgh + size_t(t - t0) * N * G;
      const float* dh_next = dh_a;
      float* dh_prev = dh_b;
      for_each_segment(N, H, kBackwardGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        backward_segment(H, j0, j1, dh_next + hi, dy_t + hi,
                         cache_t + size_t(n) * kCacheGates * H, hprev + hi, dgx_t + gi,
                         dgh_t + gi, dh_prev + hi);
      });
      if (t > 0 || dh0) {
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dgh_t, G, w.w_hh, H, 1.0f, dh_prev, H);
      }
      std::swap(dh_a, dh_b);
    }

    // Weight and input gradients of the whole chunk, rows = steps·N, added into the gradients.
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dgx, G, x + size_t(t0) * N * C, C, 1.0f, g.dw_ih, C);
      if (dx) {
        gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dgx, G, w.w_ih, C, 0.0f,
             dx + size_t(t0) * N * C, C);
      }
    }
    // dW_hh pairs step t's dgh with h_{t-1}: y[t-1] for t >= 1 (contiguous), h0 for t = 0.
    int first_y_step = t0;
    if (t0 == 0) {
      if (h0) {
        gemm(Trans::Yes, Trans::No, G, H, N, 1.0f, dgh, G, h0, H, 1.0f, g.dw_hh, H);
      }
      first_y_step = 1;
    }
    if (first_y_step < t1) {
      const int yrows = (t1 - first_y_step) * N;
      gemm(Trans::Yes, Trans::No, G, H, yrows, 1.0f, dgh + size_t(first_y_step - t0) * N * G,
           G, y + (first_y_step - 1) * NH, H, 1.0f, g.dw_hh, H);
    }
    // Bias gradients: the r and z blocks of dgx equal dgh's, so only dgx's n block is summed.
    add_column_sums(dgh, rows, G, 0, G, sum_dgh.data());
    add_column_sums(dgx, rows, G, 2 * H, G, sum_dgx_n.data());
    t1 = t0;
  }

  for (int k = 0; k < G; ++k) {
    g.db_hh[k] += float(sum_dgh[k]);
    g.db_ih[k] += k < 2 * H ? float(sum_dgh[k]) : float(sum_dgx_n[k - 2 * H]);
  }
  if (dh0) std::copy(dh_a, dh_a + NH, dh0);
}

}  // namespace gru
}  // namespace evnn
