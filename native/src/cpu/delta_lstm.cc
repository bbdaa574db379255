// DeltaLSTM on the CPU, built like delta_gru.cc. Forward: per step, the thresholded deltas of x
// and h_{t-1} per batch row (with their nonzero lists), then the event-driven products
// M += Δx·W^T + Δh·U^T over the nonzero entries only (rows of the transposed weights,
// register-tiled and vectorised: delta_common.h's products_and_gates; work scales with the
// events), fused with the pointwise gates and cell of each tile's units. Backward: BPTT with the
// masks held constant (see delta_lstm.h). One gradient buffer dG of the gate pre-activations serves
// both sides (M = b + W x̂ + U ĥ, as in lstm.cc). Two paths with the same gradients, chosen per
// call by the updates' density: dense (per step one GEMM for dL/dĥ and the mask recursion that
// routes it to h_{t'-1} of the last update, per time chunk a few large GEMMs for dW_ih, dW_hh and
// dL/dx̂, routed to x likewise) or event-driven (delta_common.h: running sums of dG, one dot per
// update, the weight gradients over the nonzero Δ only).
// Every output element is summed in an order that does not depend on the thread split: the
// products run over the event list in order per element, the GEMMs are the engine's, the bias
// sums are float64 sums in row order.
//
// Quantisation (Options::qa / qw), with Q_a, Q_n, Q_w the activation, nonlinear and weight
// formats of fixed_point.h — where the reference's DeltaLSTM quantises:
//   qw (training and inference): the memory start M_0 = Q_w(b_ih + b_hh); backward multiplies
//      the bias gradient by PassThrough(b_ih + b_hh) (zero where Q_w saturates);
//   qa (inference only):  x_t ← Q_a(x_t) before its delta; the zeroing at Q_a(Θx), Q_a(Θh), the
//      memory update at the raw Θx, Θh (as the reference's DeltaLSTM: its masked_fill takes the
//      quantised thresholds, its torch.where for x̂, ĥ self.th_x, self.th_h) — with Q_a(Θ) < Θ a Δ
//      in [Q_a(Θ), Θ) is passed on without moving the memory, so it is passed again the next step
//      (against the unmoved memory); with Q_a(Θ) > Θ nothing differs (x̂, ĥ and so |Δ| lie on the
//      activation grid, which has no point in [Θ, Q_a(Θ))); Stats counts the zeros of the Δ
//      passed on; the four pre-activations Q_a(M); the gates i, f, o = Q_n(σ(·)),
//      g = Q_n(tanh(·)); the cell c_t = Q_a(f ⊙ c_{t-1} + i ⊙ g) (the state
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
#include "delta_common.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace delta_lstm {

namespace {

constexpr int kGates = 4;  // i, f, g, o (PyTorch's order)
using delta::kPointGrain;

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

// One step's gates and cell for row segment [j0, j1): m the row's memory [4H], c_prev, c and h
// the row's [H]; gates (kCache) [4H]. Branch-free inside, so the loop vectorises.
template <bool kCache>
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
    if (kCache) gates[j] = i, gates[H + j] = f, gates[2 * H + j] = g, gates[3 * H + j] = o;
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
// steps' ĥ (without dy_t); dc: dL/dc_t from later steps on entry, dL/dc_{t-1} on exit. With
// kRunning, da is the running sum G_t = G_{t+1} + dA_t (G_{t+1} read from prev).
template <bool kRunning = false>
inline void backward_segment(int H, int j0, int j1, const float* __restrict dh, const float* __restrict dy,
                             const float* __restrict gates, const float* __restrict c,
                             const float* __restrict c_prev, float* __restrict dc, float* __restrict da,
                             const float* __restrict prev = nullptr) {
  for (int j = j0; j < j1; ++j) {
    const float i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
    const float tc = vmath::tanh(c[j]);  // the forward's function: the forward's value
    const float dh_t = dh[j] + dy[j];
    const float dc_t = dc[j] + dh_t * o * (1.0f - tc * tc);
    const float a_i = dc_t * g * i * (1.0f - i);
    const float a_f = dc_t * c_prev[j] * f * (1.0f - f);
    const float a_g = dc_t * i * (1.0f - g * g);
    const float a_o = dh_t * tc * o * (1.0f - o);
    if (kRunning) {
      da[j] = prev[j] + a_i, da[H + j] = prev[H + j] + a_f, da[2 * H + j] = prev[2 * H + j] + a_g;
      da[3 * H + j] = prev[3 * H + j] + a_o;
    } else {
      da[j] = a_i, da[H + j] = a_f, da[2 * H + j] = a_g, da[3 * H + j] = a_o;
    }
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
  if (C > 0) delta::transpose(w.w_ih, G, C, Wt);
  delta::transpose(w.w_hh, G, H, Ut);
  float* xhat = ws.Zeros(std::max<size_t>(NC, 1));
  float* hhat = ws.Zeros(NH);
  float* mxs = ws.Floats(std::max<size_t>(NC, 1));  // masks when there is no cache
  float* mhs = ws.Floats(NH);
  const float* zeros = ws.Zeros(NH);
  float* c_buf[2] = {ws.Floats(NH), ws.Floats(NH)};  // the cell state without a cache (ping-pong)
  float* mem = ws.Floats(size_t(N) * G);
  int* xidx = reinterpret_cast<int*>(ws.Floats(std::max<size_t>(NC, 1)));
  float* xval = ws.Floats(std::max<size_t>(NC, 1));
  int* hidx = reinterpret_cast<int*>(ws.Floats(NH));
  float* hval = ws.Floats(NH);
  std::vector<int> xnnz(N), hnnz(N);
  std::vector<int64_t> nzx_row(N, 0), nzh_row(N, 0);  // nonzero Δ per batch row, over the steps
  for (int k = 0; k < G; ++k) mem[k] = Quantize(w.b_ih[k] + w.b_hh[k], o.weight, o.qw);
  for (int n = 1; n < N; ++n) std::memcpy(mem + size_t(n) * G, mem, size_t(G) * sizeof(float));
  // zeroing at Q_a(Θ) under qa, the memory update at Θ (as the reference's DeltaLSTM)
  const float theta_x = Quantize(o.theta_x, o.activation, o.qa);
  const float theta_h = Quantize(o.theta_h, o.activation, o.qa);
  const float update_x = o.theta_x, update_h = o.theta_h;
  CacheView cv{};
  if (cache) cv = view(d, cache);
  auto cell = [&](int t) { return cache ? cv.c + t * NH : c_buf[t & 1]; };  // c_t [N, H]

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
      nx = o.qa ? delta::delta_row<true>(C, theta_x, update_x, x_t, xhat + xi, mx, xidx + xi, xval + xi, o.activation)
                : delta::delta_row<false>(C, theta_x, update_x, x_t, xhat + xi, mx, xidx + xi, xval + xi, o.activation);
      if (cache) std::memcpy(cv.xhat + t * NC + xi, xhat + xi, size_t(C) * sizeof(float));
    }
    xnnz[n] = nx;
    hnnz[n] = delta::delta_row<false>(H, theta_h, update_h, hprev, hhat + hi, mh, hidx + hi, hval + hi, o.activation);
    if (cache) std::memcpy(cv.hhat + t * NH + hi, hhat + hi, size_t(H) * sizeof(float));
    nzx_row[n] += nx, nzh_row[n] += hnnz[n];
  };
  // 2. the event-driven products into the memories, per tile of units (every element takes the x
  // events, then the h events, in list order), then the gates and cell of those units
  auto gates = [&](int t, int n, int j0, int j1) {
    const float* m = mem + size_t(n) * G;
    const size_t hi = size_t(n) * H;
    const float* c_prev = t > 0 ? cell(t - 1) + hi : zeros;
    float* c_t = cell(t) + hi;
    float* y_t = y + t * NH + hi;
    if (o.qa) gates_segment_quantised(H, j0, j1, o, m, c_prev, c_t, y_t);
    else if (cache) gates_segment<true>(H, j0, j1, m, c_prev, c_t, y_t, cv.gates + (size_t(t) * N + size_t(n)) * G);
    else gates_segment<false>(H, j0, j1, m, c_prev, c_t, y_t, nullptr);
  };
  const delta::GateTile tiles[4] = {{0, 0, 0}, {H, H, H}, {2 * H, 2 * H, 2 * H}, {3 * H, 3 * H, 3 * H}};
  const delta::RowEvents xe{xidx, xval, xnnz.data(), size_t(C)}, he{hidx, hval, hnnz.data(), size_t(H)};
  delta::forward_steps(T, N, H, tiles, Wt, Ut, G, int64_t(C + H) * G, xe, he, mem, G, deltas, gates);
  if (cN) std::memcpy(cN, cell(T - 1), NH * sizeof(float));
  int64_t nz_x = 0, nz_h = 0;
  for (int n = 0; n < N; ++n) nz_x += nzx_row[n], nz_h += nzh_row[n];
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

namespace {

// What both backward paths read.
struct BackwardArgs {
  const Dims& d;
  const Weights& w;
  const Options& o;
  CacheView cv;
  const float* dy_all;  // dL/dy, or [N, H] zeros with dy_step 0
  size_t dy_step;
  const float* dcN;
  float* dx;
  const Grads& g;
};

// M_0 = Q_w(b_ih + b_hh) under qw: straight through, zero where the quantiser saturates.
void add_bias_grads(const BackwardArgs& a, const double* bias_sum) {
  for (int k = 0; k < kGates * a.d.H; ++k) {
    const bool saturated = a.o.qw && fixed_point::PassThrough(a.w.b_ih[k] + a.w.b_hh[k], a.o.weight) == 0.0f;
    const float s = saturated ? 0.0f : float(bias_sum[k]);
    a.g.db_ih[k] += s;
    a.g.db_hh[k] += s;
  }
}

// The dense path: per step the gate gradients and one GEMM for dL/dĥ (routed to h_{t-1} through
// the masks), per chunk GEMMs for dW_ih, dW_hh and dL/dx̂.
void dense_backward(Workspace& ws, const BackwardArgs& a) {
  const Dims& d = a.d;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H;
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  const CacheView& cv = a.cv;
  float* dx = a.dx;
  const int S = steps_per_chunk(d, a.o);
  float* dG = ws.Floats(size_t(S) * N * G);                    // gate pre-activation gradients
  float* dxh = ws.Floats(std::max<size_t>(size_t(S) * NC, 1));  // dL/dx̂ of the chunk's steps
  float* acc_x = ws.Zeros(std::max<size_t>(NC, 1));  // dL/dx̂ carried back through held entries
  float* acc_h = ws.Zeros(NH);                       // dL/dĥ likewise
  float* dh = ws.Zeros(NH);                          // dL/dh_t through later steps
  float* dc = ws.Floats(NH);                         // dL/dc_t from later steps
  if (a.dcN) std::memcpy(dc, a.dcN, NH * sizeof(float));
  else std::fill(dc, dc + NH, 0.0f);
  const float* zeros = ws.Zeros(NH);
  std::vector<double> bias_sum(G, 0.0);

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const float* dy_t = a.dy_all + t * a.dy_step;
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
        gemm(Trans::No, Trans::No, N, H, G, 1.0f, dG_t, G, a.w.w_hh, H, 1.0f, acc_h, H);
        const float* mh_t = cv.mh + t * NH;
        parallel_for(0, int64_t(NH), kPointGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const float m = mh_t[i], v = acc_h[i];
            dh[i] = m * v;
            acc_h[i] = v - m * v;
          }
        });
      }
    }
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      gemm(Trans::Yes, Trans::No, G, C, rows, 1.0f, dG, G, cv.xhat + size_t(t0) * NC, C, 1.0f, a.g.dw_ih, C);
      if (dx) {  // x̂ routes to the x of its last update, as ĥ above
        gemm(Trans::No, Trans::No, rows, C, G, 1.0f, dG, G, a.w.w_ih, C, 0.0f, dxh, C);
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
    gemm(Trans::Yes, Trans::No, G, H, rows, 1.0f, dG, G, cv.hhat + size_t(t0) * NH, H, 1.0f, a.g.dw_hh, H);
    add_column_sums(dG, rows, G, 0, G, bias_sum.data());
    t1 = t0;
  }
  add_bias_grads(a, bias_sum.data());
}

// The event path (delta_common.h): per row the running sum G_t of dG backward in time (one buffer
// for both sides, as dG), its value at every step of a chunk in the chunk's scratch, and the
// step's nonzero Δx, Δh in the chunk's event lists, for the weight gradients. Returns the
// multiply-accumulates run.
double event_backward(Workspace& ws, const BackwardArgs& a) {
  const Dims& d = a.d;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = kGates * H, W = std::max(C, H);
  const size_t NC = size_t(N) * C, NH = size_t(N) * H;
  const CacheView& cv = a.cv;
  const bool want_dx = a.dx != nullptr && C > 0;
  const int S = steps_per_chunk(d, a.o);
  float* Wt = ws.Floats(std::max<size_t>(size_t(C) * G, 1));  // w_ih^T [C, 4H]: row i = W[:, i]
  float* Ut = ws.Floats(size_t(H) * G);                       // w_hh^T [H, 4H]
  if (C > 0) delta::transpose(a.w.w_ih, G, C, Wt);
  delta::transpose(a.w.w_hh, G, H, Ut);
  float* gs = ws.Floats(size_t(S) * N * G);   // G at each step of the chunk, row (t − t0)·N + n
  const delta::ChunkEvents xev(ws, S, N, C), hev(ws, S, N, H);  // the chunk's nonzero Δx, Δh
  float* g_c = ws.Zeros(size_t(N) * G);       // G of the step after the chunk (0 at T)
  float* sx = ws.Zeros(std::max<size_t>(NC, 1));  // S_x: W[:, i]ᵀ G at the entry's later update
  float* sh = ws.Zeros(NH);                       // S_h likewise
  float* dh = ws.Zeros(NH);                       // dL/dh_t through later steps (carried)
  float* dc = ws.Floats(NH);                      // dL/dc_t from later steps (carried)
  if (a.dcN) std::memcpy(dc, a.dcN, NH * sizeof(float));
  else std::fill(dc, dc + NH, 0.0f);
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
        const size_t ri = size_t(n) * H;
        const float* g_prev = g_c + size_t(n) * G;
        int* u = upd + size_t(n) * W;
        float* dt = dots + size_t(n) * W;
        int64_t r = 0;
        for (int t = t1 - 1; t >= t0; --t) {
          const size_t xi = size_t(t) * NC + size_t(n) * C, hi = size_t(t) * NH + ri;
          const size_t m = size_t(t - t0) * N + size_t(n);  // the row of the chunk's scratch
          float* gt = gs + m * G;
          backward_segment<true>(H, 0, H, dh + ri, a.dy_all + t * a.dy_step + ri, cv.gates + hi * kGates, cv.c + hi,
                                 t > 0 ? cv.c + hi - NH : zeros, dc + ri, gt, g_prev);
          if (C > 0) {  // Δx_t for dW_ih; x̂ → x_t at its updates: W[:, i]ᵀ (G_t − G at the next update)
            int nu = 0;
            xev.count[m] = delta::row_events(C, cv.xhat + xi, t > 0 ? cv.xhat + xi - NC : nullptr, cv.mx + xi,
                                             xev.index + m * C, xev.value + m * C, want_dx ? u : nullptr, &nu);
            if (want_dx) delta::route_updates<true>(u, nu, C, gt, G, Wt, sx + size_t(n) * C, dt, a.dx + xi), r += nu;
          }
          hev.count[m] = 0;
          if (t > 0) {  // Δh_t for dW_hh; ĥ_t → h_{t-1} at its updates (dh was read above; Δh_0 = 0)
            int nu = 0;
            hev.count[m] = delta::row_events(H, cv.hhat + hi, cv.hhat + hi - NH, cv.mh + hi, hev.index + m * H,
                                             hev.value + m * H, u, &nu);
            delta::route_updates<true>(u, nu, H, gt, G, Ut, sh + ri, dt, dh + ri);
            r += nu;
          }
          g_prev = gt;
        }
        std::memcpy(g_c + size_t(n) * G, g_prev, size_t(G) * sizeof(float));
        routed[size_t(n)] += r;
      }
    });
    // Phase 2: dW^T[i, :] += Δ_t[i] · G_t over the chunk's nonzero Δ, split over columns.
    const int rows = (t1 - t0) * N;
    if (C > 0) {
      nz += xev.total(rows);
      event_outer_accumulate(xev.lists(rows), C, gs, G, dwt_ih);
    }
    nz += hev.total(rows);
    event_outer_accumulate(hev.lists(rows), H, gs, G, dwt_hh);
    t1 = t0;
  }
  if (C > 0) delta::transpose<true>(dwt_ih, C, G, a.g.dw_ih);
  delta::transpose<true>(dwt_hh, H, G, a.g.dw_hh);
  std::vector<double> bias_sum(G, 0.0);  // db = G_0 summed over the rows, in row order
  for (int n = 0; n < N; ++n) {
    const float* gr = g_c + size_t(n) * G;
    for (int k = 0; k < G; ++k) bias_sum[k] += gr[k];
  }
  add_bias_grads(a, bias_sum.data());
  int64_t routed_total = 0;
  for (int64_t r : routed) routed_total += r;
  return double(G) * double(nz + routed_total);
}

}  // namespace

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

  Workspace& ws = recurrent::workspace_of(ctx, "delta_lstm");
  Workspace::Scope scope(ws);
  const float* dy_all = dy ? dy : ws.Zeros(NH);
  const BackwardArgs args{d, w, o, cv, dy_all, dy ? NH : 0, dcN, dx, g};
  const double GT = double(G) * T * N;
  const double dense_macs = GT * H * 2 + GT * C * (dx ? 2 : 1);  // dĥ, dW_hh; dW_ih, dx̂
  double predicted = 0;  // the event path's MACs, with every update counted as a nonzero Δ
  if (o.backward == delta_gru::BackwardPath::kAuto) {
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

}  // namespace delta_lstm
}  // namespace evnn
