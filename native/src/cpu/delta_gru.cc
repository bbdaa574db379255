// DeltaGRU on the CPU. Forward: per step, the thresholded deltas of x and h_{t-1} per batch row
// (with their nonzero lists), then the event-driven products M += Δx·W^T, M += Δh·U^T over the
// nonzero entries only (rows of the transposed weights, so each event reads contiguous memory),
// then the fused pointwise gates. Backward: BPTT with the masks held constant (see delta_gru.h):
// one GEMM per step for dL/dĥ, a mask recursion that routes it to h_{t'-1} of the last update,
// and per time chunk a few large GEMMs for dW_ih, dW_hh and dL/dx̂, routed to x likewise.
// Every output element is summed in an order that does not depend on the thread split.
//
// Quantisation (Options::qa / qw), with Q_a, Q_n, Q_w the activation, nonlinear and weight
// formats of fixed_point.h — where the reference's DeltaGRU quantises:
//   qw (training and inference): the memory starts Q_w(b_ir + b_hr), Q_w(b_iz + b_hz), Q_w(b_in),
//      Q_w(b_hn); backward multiplies each bias gradient by PassThrough of its sum (zero where
//      Q_w saturates);
//   qa (inference only):  x_t ← Q_a(x_t) before its delta; Θx, Θh ← Q_a(Θ) (for the zeroing and
//      for the memory update alike); M_hn's start once more Q_a (the reference quantises that
//      memory's initial state in the activation format, the others not); pre-activations
//      Q_a(M_r), Q_a(M_z), Q_a(M_hn) and Q_a(M_xn + r ⊙ Q_a(M_hn)); the gates r, z = Q_n(σ(·)),
//      n = Q_n(tanh(·)); the two products Q_a((1 − z) ⊙ n) and Q_a(z ⊙ h_{t-1}); h_t = Q_a(their
//      sum). The memories themselves accumulate unquantised, as the reference's.
#include "evnn/delta_gru.h"

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
namespace delta_gru {

namespace {

constexpr int kGates = 4;  // cache gates row: r, z, n, M_hn
constexpr int64_t kPointGrain = 4096;
constexpr int64_t kEventGrain = 1024;

using fixed_point::Quantize;
using recurrent::for_each_segment;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("delta_gru", fn, d.T, d.N, d.C, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("delta_gru", p, fn, name); }

int steps_per_chunk(const Dims& d, const Options& o) {
  // The backward's per-step buffers hold [N, max(3H, C)] floats (gate and input gradients).
  return recurrent::steps_per_chunk_of(d.T, size_t(d.N) * std::max(3 * d.H, d.C), recurrent::chunk_budget(o.chunk_floats));
}

struct CacheView {
  float *xhat, *mx, *hhat, *mh, *gates;
};
CacheView view(const Dims& d, float* c) {
  const size_t TNC = size_t(d.T) * d.N * d.C, TNH = size_t(d.T) * d.N * d.H;
  return {c, c + TNC, c + 2 * TNC, c + 2 * TNC + TNH, c + 2 * TNC + 2 * TNH};
}

// Δ of one row of width W against the memory `hat`, thresholded; updates hat where kept,
// writes the mask (1/0), appends the nonzero entries to (idx, val) and returns their count.
// With kQuant the incoming values are first quantised to `q` (qa's x).
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

// dst[j] (j in [j0, j1)) += Σ_e val[e] · Bt[idx[e], col0 + j], events in list order.
inline void event_accumulate(int j0, int j1, int nnz, const int32_t* idx, const float* val,
                             const float* Bt, int ldb, int col0, float* __restrict dst) {
  for (int e = 0; e < nnz; ++e) {
    const float v = val[e];
    const float* __restrict brow = Bt + size_t(idx[e]) * ldb + col0;
    for (int j = j0; j < j1; ++j) dst[j] += v * brow[j];
  }
}

// One step's gates for row segment [j0, j1) with qa's quantisation points (never cached):
// m the row's memories (M_r, M_z, M_xn, M_hn), hp the row's h_{t-1}, h its output.
inline void gates_segment_quantised(int H, int j0, int j1, const Options& o, const float* __restrict m,
                                    const float* __restrict hp, float* __restrict h) {
  const fixed_point::Format a = o.activation, nl = o.nonlinear;
  for (int j = j0; j < j1; ++j) {
    const float r = Quantize(vmath::sigmoid(Quantize(m[j], a, true)), nl, true);
    const float z = Quantize(vmath::sigmoid(Quantize(m[H + j], a, true)), nl, true);
    const float hn = Quantize(m[3 * H + j], a, true);
    const float nn = Quantize(vmath::tanh(Quantize(m[2 * H + j] + r * hn, a, true)), nl, true);
    h[j] = Quantize(Quantize((1.0f - z) * nn, a, true) + Quantize(z * hp[j], a, true), a, true);
  }
}

}  // namespace

size_t CacheSize(const Dims& d) {
  check_dims(d, "CacheSize");
  return size_t(d.T) * d.N * (2 * size_t(d.C) + 2 * size_t(d.H) + kGates * size_t(d.H));
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
             float* y, float* cache, Stats* stats) {
  check_dims(d, "Forward");
  if (o.qa && cache) {
    throw std::invalid_argument("evnn::delta_gru::Forward: qa (quantised activations) is inference only; "
                                "cache must be null");
  }
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H, M4 = 4 * H;
  if (stats) *stats = Stats();
  if (T == 0 || N == 0 || H == 0) return;
  require(w.w_ih, "Forward", "w_ih");
  require(w.w_hh, "Forward", "w_hh");
  require(w.b_ih, "Forward", "b_ih");
  require(w.b_hh, "Forward", "b_hh");
  require(y, "Forward", "y");
  if (C > 0) require(x, "Forward", "x");

  Workspace& ws = recurrent::workspace_of(ctx, "delta_gru");
  Workspace::Scope scope(ws);
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  float* Wt = ws.Floats(std::max<size_t>(size_t(C) * G, 1));  // w_ih^T [C, 3H]
  float* Ut = ws.Floats(size_t(H) * G);                       // w_hh^T [H, 3H]
  if (C > 0) transpose(w.w_ih, G, C, Wt);
  transpose(w.w_hh, G, H, Ut);
  float* xhat = ws.Zeros(std::max<size_t>(NC, 1));
  float* hhat = ws.Zeros(NH);
  float* mxs = ws.Floats(std::max<size_t>(NC, 1));  // masks when there is no cache
  float* mhs = ws.Floats(NH);
  float* zeros = ws.Zeros(NH);
  float* mem = ws.Floats(size_t(N) * M4);  // per row: M_r, M_z, M_xn, M_hn
  int32_t* xidx = reinterpret_cast<int32_t*>(ws.Floats(std::max<size_t>(NC, 1)));
  float* xval = ws.Floats(std::max<size_t>(NC, 1));
  int32_t* hidx = reinterpret_cast<int32_t*>(ws.Floats(NH));
  float* hval = ws.Floats(NH);
  std::vector<int> xnnz(N), hnnz(N);
  std::vector<int64_t> xz(N), hz(N);
  for (int j = 0; j < 2 * H; ++j) mem[j] = Quantize(w.b_ih[j] + w.b_hh[j], o.weight, o.qw);
  for (int j = 0; j < H; ++j) {
    mem[2 * H + j] = Quantize(w.b_ih[2 * H + j], o.weight, o.qw);
    mem[3 * H + j] = Quantize(Quantize(w.b_hh[2 * H + j], o.weight, o.qw), o.activation, o.qa);
  }
  for (int n = 1; n < N; ++n) std::memcpy(mem + size_t(n) * M4, mem, size_t(M4) * sizeof(float));
  const float theta_x = Quantize(o.theta_x, o.activation, o.qa);
  const float theta_h = Quantize(o.theta_h, o.activation, o.qa);
  CacheView cv{};
  if (cache) cv = view(d, cache);
  int64_t dx_zeros = 0, dh_zeros = 0, nz_x = 0, nz_h = 0;

  for (int t = 0; t < T; ++t) {
    const float* hprev = t > 0 ? y + (t - 1) * NH : zeros;
    const float* x_t = C > 0 ? x + t * NC : nullptr;
    float* mx_t = cache ? cv.mx + t * NC : mxs;
    float* mh_t = cache ? cv.mh + t * NH : mhs;
    // 1. thresholded deltas and their event lists, one batch row per task
    parallel_for(0, N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n) {
        const size_t xi = size_t(n) * C, hi = size_t(n) * H;
        int nx = 0;
        if (C > 0) {
          nx = o.qa ? delta_row<true>(C, theta_x, x_t + xi, xhat + xi, mx_t + xi, xidx + xi, xval + xi, o.activation)
                    : delta_row<false>(C, theta_x, x_t + xi, xhat + xi, mx_t + xi, xidx + xi, xval + xi, o.activation);
        }
        xnnz[n] = nx;
        // h is already quantised under qa: it is the previous step's output
        hnnz[n] = delta_row<false>(H, theta_h, hprev + hi, hhat + hi, mh_t + hi, hidx + hi, hval + hi, o.activation);
        xz[n] = C - xnnz[n];
        hz[n] = H - hnnz[n];
      }
    });
    for (int n = 0; n < N; ++n) {
      dx_zeros += xz[n], dh_zeros += hz[n];
      nz_x += xnnz[n], nz_h += hnnz[n];
    }
    if (cache) {
      if (C > 0) std::memcpy(cv.xhat + t * NC, xhat, NC * sizeof(float));
      std::memcpy(cv.hhat + t * NH, hhat, NH * sizeof(float));
    }
    // 2. event-driven products into the memories: input side (cols r, z, xn = W's 3H), then
    // hidden side (U's r, z to M_r, M_z; U's n to M_hn)
    for_each_segment(N, G, kEventGrain, [&](int n, int j0, int j1) {
      float* m = mem + size_t(n) * M4;
      const size_t xi = size_t(n) * C, hi = size_t(n) * H;
      if (C > 0) event_accumulate(j0, j1, xnnz[n], xidx + xi, xval + xi, Wt, G, 0, m);
      const int a1 = std::min(j1, 2 * H);
      if (j0 < a1) event_accumulate(j0, a1, hnnz[n], hidx + hi, hval + hi, Ut, G, 0, m);
      const int b0 = std::max(j0, 2 * H);
      if (b0 < j1) event_accumulate(b0, j1, hnnz[n], hidx + hi, hval + hi, Ut, G, 0, m + H);
    });
    // 3. gates
    float* y_t = y + t * NH;
    float* gates_t = cache ? cv.gates + size_t(t) * N * kGates * H : nullptr;
    for_each_segment(N, H, kPointGrain, [&](int n, int j0, int j1) {
      const float* m = mem + size_t(n) * M4;
      const float* hp = hprev + size_t(n) * H;
      float* h = y_t + size_t(n) * H;
      if (o.qa) {
        gates_segment_quantised(H, j0, j1, o, m, hp, h);
        return;
      }
      float* c = gates_t ? gates_t + size_t(n) * kGates * H : nullptr;
      for (int j = j0; j < j1; ++j) {
        const float r = vmath::sigmoid(m[j]);
        const float z = vmath::sigmoid(m[H + j]);
        const float hn = m[3 * H + j];
        const float nn = vmath::tanh(m[2 * H + j] + r * hn);
        h[j] = nn + z * (hp[j] - nn);
        if (c) c[j] = r, c[H + j] = z, c[2 * H + j] = nn, c[3 * H + j] = hn;
      }
    });
  }
  if (stats) {
    stats->dx_zeros = dx_zeros;
    stats->dx_total = int64_t(T) * N * C;
    stats->dh_zeros = dh_zeros;
    stats->dh_total = int64_t(T) * N * H;
    stats->zero_dx = stats->dx_total ? double(dx_zeros) / double(stats->dx_total) : 0.0;
    stats->zero_dh = double(dh_zeros) / double(stats->dh_total);
    stats->zero_both = double(dx_zeros + dh_zeros) / double(stats->dx_total + stats->dh_total);
    stats->macs = double(nz_x + nz_h) * G;
    stats->macs_dense = double(T) * N * (C + H) * G;
  }
}

void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const float* x,
              const float* y, const float* cache, const float* dy, float* dx, const Grads& g,
              Stats* stats) {
  (void)x;  // x̂ (what the products saw) is in the cache
  check_dims(d, "Backward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  require(g.dw_ih, "Backward", "dw_ih");
  require(g.dw_hh, "Backward", "dw_hh");
  require(g.db_ih, "Backward", "db_ih");
  require(g.db_hh, "Backward", "db_hh");
  if (stats) *stats = Stats();
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  if (T == 0 || N == 0 || H == 0) {
    if (dx) std::fill(dx, dx + size_t(T) * NC, 0.0f);
    return;
  }
  require(w.w_ih, "Backward", "w_ih");
  require(w.w_hh, "Backward", "w_hh");
  if (o.qw) require(w.b_ih, "Backward", "b_ih"), require(w.b_hh, "Backward", "b_hh");
  require(y, "Backward", "y");
  require(cache, "Backward", "cache");
  const CacheView cv = view(d, const_cast<float*>(cache));

  const int S = steps_per_chunk(d, o);
  Workspace& ws = recurrent::workspace_of(ctx, "delta_gru");
  Workspace::Scope scope(ws);
  float* dgx = ws.Floats(size_t(S) * N * G);
  float* dgh = ws.Floats(size_t(S) * N * G);
  float* dxh = ws.Floats(std::max<size_t>(size_t(S) * NC, 1));  // dL/dx̂ of the chunk's steps
  float* acc_x = ws.Zeros(std::max<size_t>(NC, 1));  // dL/dx̂ carried back through held entries
  float* acc_h = ws.Zeros(NH);                       // dL/dĥ likewise
  float* dh_a = ws.Zeros(NH);
  float* dh_b = ws.Floats(NH);
  const float* dy_all = dy ? dy : ws.Zeros(NH);
  const size_t dy_step = dy ? NH : 0;
  const float* zeros = ws.Zeros(NH);
  std::vector<double> sum_dgh(G, 0.0), sum_dgx_n(H, 0.0);

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* hprev = t > 0 ? y + (t - 1) * NH : zeros;
      const float* dy_t = dy_all + t * dy_step;
      const float* c_t = cv.gates + size_t(t) * N * kGates * H;
      float* dgx_t = dgx + size_t(t - t0) * N * G;
      float* dgh_t = dgh + size_t(t - t0) * N * G;
      const float* dh_next = dh_a;
      float* dh_prev = dh_b;
      for_each_segment(N, H, kPointGrain, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        const float* c = c_t + size_t(n) * kGates * H;
        for (int j = j0; j < j1; ++j) {
          const float gg = dh_next[hi + j] + dy_t[hi + j];
          const float r = c[j], z = c[H + j], nn = c[2 * H + j], hn = c[3 * H + j];
          const float da_n = gg * (1.0f - z) * (1.0f - nn * nn);
          const float da_z = gg * (hprev[hi + j] - nn) * z * (1.0f - z);
          const float da_r = da_n * hn * r * (1.0f - r);
          dgx_t[gi + j] = da_r, dgx_t[gi + H + j] = da_z, dgx_t[gi + 2 * H + j] = da_n;
          dgh_t[gi + j] = da_r, dgh_t[gi + H + j] = da_z, dgh_t[gi + 2 * H + j] = da_n * r;
          dh_prev[hi + j] = gg * z;
        }
      });
      if (t > 0) {  // ĥ_t = mh_t ⊙ h_{t-1} + (1 − mh_t) ⊙ ĥ_{t-1}; h_{-1} = 0 is a constant
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dgh_t, G, w.w_hh, H, 1.0f, acc_h, H);
        const float* mh_t = cv.mh + t * NH;
        parallel_for(0, int64_t(NH), kPointGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const float m = mh_t[i];
            dh_prev[i] += m * acc_h[i];
            acc_h[i] -= m * acc_h[i];
          }
        });
      }
      std::swap(dh_a, dh_b);
    }
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dgx, G, cv.xhat + size_t(t0) * NC, C, 1.0f, g.dw_ih, C);
      if (dx) {
        gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dgx, G, w.w_ih, C, 0.0f, dxh, C);
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
    gemm(Trans::Yes, Trans::No, G, H, rows, 1.0f, dgh, G, cv.hhat + size_t(t0) * NH, H, 1.0f, g.dw_hh, H);
    add_column_sums(dgh, rows, G, 0, G, sum_dgh.data());
    add_column_sums(dgx, rows, G, 2 * H, G, sum_dgx_n.data());
    t1 = t0;
  }
  // Under qw each memory start is Q_w of its bias sum: straight through, zero where Q_w saturates.
  auto passes = [&](float s) { return !o.qw || fixed_point::PassThrough(s, o.weight) != 0.0f; };
  for (int k = 0; k < G; ++k) {
    if (k < 2 * H) {  // M_r, M_z start at b_ih + b_hh
      const float s = passes(w.b_ih[k] + w.b_hh[k]) ? float(sum_dgh[k]) : 0.0f;
      g.db_ih[k] += s;
      g.db_hh[k] += s;
    } else {  // M_xn at b_in, M_hn at b_hn
      g.db_ih[k] += passes(w.b_ih[k]) ? float(sum_dgx_n[k - 2 * H]) : 0.0f;
      g.db_hh[k] += passes(w.b_hh[k]) ? float(sum_dgh[k]) : 0.0f;
    }
  }
  if (stats) {
    const double GT = double(G) * T * N;
    stats->macs = stats->macs_dense = GT * H * 2 + GT * C * (dx ? 2 : 1);  // dĥ, dW_hh; dW_ih, dx̂
  }
}

}  // namespace delta_gru
}  // namespace evnn
