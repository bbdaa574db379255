// Dense LSTM on the CPU, haste/cuDNN style: the input projections of a time chunk in one GEMM,
// one recurrent GEMM per step accumulated onto them, and one fused (vectorised, threaded)
// pointwise kernel per step. Backward runs time backwards with one GEMM per step for dh_{t-1};
// the weight and input gradients are a few large GEMMs per time chunk, accumulated (beta = 1)
// into the caller's gradients. In an LSTM the input-side and hidden-side gate pre-activation
// gradients are the same tensor, so one buffer dG [steps, N, 4H] feeds all of them and
// db_ih = db_hh = Σ dG.
//
// All scratch comes from ctx.workspace inside one Scope per call. Each output element is summed
// by one thread in a fixed order (the builtin GEMM, column sums in row order, pointwise work
// element-wise), so results do not depend on the thread count.
#include "evnn/lstm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "column_sums.h"
#include "evnn/context.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace lstm {

namespace {

constexpr int kGates = 4;                              // i, f, g, o
// Elements per thread below which waking another thread costs more than it saves (an LSTM
// element costs five transcendental functions forward, about as much backward).
constexpr int64_t kForwardGrain = 2048;
constexpr int64_t kBackwardGrain = 4096;

using recurrent::for_each_segment;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("lstm", fn, d.T, d.N, d.C, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("lstm", p, fn, name); }

void check_ctx(const Context& ctx, const char* fn) {
  if (ctx.backend != Backend::kCpu) {
    throw std::invalid_argument(std::string("evnn::lstm::") + fn +
                                ": ctx.backend is not the CPU, and this build runs the LSTM on the CPU only");
  }
  require(ctx.workspace, fn, "ctx.workspace");
}

// Steps per time chunk whose [steps, N, 4H] buffer fits the budget: at least one, at most T.
int steps_per_chunk(const Dims& d, const Options& o) {
  return recurrent::steps_per_chunk_of(d.T, size_t(d.N) * kGates * d.H, recurrent::chunk_budget(o.chunk_floats));
}

// One step for row segment [j0, j1). a: the row's pre-activations without biases (W x + U h),
// bias: b_ih + b_hh. Writes h, c and, when caching, the four activations.
template <bool kCache>
inline void forward_segment(int H, int j0, int j1, const float* __restrict a,
                            const float* __restrict bias, const float* __restrict c_prev,
                            float* __restrict h, float* __restrict c, float* __restrict gates) {
  for (int j = j0; j < j1; ++j) {
    const float i = vmath::sigmoid(a[j] + bias[j]);
    const float f = vmath::sigmoid(a[H + j] + bias[H + j]);
    const float g = vmath::tanh(a[2 * H + j] + bias[2 * H + j]);
    const float o = vmath::sigmoid(a[3 * H + j] + bias[3 * H + j]);
    const float cn = f * c_prev[j] + i * g;
    c[j] = cn;
    h[j] = o * vmath::tanh(cn);
    if (kCache) {
      gates[j] = i;
      gates[H + j] = f;
      gates[2 * H + j] = g;
      gates[3 * H + j] = o;
    }
  }
}

// Gradients of one step for row segment [j0, j1). dh: dL/dh_t from later steps (without dy_t);
// dc: dL/dc_t from later steps on entry, dL/dc_{t-1} (the part through f ⊙ c) on exit.
// Writes dL/d(pre-activation) of the four gates into da.
inline void backward_segment(int H, int j0, int j1, const float* __restrict dh,
                             const float* __restrict dy, const float* __restrict gates,
                             const float* __restrict c, const float* __restrict c_prev,
                             float* __restrict dc, float* __restrict da) {
  for (int j = j0; j < j1; ++j) {
    const float i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
    const float tc = vmath::tanh(c[j]);  // the same function as the forward: the same value
    const float dh_t = dh[j] + dy[j];
    const float dc_t = dc[j] + dh_t * o * (1.0f - tc * tc);
    da[j] = dc_t * g * i * (1.0f - i);
    da[H + j] = dc_t * c_prev[j] * f * (1.0f - f);
    da[2 * H + j] = dc_t * i * (1.0f - g * g);
    da[3 * H + j] = dh_t * tc * o * (1.0f - o);
    dc[j] = dc_t * f;
  }
}

}  // namespace

size_t CacheSize(const Dims& d) {
  check_dims(d, "CacheSize");
  return size_t(d.T) * d.N * (kGates + 1) * d.H;
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& opt, const float* x,
             const float* h0, const float* c0, float* y, float* cN, float* cache) {
  check_ctx(ctx, "Forward");
  check_dims(d, "Forward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H;
  const size_t NH = size_t(N) * H;
  if (N == 0 || H == 0) return;
  if (T == 0) {  // the last cell state is the initial one
    if (cN) {
      if (c0) std::copy(c0, c0 + NH, cN);
      else std::fill(cN, cN + NH, 0.0f);
    }
    return;
  }
  if (C > 0) require(w.w_ih, "Forward", "w_ih");  // [4H, 0] may be null
  require(w.w_hh, "Forward", "w_hh");
  require(w.b_ih, "Forward", "b_ih");
  require(w.b_hh, "Forward", "b_hh");
  require(y, "Forward", "y");
  if (C > 0) require(x, "Forward", "x");

  Workspace& ws = *ctx.workspace;
  Workspace::Scope scope(ws);
  const int S = steps_per_chunk(d, opt);
  float* pre = ws.Floats(size_t(S) * N * G);  // W x (+ U h), one chunk
  float* bias = ws.Floats(G);
  for (int k = 0; k < G; ++k) bias[k] = w.b_ih[k] + w.b_hh[k];
  // Without a cache the cell state ping-pongs between two buffers (no aliasing in the kernel).
  float* c_buf[2] = {nullptr, nullptr};
  if (!cache) c_buf[0] = ws.Floats(NH), c_buf[1] = ws.Floats(NH);
  const float* c_prev = c0 ? c0 : ws.Zeros(NH);
  float* cache_gates = cache;
  float* cache_c = cache ? cache + size_t(T) * N * G : nullptr;

  for (int t0 = 0; t0 < T; t0 += S) {
    const int t1 = std::min(T, t0 + S);
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::No, Trans::Yes, rows, G, C, 1.0f, x + size_t(t0) * N * C, C, w.w_ih, C, 0.0f, pre, G);
    } else {
      std::fill(pre, pre + size_t(rows) * G, 0.0f);
    }
    for (int t = t0; t < t1; ++t) {
      float* a_t = pre + size_t(t - t0) * N * G;
      const float* h_prev = t > 0 ? y + size_t(t - 1) * NH : h0;
      if (h_prev) gemm(Trans::No, Trans::Yes, N, G, H, 1.0f, h_prev, H, w.w_hh, H, 1.0f, a_t, G);
      float* y_t = y + size_t(t) * NH;
      float* c_t = cache ? cache_c + size_t(t) * NH : c_buf[t & 1];
      float* g_t = cache ? cache_gates + size_t(t) * N * G : nullptr;
      for_each_segment(N, H, kForwardGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        if (g_t) {
          forward_segment<true>(H, j0, j1, a_t + gi, bias, c_prev + hi, y_t + hi, c_t + hi, g_t + gi);
        } else {
          forward_segment<false>(H, j0, j1, a_t + gi, bias, c_prev + hi, y_t + hi, c_t + hi, nullptr);
        }
      });
      c_prev = c_t;
    }
  }
  if (cN) std::copy(c_prev, c_prev + NH, cN);
}

void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& opt, const float* x,
              const float* h0, const float* c0, const float* y, const float* cache, const float* dy,
              const float* dhN, const float* dcN, float* dx, float* dh0, float* dc0, const Grads& g) {
  check_ctx(ctx, "Backward");
  check_dims(d, "Backward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H;
  const size_t NH = size_t(N) * H;
  if (C > 0) require(g.dw_ih, "Backward", "dw_ih");  // [4H, 0] may be null
  require(g.dw_hh, "Backward", "dw_hh");
  require(g.db_ih, "Backward", "db_ih");
  require(g.db_hh, "Backward", "db_hh");
  if (T == 0 || N == 0 || H == 0) {  // nothing depends on the weights: the gradients stay as given
    if (dx) std::fill(dx, dx + size_t(T) * N * C, 0.0f);
    if (dh0) {
      if (dhN && T == 0) std::copy(dhN, dhN + NH, dh0);
      else std::fill(dh0, dh0 + NH, 0.0f);
    }
    if (dc0) {
      if (dcN && T == 0) std::copy(dcN, dcN + NH, dc0);
      else std::fill(dc0, dc0 + NH, 0.0f);
    }
    return;
  }
  if (C > 0) require(w.w_ih, "Backward", "w_ih");
  require(w.w_hh, "Backward", "w_hh");
  require(y, "Backward", "y");
  require(cache, "Backward", "cache");
  if (C > 0) require(x, "Backward", "x");

  Workspace& ws = *ctx.workspace;
  Workspace::Scope scope(ws);
  const int S = steps_per_chunk(d, opt);
  float* dG = ws.Floats(size_t(S) * N * G);  // gate pre-activation gradients of one chunk
  float* dh = ws.Floats(NH);                 // dL/dh_t from later steps
  float* dc = ws.Floats(NH);                 // dL/dc_t from later steps
  if (dhN) std::copy(dhN, dhN + NH, dh);
  else std::fill(dh, dh + NH, 0.0f);
  if (dcN) std::copy(dcN, dcN + NH, dc);
  else std::fill(dc, dc + NH, 0.0f);
  const float* zeros = (!dy || !c0) ? ws.Zeros(NH) : nullptr;
  // Σ dG per column in float64 across chunks (64-byte aligned, zero bits = 0.0).
  double* bias_sum = reinterpret_cast<double*>(ws.Zeros(2 * size_t(G)));
  const float* cache_gates = cache;
  const float* cache_c = cache + size_t(T) * N * G;

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* dy_t = dy ? dy + size_t(t) * NH : zeros;
      const float* g_t = cache_gates + size_t(t) * N * G;
      const float* c_t = cache_c + size_t(t) * NH;
      const float* c_prev = t > 0 ? cache_c + size_t(t - 1) * NH : (c0 ? c0 : zeros);
      float* dG_t = dG + size_t(t - t0) * N * G;
      for_each_segment(N, H, kBackwardGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        backward_segment(H, j0, j1, dh + hi, dy_t + hi, g_t + gi, c_t + hi, c_prev + hi, dc + hi, dG_t + gi);
      });
      // dL/dh_{t-1} = dG_t · W_hh (the only path from h_{t-1}); dh was read above, so overwrite
      // it (at t = 0 the result goes straight to dh0, when wanted).
      if (t > 0) {
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dG_t, G, w.w_hh, H, 0.0f, dh, H);
      } else if (dh0) {
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dG_t, G, w.w_hh, H, 0.0f, dh0, H);
      }
    }

    // Weight and input gradients of the whole chunk, rows = steps·N.
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dG, G, x + size_t(t0) * N * C, C, 1.0f, g.dw_ih, C);
      if (dx) gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dG, G, w.w_ih, C, 0.0f, dx + size_t(t0) * N * C, C);
    }
    // dW_hh pairs step t's dG with h_{t-1}: y[t-1] for t >= 1 (contiguous), h0 for t = 0
    // (no term when h0 is null: it is zero).
    int first_y_step = t0;
    if (t0 == 0) {
      if (h0) gemm(Trans::Yes, Trans::No, G, H, N, 1.0f, dG, G, h0, H, 1.0f, g.dw_hh, H);
      first_y_step = 1;
    }
    if (first_y_step < t1) {
      const int yrows = (t1 - first_y_step) * N;
      gemm(Trans::Yes, Trans::No, G, H, yrows, 1.0f, dG + size_t(first_y_step - t0) * N * G, G,
           y + size_t(first_y_step - 1) * NH, H, 1.0f, g.dw_hh, H);
    }
    add_column_sums(dG, rows, G, 0, G, bias_sum);
    t1 = t0;
  }

  for (int k = 0; k < G; ++k) {
    const float s = float(bias_sum[k]);
    g.db_ih[k] += s;
    g.db_hh[k] += s;
  }
  if (dc0) std::copy(dc, dc + NH, dc0);
}

}  // namespace lstm
}  // namespace evnn
