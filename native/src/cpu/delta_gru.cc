// DeltaGRU on the CPU. Forward: per step, the thresholded deltas of x and h_{t-1} per batch row
// (with their nonzero lists), then the event-driven products M += Δx·W^T, M += Δh·U^T over the
// nonzero entries only (rows of the transposed weights, register-tiled and vectorised:
// delta_common.h's products_and_gates over event_matmul's event_tile_accumulate), fused with the
// pointwise gates of each tile's units. Backward: BPTT with the masks held constant (see
// delta_gru.h), on one of two paths with the same gradients — dense (one GEMM per step for dL/dĥ,
// a mask recursion that routes it to h_{t'-1} of the last update, and per time chunk a few large
// GEMMs for dW_ih, dW_hh and dL/dx̂, routed to x likewise) or event-driven (delta_common.h: the
// work scales with the updates), chosen per call by the updates' density.
// Every output element is summed in an order that does not depend on the thread split.
//
// Quantisation (Options::qa / qw), with Q_a, Q_n, Q_w the activation, nonlinear and weight
// formats of fixed_point.h — where the reference's DeltaGRU quantises:
//   qw (training and inference): the memory starts Q_w(b_ir + b_hr), Q_w(b_iz + b_hz), Q_w(b_in),
//      Q_w(b_hn); backward multiplies each bias gradient by PassThrough of its sum (zero where
//      Q_w saturates);
//   qa (inference only):  x_t ← Q_a(x_t) before its delta; Θx, Θh ← Q_a(Θ), for the zeroing and
//      for the memory update alike (the reference's DeltaGRU hands its quantised thresholds to
//      update_states; its DeltaLSTM moves the memories with the raw Θ, see delta_lstm.cc); M_hn's
//      start once more Q_a (the reference quantises that memory's initial state in the activation
//      format, the others not); pre-activations
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
#include "delta_common.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace delta_gru {

namespace {

constexpr int kGates = 4;  // cache gates row: r, z, n, M_hn
using delta::kPointGrain;

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

// One step's gates for row segment [j0, j1): m the row's memories (M_r, M_z, M_xn, M_hn), hp the
// row's h_{t-1}, h its output, c (kCache) the row's cached r, z, n, M_hn. Restrict-qualified and
// branch-free inside, so the loop vectorises.
template <bool kCache>
inline void gates_segment(int H, int j0, int j1, const float* __restrict m, const float* __restrict hp,
                          float* __restrict h, float* __restrict c) {
  for (int j = j0; j < j1; ++j) {
    const float r = vmath::sigmoid(m[j]);
    const float z = vmath::sigmoid(m[H + j]);
    const float hn = m[3 * H + j];
    const float nn = vmath::tanh(m[2 * H + j] + r * hn);
    h[j] = nn + z * (hp[j] - nn);
    if (kCache) c[j] = r, c[H + j] = z, c[2 * H + j] = nn, c[3 * H + j] = hn;
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
  if (C > 0) delta::transpose(w.w_ih, G, C, Wt);
  delta::transpose(w.w_hh, G, H, Ut);
  float* xhat = ws.Zeros(std::max<size_t>(NC, 1));
  float* hhat = ws.Zeros(NH);
  float* mxs = ws.Floats(std::max<size_t>(NC, 1));  // masks when there is no cache
  float* mhs = ws.Floats(NH);
  float* zeros = ws.Zeros(NH);
  float* mem = ws.Floats(size_t(N) * M4);  // per row: M_r, M_z, M_xn, M_hn
  int* xidx = reinterpret_cast<int*>(ws.Floats(std::max<size_t>(NC, 1)));
  float* xval = ws.Floats(std::max<size_t>(NC, 1));
  int* hidx = reinterpret_cast<int*>(ws.Floats(NH));
  float* hval = ws.Floats(NH);
  std::vector<int> xnnz(N), hnnz(N);
  std::vector<int64_t> nzx_row(N, 0), nzh_row(N, 0);  // nonzero Δ per batch row, over the steps
  for (int j = 0; j < 2 * H; ++j) mem[j] = Quantize(w.b_ih[j] + w.b_hh[j], o.weight, o.qw);
  for (int j = 0; j < H; ++j) {
    mem[2 * H + j] = Quantize(w.b_ih[2 * H + j], o.weight, o.qw);
    mem[3 * H + j] = Quantize(Quantize(w.b_hh[2 * H + j], o.weight, o.qw), o.activation, o.qa);
  }
  for (int n = 1; n < N; ++n) std::memcpy(mem + size_t(n) * M4, mem, size_t(M4) * sizeof(float));
  // the zeroing and the memory update both at Q_a(Θ) under qa, as the reference's DeltaGRU
  const float theta_x = Quantize(o.theta_x, o.activation, o.qa);
  const float theta_h = Quantize(o.theta_h, o.activation, o.qa);
  CacheView cv{};
  if (cache) cv = view(d, cache);

  // 1. per row and step: the thresholded deltas and their event lists (h is already quantised
  // under qa: it is the previous step's output)
  auto deltas = [&](int t, int n) {
    const size_t xi = size_t(n) * C, hi = size_t(n) * H;
    const float* hprev = t > 0 ? y + (t - 1) * NH + hi : zeros;
    float* mx = (cache ? cv.mx + t * NC : mxs) + xi;
    float* mh = (cache ? cv.mh + t * NH : mhs) + hi;
    int nx = 0;
    if (C > 0) {
      const float* x_t = x + t * NC + xi;
      nx = o.qa ? delta::delta_row<true>(C, theta_x, theta_x, x_t, xhat + xi, mx, xidx + xi, xval + xi, o.activation)
                : delta::delta_row<false>(C, theta_x, theta_x, x_t, xhat + xi, mx, xidx + xi, xval + xi, o.activation);
      if (cache) std::memcpy(cv.xhat + t * NC + xi, xhat + xi, size_t(C) * sizeof(float));
    }
    xnnz[n] = nx;
    hnnz[n] = delta::delta_row<false>(H, theta_h, theta_h, hprev, hhat + hi, mh, hidx + hi, hval + hi, o.activation);
    if (cache) std::memcpy(cv.hhat + t * NH + hi, hhat + hi, size_t(H) * sizeof(float));
    nzx_row[n] += nx, nzh_row[n] += hnnz[n];
  };
  // 2. the event-driven products into the memories, per tile of units: M_r and M_z take W's and
  // U's r, z columns, M_xn W's n columns, M_hn U's n columns; then the gates of those units
  auto gates = [&](int t, int n, int j0, int j1) {
    const float* m = mem + size_t(n) * M4;
    const float* hp = (t > 0 ? y + (t - 1) * NH : zeros) + size_t(n) * H;
    float* h = y + t * NH + size_t(n) * H;
    if (o.qa) gates_segment_quantised(H, j0, j1, o, m, hp, h);
    else if (cache) gates_segment<true>(H, j0, j1, m, hp, h, cv.gates + (size_t(t) * N + size_t(n)) * kGates * H);
    else gates_segment<false>(H, j0, j1, m, hp, h, nullptr);
  };
  const delta::GateTile tiles[4] = {{0, 0, 0}, {H, H, H}, {2 * H, 2 * H, -1}, {3 * H, -1, 2 * H}};
  const delta::RowEvents xe{xidx, xval, xnnz.data(), size_t(C)}, he{hidx, hval, hnnz.data(), size_t(H)};
  delta::forward_steps(T, N, H, tiles, Wt, Ut, G, int64_t(C + H) * G, xe, he, mem, M4, deltas, gates);
  int64_t nz_x = 0, nz_h = 0;
  for (int n = 0; n < N; ++n) nz_x += nzx_row[n], nz_h += nzh_row[n];
  const int64_t dx_zeros = int64_t(T) * N * C - nz_x, dh_zeros = int64_t(T) * N * H - nz_h;
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

namespace {

// What both backward paths read.
struct BackwardArgs {
  const Dims& d;
  const Weights& w;
  const Options& o;
  const float* y;
  CacheView cv;
  const float* dy_all;  // dL/dy, or [N, H] zeros with dy_step 0
  size_t dy_step;
  float* dx;
  const Grads& g;
};

// The bias gradients from the column sums of the gate gradients over every (t, n): sum_h over
// the h-side parts (r, z, r ⊙ n's), sum_xn over the x side's n part. Under qw each memory start is
// Q_w of its bias sum: straight through, zero where Q_w saturates.
void add_bias_grads(const BackwardArgs& a, const double* sum_h, const double* sum_xn) {
  const int H = a.d.H, G = 3 * H;
  auto passes = [&](float s) { return !a.o.qw || fixed_point::PassThrough(s, a.o.weight) != 0.0f; };
  for (int k = 0; k < G; ++k) {
    if (k < 2 * H) {  // M_r, M_z start at b_ih + b_hh
      const float s = passes(a.w.b_ih[k] + a.w.b_hh[k]) ? float(sum_h[k]) : 0.0f;
      a.g.db_ih[k] += s;
      a.g.db_hh[k] += s;
    } else {  // M_xn at b_in, M_hn at b_hn
      a.g.db_ih[k] += passes(a.w.b_ih[k]) ? float(sum_xn[k - 2 * H]) : 0.0f;
      a.g.db_hh[k] += passes(a.w.b_hh[k]) ? float(sum_h[k]) : 0.0f;
    }
  }
}

// The dense path: per step the gate gradients and one GEMM for dL/dĥ (routed to h_{t-1} through
// the masks), per chunk GEMMs for dW_ih, dW_hh and dL/dx̂.
void dense_backward(Workspace& ws, const BackwardArgs& a) {
  const Dims& d = a.d;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  const CacheView& cv = a.cv;
  const float* y = a.y;
  float* dx = a.dx;
  const int S = steps_per_chunk(d, a.o);
  float* dgx = ws.Floats(size_t(S) * N * G);
  float* dgh = ws.Floats(size_t(S) * N * G);
  float* dxh = ws.Floats(std::max<size_t>(size_t(S) * NC, 1));  // dL/dx̂ of the chunk's steps
  float* acc_x = ws.Zeros(std::max<size_t>(NC, 1));  // dL/dx̂ carried back through held entries
  float* acc_h = ws.Zeros(NH);                       // dL/dĥ likewise
  float* dh_a = ws.Zeros(NH);
  float* dh_b = ws.Floats(NH);
  const float* zeros = ws.Zeros(NH);
  std::vector<double> sum_dgh(G, 0.0), sum_dgx_n(H, 0.0);

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* hprev = t > 0 ? y + (t - 1) * NH : zeros;
      const float* dy_t = a.dy_all + t * a.dy_step;
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
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dgh_t, G, a.w.w_hh, H, 1.0f, acc_h, H);
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
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dgx, G, cv.xhat + size_t(t0) * NC, C, 1.0f, a.g.dw_ih, C);
      if (dx) {
        gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dgx, G, a.w.w_ih, C, 0.0f, dxh, C);
        for (int t = t1 - 1; t >= t0; --t) {
          const float* mx_t = cv.mx + t * NC;
          const float* dxh_t = dxh + size_t(t - t0) * NC;
          float* dx_t = dx + t * NC;
          parallel_for(0, int64_t(NC), kPointGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
              const float v = acc_x[i] + dxh_t[i], m = mx_t[i];
              dx_t[i] = m * v;
              acc_x[i] = v - m * v;
            }
          });
        }
      }
    }
    gemm(Trans::Yes, Trans::No, G, H, rows, 1.0f, dgh, G, cv.hhat + size_t(t0) * NH, H, 1.0f, a.g.dw_hh, H);
    add_column_sums(dgh, rows, G, 0, G, sum_dgh.data());
    add_column_sums(dgx, rows, G, 2 * H, G, sum_dgx_n.data());
    t1 = t0;
  }
  add_bias_grads(a, sum_dgh.data(), sum_dgx_n.data());
}

// One row's gate gradients at one step (dh_next: dL/dh_t through later steps, dy: dL/dy_t, c: the
// cached r, z, n, M_hn, hp: h_{t-1}), added to the running sums: gx = gx_prev + (da_r, da_z,
// da_n) on the W side, gh = gh_prev + (da_r, da_z, da_n ⊙ r) on the U side; dh_prev = gg ⊙ z, the
// pointwise part of dL/dh_{t-1}. Restrict-qualified, so the loop vectorises.
inline void running_gates(int H, const float* __restrict dh_next, const float* __restrict dy, const float* __restrict c,
                          const float* __restrict hp, const float* __restrict gx_prev, const float* __restrict gh_prev,
                          float* __restrict gx, float* __restrict gh, float* __restrict dh_prev) {
  for (int j = 0; j < H; ++j) {
    const float gg = dh_next[j] + dy[j];
    const float r = c[j], z = c[H + j], nn = c[2 * H + j], hn = c[3 * H + j];
    const float da_n = gg * (1.0f - z) * (1.0f - nn * nn);
    const float da_z = gg * (hp[j] - nn) * z * (1.0f - z);
    const float da_r = da_n * hn * r * (1.0f - r);
    gx[j] = gx_prev[j] + da_r, gx[H + j] = gx_prev[H + j] + da_z, gx[2 * H + j] = gx_prev[2 * H + j] + da_n;
    gh[j] = gh_prev[j] + da_r, gh[H + j] = gh_prev[H + j] + da_z, gh[2 * H + j] = gh_prev[2 * H + j] + da_n * r;
    dh_prev[j] = gg * z;
  }
}

// The event path (delta_common.h). Per row, G_x (r, z, n parts of the gate gradients, the W side)
// and G_h (r, z, r ⊙ n parts, the U side) run backward in time; their values at every step of a
// chunk go to the chunk's scratch [steps, N, 3H], and the step's nonzero Δx, Δh to the chunk's
// event lists, for the weight gradients. Returns the multiply-accumulates run.
double event_backward(Workspace& ws, const BackwardArgs& a) {
  const Dims& d = a.d;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H, W = std::max(C, H);
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  const CacheView& cv = a.cv;
  const bool want_dx = a.dx != nullptr && C > 0;
  const int S = steps_per_chunk(d, a.o);
  float* Wt = ws.Floats(std::max<size_t>(size_t(C) * G, 1));  // w_ih^T [C, 3H]: row i = W[:, i]
  float* Ut = ws.Floats(size_t(H) * G);                       // w_hh^T [H, 3H]
  if (C > 0) delta::transpose(a.w.w_ih, G, C, Wt);
  delta::transpose(a.w.w_hh, G, H, Ut);
  float* gxs = ws.Floats(size_t(S) * N * G);  // G_x at each step of the chunk, row (t − t0)·N + n
  float* ghs = ws.Floats(size_t(S) * N * G);
  const delta::ChunkEvents xev(ws, S, N, C), hev(ws, S, N, H);  // the chunk's nonzero Δx, Δh
  float* gx_c = ws.Zeros(size_t(N) * G);      // G_x, G_h of the step after the chunk (0 at T)
  float* gh_c = ws.Zeros(size_t(N) * G);
  float* sx = ws.Zeros(std::max<size_t>(NC, 1));  // S_x: W[:, i]ᵀ G_x at the entry's later update
  float* sh = ws.Zeros(NH);                       // S_h likewise
  float* dh_a = ws.Zeros(NH);                     // dL/dh_t through later steps (carried)
  float* dh_b = ws.Floats(NH);
  int* upd = reinterpret_cast<int*>(ws.Floats(size_t(N) * W));  // a row's updated entries
  float* dots = ws.Floats(size_t(N) * W);
  float* dwt_ih = ws.Zeros(std::max<size_t>(size_t(C) * G, 1));  // dW_ih^T, dW_hh^T (rows contiguous)
  float* dwt_hh = ws.Zeros(size_t(H) * G);
  const float* zeros = ws.Zeros(size_t(H));
  std::vector<int64_t> routed(N, 0);
  int64_t nz = 0;

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    // Phase 1: the rows' recursions, in parallel.
    parallel_for(0, N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n) {
        float* dh_next = dh_a + size_t(n) * H;
        float* dh_prev = dh_b + size_t(n) * H;
        const float* gx_prev = gx_c + size_t(n) * G;
        const float* gh_prev = gh_c + size_t(n) * G;
        int* u = upd + size_t(n) * W;
        float* dt = dots + size_t(n) * W;
        int64_t r = 0;
        for (int t = t1 - 1; t >= t0; --t) {
          const size_t xi = size_t(t) * NC + size_t(n) * C, hi = size_t(t) * NH + size_t(n) * H;
          const size_t m = size_t(t - t0) * N + size_t(n);  // the row of the chunk's scratch
          float* gx = gxs + m * G;
          float* gh = ghs + m * G;
          running_gates(H, dh_next, a.dy_all + t * a.dy_step + size_t(n) * H, cv.gates + hi * kGates,
                        t > 0 ? a.y + hi - NH : zeros, gx_prev, gh_prev, gx, gh, dh_prev);
          if (C > 0) {  // Δx_t for dW_ih; x̂ → x_t at its updates: W[:, i]ᵀ (G_x,t − G_x at the next update)
            int nu = 0;
            xev.count[m] = delta::row_events(C, cv.xhat + xi, t > 0 ? cv.xhat + xi - NC : nullptr, cv.mx + xi,
                                             xev.index + m * C, xev.value + m * C, want_dx ? u : nullptr, &nu);
            if (want_dx) delta::route_updates<true>(u, nu, C, gx, G, Wt, sx + size_t(n) * C, dt, a.dx + xi), r += nu;
          }
          hev.count[m] = 0;
          if (t > 0) {  // Δh_t for dW_hh; ĥ_t → h_{t-1} at its updates (h_{-1} = 0 is a constant, Δh_0 = 0)
            int nu = 0;
            hev.count[m] = delta::row_events(H, cv.hhat + hi, cv.hhat + hi - NH, cv.mh + hi, hev.index + m * H,
                                             hev.value + m * H, u, &nu);
            delta::route_updates<false>(u, nu, H, gh, G, Ut, sh + size_t(n) * H, dt, dh_prev);
            r += nu;
          }
          std::swap(dh_next, dh_prev);
          gx_prev = gx, gh_prev = gh;
        }
        std::memcpy(gx_c + size_t(n) * G, gx_prev, size_t(G) * sizeof(float));
        std::memcpy(gh_c + size_t(n) * G, gh_prev, size_t(G) * sizeof(float));
        if (dh_next != dh_a + size_t(n) * H) std::memcpy(dh_a + size_t(n) * H, dh_next, size_t(H) * sizeof(float));
        routed[size_t(n)] += r;
      }
    });
    // Phase 2: dW^T[i, :] += Δ_t[i] · G_t over the chunk's nonzero Δ, split over columns.
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      nz += xev.total(rows);
      event_outer_accumulate(xev.lists(rows), C, gxs, G, dwt_ih);
    }
    nz += hev.total(rows);
    event_outer_accumulate(hev.lists(rows), H, ghs, G, dwt_hh);
    t1 = t0;
  }
  if (C > 0) delta::transpose<true>(dwt_ih, C, G, a.g.dw_ih);
  delta::transpose<true>(dwt_hh, H, G, a.g.dw_hh);
  // db = G_0 summed over the rows, in row order.
  std::vector<double> sum_h(G, 0.0), sum_xn(H, 0.0);
  for (int n = 0; n < N; ++n) {
    const float* gxr = gx_c + size_t(n) * G;
    const float* ghr = gh_c + size_t(n) * G;
    for (int k = 0; k < G; ++k) sum_h[k] += ghr[k];
    for (int j = 0; j < H; ++j) sum_xn[j] += gxr[2 * H + j];
  }
  add_bias_grads(a, sum_h.data(), sum_xn.data());
  int64_t routed_total = 0;
  for (int64_t r : routed) routed_total += r;
  return double(G) * double(nz + routed_total);
}

}  // namespace

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

  Workspace& ws = recurrent::workspace_of(ctx, "delta_gru");
  Workspace::Scope scope(ws);
  const float* dy_all = dy ? dy : ws.Zeros(NH);
  const BackwardArgs args{d, w, o, y, cv, dy_all, dy ? NH : 0, dx, g};
  const double GT = double(G) * T * N;
  const double dense_macs = GT * H * 2 + GT * C * (dx ? 2 : 1);  // dĥ, dW_hh; dW_ih, dx̂
  double predicted = 0;  // the event path's MACs, with every update counted as a nonzero Δ
  if (o.backward == BackwardPath::kAuto) {
    const double ux = C > 0 ? double(delta::count_updates(cv.mx, int64_t(T) * NC)) : 0.0;
    const double uh = double(delta::count_updates(cv.mh + NH, int64_t(T - 1) * NH));  // h updates after t = 0
    predicted = G * (ux * (dx ? 2 : 1) + uh * 2);
  }
  double macs = dense_macs;
  if (delta::use_event_backward(o.backward, predicted, dense_macs)) macs = event_backward(ws, args);
  else dense_backward(ws, args);
  if (stats) {
    stats->macs = macs;
    stats->macs_dense = dense_macs;
  }
}

}  // namespace delta_gru
}  // namespace evnn
