// DeltaLSTM on the CPU, built like delta_gru.cc. Forward: per step, the thresholded deltas of x
// and h_{t-1} per batch row (with their nonzero lists), then the event-driven products
// M += Δx·W^T + Δh·U^T over the nonzero entries only (rows of the transposed weights, so each
// event reads contiguous memory; work scales with the events), then the fused pointwise gates
// and cell. Backward: BPTT with the masks held constant (see delta_lstm.h). One gradient buffer
// dG of the gate pre-activations serves both sides (M = b + W x̂ + U ĥ, as in lstm.cc); per step
// one GEMM for dL/dĥ and the mask recursion that routes it to h_{t'-1} of the last update, per
// time chunk a few large GEMMs for dW_ih, dW_hh and dL/dx̂ (routed to x likewise).
// Every output element is summed in an order that does not depend on the thread split: the
// products run over the event list in order per element, the GEMMs are the engine's, the bias
// sums are float64 column sums in row order.
//
// Quantisation (Options::qa / qw), with Q_a, Q_n, Q_w the activation, nonlinear and weight
// formats of fixed_point.h — where the reference's DeltaLSTM quantises:
//   qw (training and inference): the memory start M_0 = Q_w(b_ih + b_hh); backward multiplies
//      the bias gradient by PassThrough(b_ih + b_hh) (zero where Q_w saturates);
//   qa (inference only):  x_t ← Q_a(x_t) before its delta; Θx, Θh ← Q_a(Θ) (for the zeroing and
//      for the memory update alike); the four pre-activations Q_a(M); the gates
//      i, f, o = Q_n(σ(·)), g = Q_n(tanh(·)); the cell c_t = Q_a(f ⊙ c_{t-1} + i ⊙ g) (the state
//      carried on and cN are this quantised value; the products themselves are not quantised);
//      tanh(c_t) → Q_n; h_t = Q_a(o ⊙ Q_n(tanh c_t)). The memories M themselves accumulate
//      unquantised, as the reference's.
#include "evnn/delta_lstm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "column_sums.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace delta_lstm {

namespace {

constexpr int kGates = 4;  // i, f, g, o (PyTorch's order)
constexpr int64_t kPointGrain = 4096;
constexpr int64_t kEventGrain = 1024;

using fixed_point::Quantize;
using recurrent::for_each_segment;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("delta_lstm", fn, d.T, d.N, d.C, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("delta_lstm", p, fn, name); }

int steps_per_chunk(const Dims& d, const Options& o) {
  // The backward's per-step buffers hold [N, max(4H, C)] floats (gate and input gradients).
  return recurrent::steps_per_chunk_of(d.T, size_t(d.N) * std::max(kGates * d.H, d.C),
                                       recurrent::chunk_budget(o.chunk_floats));
}

// Cache regions, each time-major: x̂ and its mask, ĥ and its mask (as delta_gru), the four
// activated gates, and the cell state after the step.
struct CacheView {
  float *xhat, *mx, *hhat, *mh, *gates, *c;
};
CacheView view(const Dims& d, float* p) {
  const size_t TNC = size_t(d.T) * d.N * d.C, TNH = size_t(d.T) * d.N * d.H;
  float* gates = p + 2 * TNC + 2 * TNH;
  return {p, p + TNC, p + 2 * TNC, p + 2 * TNC + TNH, gates, gates + kGates * TNH};
}

// Δ of one row of width W against the memory `hat`, thresholded (kept where |Δ| >= theta);
// updates hat where kept, writes the mask (1/0), appends the nonzero entries to (idx, val) and
// returns their count. With kQuant the incoming values are first quantised to `q` (qa's x).
template <bool kQuant>
inline int delta_row(int W, float theta, const float* __restrict v, float* __restrict hat,
                     float* __restrict mask, int32_t* __restrict idx, float* __restrict val,
                     const fixed_point::Format& q) {
  int nnz = 0;
  for (int c = 0; c < W; ++c) {
    const float vc = kQuant ? Quantize(v[c], q, true) : v[c];
    const float dlt = vc - hat[c];
    const bool keep = std::fabs(dlt) >= theta;
    mask[c] = keep ? 1.0f : 0.0f;
    if (keep) {
      hat[c] = vc;
      if (dlt != 0.0f) {
        idx[nnz] = c;
        val[nnz] = dlt;
        ++nnz;
      }
    }
  }
  return nnz;
}

// dst [cols, rows] = src [rows, cols]^T, kRows source rows at a time: for each column those rows
// fill kRows consecutive floats of dst (a whole cache line), and the source is read as kRows
// sequential streams. (A plain transpose, or square tiles, writes or reads at a power-of-two
// stride — 4H floats — whose lines all map to the same few L1 sets: it cost more than a sparse
// forward's products.) Row blocks split over threads; each element written once.
inline void transpose(const float* __restrict src, int rows, int cols, float* __restrict dst) {
  constexpr int kRows = 16;
  const int64_t blocks = (rows + kRows - 1) / kRows;
  const int64_t grain = std::max<int64_t>(1, 65536 / (int64_t(kRows) * std::max(cols, 1)));
  parallel_for(0, blocks, grain, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const int r0 = int(blk) * kRows, r1 = std::min(rows, r0 + kRows);
      for (int c = 0; c < cols; ++c) {
        float* __restrict out = dst + size_t(c) * rows;
        for (int r = r0; r < r1; ++r) out[r] = src[size_t(r) * cols + c];
      }
    }
  });
}

// dst[j] (j in [j0, j1)) += Σ_e val[e] · Bt[idx[e], j], events in list order.
inline void event_accumulate(int j0, int j1, int nnz, const int32_t* idx, const float* val,
                             const float* Bt, int ldb, float* __restrict dst) {
  for (int e = 0; e < nnz; ++e) {
    const float v = val[e];
    const float* __restrict brow = Bt + size_t(idx[e]) * ldb;
    for (int j = j0; j < j1; ++j) dst[j] += v * brow[j];
  }
}

// One step's gates and cell for row segment [j0, j1): m the row's memory [4H], c_prev, c and h
// the row's [H]; gates (when caching) [4H].
inline void gates_segment(int H, int j0, int j1, const float* __restrict m, const float* __restrict c_prev,
                          float* __restrict c, float* __restrict h, float* __restrict gates) {
  for (int j = j0; j < j1; ++j) {
    const float i = vmath::sigmoid(m[j]);
    const float f = vmath::sigmoid(m[H + j]);
    const float g = vmath::tanh(m[2 * H + j]);
    const float o = vmath::sigmoid(m[3 * H + j]);
    const float cn = f * c_prev[j] + i * g;
    c[j] = cn;
    h[j] = o * vmath::tanh(cn);
    if (gates) gates[j] = i, gates[H + j] = f, gates[2 * H + j] = g, gates[3 * H + j] = o;
  }
}

// The same with qa's quantisation points (see the header comment; never cached).
inline void gates_segment_quantised(int H, int j0, int j1, const Options& o, const float* __restrict m,
                                    const float* __restrict c_prev, float* __restrict c, float* __restrict h) {
  const fixed_point::Format a = o.activation, nl = o.nonlinear;
  for (int j = j0; j < j1; ++j) {
    const float i = Quantize(vmath::sigmoid(Quantize(m[j], a, true)), nl, true);
    const float f = Quantize(vmath::sigmoid(Quantize(m[H + j], a, true)), nl, true);
    const float g = Quantize(vmath::tanh(Quantize(m[2 * H + j], a, true)), nl, true);
    const float og = Quantize(vmath::sigmoid(Quantize(m[3 * H + j], a, true)), nl, true);
    const float cn = Quantize(f * c_prev[j] + i * g, a, true);
    c[j] = cn;
    h[j] = Quantize(og * Quantize(vmath::tanh(cn), nl, true), a, true);
  }
}

// One step's gate pre-activation gradients for row segment [j0, j1). dh: dL/dh_t through later
// steps' ĥ (without dy_t); dc: dL/dc_t from later steps on entry, dL/dc_{t-1} on exit.
inline void backward_segment(int H, int j0, int j1, const float* __restrict dh, const float* __restrict dy,
                             const float* __restrict gates, const float* __restrict c,
                             const float* __restrict c_prev, float* __restrict dc, float* __restrict da) {
  for (int j = j0; j < j1; ++j) {
    const float i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
    const float tc = vmath::tanh(c[j]);  // the forward's function: the forward's value
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
  return size_t(d.T) * d.N * (2 * size_t(d.C) + (2 + kGates + 1) * size_t(d.H));
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             float* y, float* cN, float* cache, Stats* stats) {
  check_dims(d, "Forward");
  if (o.qa && cache) {
    throw std::invalid_argument("evnn::delta_lstm::Forward: qa (quantised activations) is inference only; "
                                "cache must be null");
  }
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H;
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  if (stats) *stats = Stats();
  if (N == 0 || H == 0) return;
  if (T == 0) {  // c_{-1} = 0
    if (cN) std::fill(cN, cN + NH, 0.0f);
    return;
  }
  if (C > 0) require(w.w_ih, "Forward", "w_ih");
  require(w.w_hh, "Forward", "w_hh");
  require(w.b_ih, "Forward", "b_ih");
  require(w.b_hh, "Forward", "b_hh");
  require(y, "Forward", "y");
  if (C > 0) require(x, "Forward", "x");

  Workspace& ws = recurrent::workspace_of(ctx, "delta_lstm");
  Workspace::Scope scope(ws);
  float* Wt = ws.Floats(std::max<size_t>(size_t(C) * G, 1));  // w_ih^T [C, 4H]
  float* Ut = ws.Floats(size_t(H) * G);                       // w_hh^T [H, 4H]
  if (C > 0) transpose(w.w_ih, G, C, Wt);
  transpose(w.w_hh, G, H, Ut);
  float* xhat = ws.Zeros(std::max<size_t>(NC, 1));
  float* hhat = ws.Zeros(NH);
  float* mxs = ws.Floats(std::max<size_t>(NC, 1));  // masks when there is no cache
  float* mhs = ws.Floats(NH);
  const float* zeros = ws.Zeros(NH);
  float* c_buf[2] = {ws.Floats(NH), ws.Floats(NH)};  // the cell state without a cache (ping-pong)
  float* mem = ws.Floats(size_t(N) * G);
  int32_t* xidx = reinterpret_cast<int32_t*>(ws.Floats(std::max<size_t>(NC, 1)));
  float* xval = ws.Floats(std::max<size_t>(NC, 1));
  int32_t* hidx = reinterpret_cast<int32_t*>(ws.Floats(NH));
  float* hval = ws.Floats(NH);
  std::vector<int> xnnz(N), hnnz(N);
  for (int k = 0; k < G; ++k) mem[k] = Quantize(w.b_ih[k] + w.b_hh[k], o.weight, o.qw);
  for (int n = 1; n < N; ++n) std::memcpy(mem + size_t(n) * G, mem, size_t(G) * sizeof(float));
  const float theta_x = Quantize(o.theta_x, o.activation, o.qa);
  const float theta_h = Quantize(o.theta_h, o.activation, o.qa);
  CacheView cv{};
  if (cache) cv = view(d, cache);
  int64_t nz_x = 0, nz_h = 0;
  const float* c_prev = zeros;

  for (int t = 0; t < T; ++t) {
    const float* hprev = t > 0 ? y + (t - 1) * NH : zeros;
    const float* x_t = C > 0 ? x + t * NC : nullptr;
    float* mx_t = cache ? cv.mx + t * NC : mxs;
    float* mh_t = cache ? cv.mh + t * NH : mhs;
    // 1. thresholded deltas and their event lists, one batch row per task (h is already
    // quantised under qa: it is the previous step's output)
    parallel_for(0, N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n) {
        const size_t xi = size_t(n) * C, hi = size_t(n) * H;
        int nx = 0;
        if (C > 0) {
          nx = o.qa ? delta_row<true>(C, theta_x, x_t + xi, xhat + xi, mx_t + xi, xidx + xi, xval + xi, o.activation)
                    : delta_row<false>(C, theta_x, x_t + xi, xhat + xi, mx_t + xi, xidx + xi, xval + xi, o.activation);
        }
        xnnz[n] = nx;
        hnnz[n] = delta_row<false>(H, theta_h, hprev + hi, hhat + hi, mh_t + hi, hidx + hi, hval + hi, o.activation);
      }
    });
    for (int n = 0; n < N; ++n) nz_x += xnnz[n], nz_h += hnnz[n];
    if (cache) {
      if (C > 0) std::memcpy(cv.xhat + t * NC, xhat, NC * sizeof(float));
      std::memcpy(cv.hhat + t * NH, hhat, NH * sizeof(float));
    }
    // 2. event-driven products into the memories: every element takes the x events, then the
    // h events, in list order
    for_each_segment(N, G, kEventGrain, [&](int n, int j0, int j1) {
      float* m = mem + size_t(n) * G;
      const size_t xi = size_t(n) * C, hi = size_t(n) * H;
      if (C > 0) event_accumulate(j0, j1, xnnz[n], xidx + xi, xval + xi, Wt, G, m);
      event_accumulate(j0, j1, hnnz[n], hidx + hi, hval + hi, Ut, G, m);
    });
    // 3. gates and cell
    float* y_t = y + t * NH;
    float* c_t = cache ? cv.c + t * NH : c_buf[t & 1];
    float* gates_t = cache ? cv.gates + size_t(t) * N * G : nullptr;
    for_each_segment(N, H, kPointGrain, [&](int n, int j0, int j1) {
      const float* m = mem + size_t(n) * G;
      const size_t hi = size_t(n) * H;
      if (o.qa) {
        gates_segment_quantised(H, j0, j1, o, m, c_prev + hi, c_t + hi, y_t + hi);
      } else {
        gates_segment(H, j0, j1, m, c_prev + hi, c_t + hi, y_t + hi, gates_t ? gates_t + size_t(n) * G : nullptr);
      }
    });
    c_prev = c_t;
  }
  if (cN) std::memcpy(cN, c_prev, NH * sizeof(float));
  if (stats) {
    const int64_t dx_total = int64_t(T) * N * C, dh_total = int64_t(T) * N * H;
    stats->dx_zeros = dx_total - nz_x;
    stats->dx_total = dx_total;
    stats->dh_zeros = dh_total - nz_h;
    stats->dh_total = dh_total;
    stats->zero_dx = dx_total ? double(stats->dx_zeros) / double(dx_total) : 0.0;
    stats->zero_dh = double(stats->dh_zeros) / double(dh_total);
    stats->zero_both = double(stats->dx_zeros + stats->dh_zeros) / double(dx_total + dh_total);
    stats->macs = double(nz_x + nz_h) * G;
    stats->macs_dense = double(dx_total + dh_total) * G;
  }
}

void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* y, const float* cache, const float* dy, const float* dcN, float* dx,
              const Grads& g, Stats* stats) {
  (void)x;  // x̂ (what the products saw) is in the cache
  (void)y;  // h_{t-1} reaches the products only through ĥ, also cached
  check_dims(d, "Backward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H;
  if (C > 0) require(g.dw_ih, "Backward", "dw_ih");
  require(g.dw_hh, "Backward", "dw_hh");
  require(g.db_ih, "Backward", "db_ih");
  require(g.db_hh, "Backward", "db_hh");
  if (stats) *stats = Stats();
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  if (T == 0 || N == 0 || H == 0) {  // nothing depends on the weights: the gradients stay as given
    if (dx) std::fill(dx, dx + size_t(T) * NC, 0.0f);
    return;
  }
  if (C > 0) require(w.w_ih, "Backward", "w_ih");
  require(w.w_hh, "Backward", "w_hh");
  if (o.qw) require(w.b_ih, "Backward", "b_ih"), require(w.b_hh, "Backward", "b_hh");
  require(cache, "Backward", "cache");
  const CacheView cv = view(d, const_cast<float*>(cache));

  const int S = steps_per_chunk(d, o);
  Workspace& ws = recurrent::workspace_of(ctx, "delta_lstm");
  Workspace::Scope scope(ws);
  float* dG = ws.Floats(size_t(S) * N * G);                    // gate pre-activation gradients
  float* dxh = ws.Floats(std::max<size_t>(size_t(S) * NC, 1));  // dL/dx̂ of the chunk's steps
  float* acc_x = ws.Zeros(std::max<size_t>(NC, 1));  // dL/dx̂ carried back through held entries
  float* acc_h = ws.Zeros(NH);                       // dL/dĥ likewise
  float* dh = ws.Zeros(NH);                          // dL/dh_t through later steps
  float* dc = ws.Floats(NH);                         // dL/dc_t from later steps
  if (dcN) std::memcpy(dc, dcN, NH * sizeof(float));
  else std::fill(dc, dc + NH, 0.0f);
  const float* zeros = ws.Zeros(NH);
  const float* dy_all = dy ? dy : zeros;
  const size_t dy_step = dy ? NH : 0;
  std::vector<double> bias_sum(G, 0.0);

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* dy_t = dy_all + t * dy_step;
      const float* gates_t = cv.gates + size_t(t) * N * G;
      const float* c_t = cv.c + t * NH;
      const float* c_prev = t > 0 ? cv.c + (t - 1) * NH : zeros;
      float* dG_t = dG + size_t(t - t0) * N * G;
      for_each_segment(N, H, kPointGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        backward_segment(H, j0, j1, dh + hi, dy_t + hi, gates_t + gi, c_t + hi, c_prev + hi, dc + hi, dG_t + gi);
      });
      // ĥ_t = mh_t ⊙ h_{t-1} + (1 − mh_t) ⊙ ĥ_{t-1}: dL/dĥ_t (later steps' held part plus this
      // step's U^T dG_t) goes to h_{t-1} where the entry was updated, and stays in acc_h for
      // ĥ_{t-1} where it was held. dh was read above, so it is overwritten. At t = 0, h_{-1} = 0
      // is a constant: nothing to route.
      if (t > 0) {
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dG_t, G, w.w_hh, H, 1.0f, acc_h, H);
        const float* mh_t = cv.mh + t * NH;
        parallel_for(0, int64_t(NH), kPointGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const float m = mh_t[i], a = acc_h[i];
            dh[i] = m * a;
            acc_h[i] = a - m * a;
          }
        });
      }
    }
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dG, G, cv.xhat + size_t(t0) * NC, C, 1.0f, g.dw_ih, C);
      if (dx) {  // x̂ routes to the x of its last update, as ĥ above
        gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dG, G, w.w_ih, C, 0.0f, dxh, C);
        for (int t = t1 - 1; t >= t0; --t) {
          const float* mx_t = cv.mx + t * NC;
          const float* dxh_t = dxh + size_t(t - t0) * NC;
          float* dx_t = dx + t * NC;
          parallel_for(0, int64_t(NC), kPointGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
              const float a = acc_x[i] + dxh_t[i], m = mx_t[i];
              dx_t[i] = m * a;
              acc_x[i] = a - m * a;
            }
          });
        }
      }
    }
    gemm(Trans::Yes, Trans::No, G, H, rows, 1.0f, dG, G, cv.hhat + size_t(t0) * NH, H, 1.0f, g.dw_hh, H);
    add_column_sums(dG, rows, G, 0, G, bias_sum.data());
    t1 = t0;
  }
  // M_0 = Q_w(b_ih + b_hh) under qw: straight through, zero where the quantiser saturates.
  for (int k = 0; k < G; ++k) {
    const bool saturated = o.qw && fixed_point::PassThrough(w.b_ih[k] + w.b_hh[k], o.weight) == 0.0f;
    const float s = saturated ? 0.0f : float(bias_sum[k]);
    g.db_ih[k] += s;
    g.db_hh[k] += s;
  }
  if (stats) {
    const double GT = double(G) * T * N;
    stats->macs = stats->macs_dense = GT * H * 2 + GT * C * (dx ? 2 : 1);  // dĥ, dW_hh; dW_ih, dx̂
  }
}

}  // namespace delta_lstm
}  // namespace evnn
