// Standalone check of the CPU DeltaLSTM (no Node): a float64 reference that runs the delta memory
// literally (M += W Δx + U Δh), its BPTT (masks held constant) verified by central finite
// differences with the threshold masks (and, under qw, the quantised bias offsets) held, then the
// float32 engine against it: Θ = 0 (the reference equals a plain float64 LSTM; the engine is
// compared with evnn::lstm) and Θ > 0 (the engine's threshold decisions must be the rule's except
// within rounding of Θ; x on an exact grid, so its decisions and the ties |Δx| = Θx are exact),
// for every GEMM kernel, thread count and time-chunk size, on both backward paths (dense and
// event-driven, each forced; the automatic choice takes the event path where updates are sparse
// and the dense one at Θ = 0); the zero counts and the forward's and backward's MACs, gradient
// accumulation (+=), 1 vs 2 threads bitwise with segments starting mid-row and at batch 1, T = 0;
// qw in training (the bias gradient straight through Q_w, zero where it saturates); qa inference
// bit-exact against a float64 quantised reference (weights on the weight grid, so every sum is
// exact), and qa with a cache refused. What the DeltaGRU check shares is in delta_check_util.h.
// Exit status 0 only when every check passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "delta_check_util.h"
#include "evnn/context.h"
#include "evnn/delta_lstm.h"
#include "evnn/gemm.h"
#include "evnn/lstm.h"
#include "evnn/parallel.h"

using namespace evnn::check;
using namespace evnn::check::delta;

namespace {

// dcN empty: no last-cell gradient (the engine is passed null).
using Problem = DeltaProblem<evnn::delta_lstm::Dims>;

Problem make_problem(int T, int N, int C, int H, double tx, double th, uint64_t seed, double wscale = 1.0) {
  return make_delta_problem<evnn::delta_lstm::Dims>(4, true, T, N, C, H, tx, th, seed, wscale);
}
Problem make_shape(const Shape& s, double tx, double th, uint64_t seed, double wscale) {
  return make_problem(s.T, s.N, s.C, s.H, tx, th, seed, wscale);
}
Problem make_quantised_problem(const Shape& s, double tx, double th, uint64_t seed, const Quant& q) {
  return quantised(make_problem(s.T, s.N, s.C, s.H, tx, th, seed), seed, q);
}

// ---- float64 reference --------------------------------------------------------------------

// Decisions of an earlier run held fixed: its masks (empty: decide from Θ) and its bias sums
// (empty: quantise the current sums). With s0 the memory start is Q_w(s0) + (s − s0) where
// Q_w(s0) does not saturate, else Q_w(s0): the straight-through linearisation the backward's
// bias gradient is the derivative of, so finite differences can check it.
struct Held {
  Vec mx, mh, s0;
};

struct RefOut {
  Vec y, c, gi, gf, gg, go;  // [T,N,H]
  Vec xhat, mx, hhat, mh;    // [T,N,C] x2, [T,N,H] x2 (after step t's update; masks 0/1: the memory updates)
  Vec ax, ah;                // |Δ| before the threshold, [T,N,C] and [T,N,H]
  Vec px, ph;                // the Δ passed on (0 where zeroed), likewise
  Vec s, cN;                 // bias sums b_ih + b_hh [4H]; last cell state [N,H]
  int64_t dx_zeros = 0, dh_zeros = 0, nz = 0;
};

RefOut ref_forward(const Problem& p, const Held* held = nullptr) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 4 * H;
  const Quant& q = p.q;
  const bool hold_masks = held && !held->mx.empty(), hold_bias = held && !held->s0.empty();
  RefOut o;
  const size_t TNH = size_t(T) * N * H, TNC = size_t(T) * N * C;
  o.y.assign(TNH, 0);
  o.c = o.gi = o.gf = o.gg = o.go = o.hhat = o.mh = o.ah = o.ph = o.y;
  o.xhat.assign(TNC, 0);
  o.mx = o.ax = o.px = o.xhat;
  o.s.assign(G, 0);
  Vec start(G);
  for (int k = 0; k < G; ++k) {
    o.s[k] = p.b_ih[k] + p.b_hh[k];
    if (!q.qw) start[k] = o.s[k];
    else if (!hold_bias) start[k] = Q(o.s[k], q.w);
    else {
      const double s0 = held->s0[k];
      start[k] = Q(s0, q.w) + pass_through(s0, q.w.qi, q.w.qf) * (o.s[k] - s0);
    }
  }
  // zeroing at Q_a(Θ) under qa, the memory update at the raw Θ, as the reference's DeltaLSTM
  const double thx = q.qa ? Q(p.theta_x, q.a) : p.theta_x, thh = q.qa ? Q(p.theta_h, q.a) : p.theta_h;
  const double ux = p.theta_x, uh = p.theta_h;
  Vec xh(size_t(N) * C, 0.0), hh(size_t(N) * H, 0.0), M(size_t(N) * G), cprev(size_t(N) * H, 0.0);
  for (int b = 0; b < N; ++b) std::copy(start.begin(), start.end(), M.begin() + size_t(b) * G);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < N; ++b) {
      Vec dxv(C), dhv(H);
      for (int c = 0; c < C; ++c) {
        const size_t i = (size_t(t) * N + b) * C + c;
        double& hat = xh[size_t(b) * C + c];
        dxv[c] = ref_delta(q.qa ? Q(p.x[i], q.a) : p.x[i], hat, thx, ux, hold_masks ? &held->mx[i] : nullptr, o.mx[i], o.ax[i]);
        o.xhat[i] = hat, o.px[i] = dxv[c];
        if (dxv[c] == 0.0) ++o.dx_zeros; else ++o.nz;
      }
      for (int k = 0; k < H; ++k) {
        const size_t i = (size_t(t) * N + b) * H + k;
        double& hat = hh[size_t(b) * H + k];
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : 0.0;
        dhv[k] = ref_delta(hp, hat, thh, uh, hold_masks ? &held->mh[i] : nullptr, o.mh[i], o.ah[i]);
        o.hhat[i] = hat, o.ph[i] = dhv[k];
        if (dhv[k] == 0.0) ++o.dh_zeros; else ++o.nz;
      }
      double* m = &M[size_t(b) * G];
      for (int g = 0; g < G; ++g) {
        double s = 0;
        for (int c = 0; c < C; ++c) s += p.w_ih[size_t(g) * C + c] * dxv[c];
        for (int k = 0; k < H; ++k) s += p.w_hh[size_t(g) * H + k] * dhv[k];
        m[g] += s;
      }
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        double& cp = cprev[size_t(b) * H + j];
        double ig, fg, gg, og, cn, h;
        if (q.qa) {  // the reference's quantisation points (see delta_lstm.cc)
          ig = Q(sigm(Q(m[j], q.a)), q.n), fg = Q(sigm(Q(m[H + j], q.a)), q.n);
          gg = Q(std::tanh(Q(m[2 * H + j], q.a)), q.n), og = Q(sigm(Q(m[3 * H + j], q.a)), q.n);
          cn = Q(fg * cp + ig * gg, q.a);
          h = Q(og * Q(std::tanh(cn), q.n), q.a);
        } else {
          ig = sigm(m[j]), fg = sigm(m[H + j]), gg = std::tanh(m[2 * H + j]), og = sigm(m[3 * H + j]);
          cn = fg * cp + ig * gg;
          h = og * std::tanh(cn);
        }
        o.gi[i] = ig, o.gf[i] = fg, o.gg[i] = gg, o.go[i] = og, o.c[i] = cn, o.y[i] = h;
        cp = cn;
      }
    }
  o.cN = cprev;
  return o;
}

// A plain float64 LSTM (pre-activations recomputed densely each step, h0 = c0 = 0).
Vec plain_lstm_y(const Problem& p) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 4 * H;
  Vec y(size_t(T) * N * H), h(size_t(N) * H, 0.0), c(size_t(N) * H, 0.0), a(G);
  for (int t = 0; t < T; ++t) {
    Vec hn(h.size());
    for (int b = 0; b < N; ++b) {
      for (int g = 0; g < G; ++g) {
        double s = p.b_ih[g] + p.b_hh[g];
        for (int k = 0; k < C; ++k) s += p.w_ih[size_t(g) * C + k] * p.x[(size_t(t) * N + b) * C + k];
        for (int k = 0; k < H; ++k) s += p.w_hh[size_t(g) * H + k] * h[size_t(b) * H + k];
        a[g] = s;
      }
      for (int j = 0; j < H; ++j) {
        double& cc = c[size_t(b) * H + j];
        cc = sigm(a[H + j]) * cc + sigm(a[j]) * std::tanh(a[2 * H + j]);
        hn[size_t(b) * H + j] = y[(size_t(t) * N + b) * H + j] = sigm(a[3 * H + j]) * std::tanh(cc);
      }
    }
    h = hn;
  }
  return y;
}

struct RefGrads {
  Vec dx, dw_ih, dw_hh, db_ih, db_hh;
};

RefGrads ref_backward(const Problem& p, const RefOut& o) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 4 * H;
  RefGrads g;
  g.dx.assign(size_t(T) * N * C, 0);
  g.dw_ih.assign(size_t(G) * C, 0);
  g.dw_hh.assign(size_t(G) * H, 0);
  g.db_ih.assign(G, 0);
  g.db_hh.assign(G, 0);
  Vec dh(size_t(N) * H, 0.0), dc = p.dcN.empty() ? Vec(size_t(N) * H, 0.0) : p.dcN;
  Vec acc_x(size_t(N) * C, 0.0), acc_h(size_t(N) * H, 0.0);
  for (int t = T - 1; t >= 0; --t) {
    Vec dh_prev(size_t(N) * H, 0.0);
    for (int b = 0; b < N; ++b) {
      Vec da(G);
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        const double ig = o.gi[i], fg = o.gf[i], gg = o.gg[i], og = o.go[i], tc = std::tanh(o.c[i]);
        const double cp = t > 0 ? o.c[(size_t(t - 1) * N + b) * H + j] : 0.0;
        const double dht = dh[size_t(b) * H + j] + p.dy[i];
        const double dct = dc[size_t(b) * H + j] + dht * og * (1 - tc * tc);
        da[j] = dct * gg * ig * (1 - ig);
        da[H + j] = dct * cp * fg * (1 - fg);
        da[2 * H + j] = dct * ig * (1 - gg * gg);
        da[3 * H + j] = dht * tc * og * (1 - og);
        dc[size_t(b) * H + j] = dct * fg;
      }
      for (int k = 0; k < G; ++k) {  // M_t = start + W x̂_t + U ĥ_t
        g.db_ih[k] += da[k];
        for (int c = 0; c < C; ++c) {
          g.dw_ih[size_t(k) * C + c] += da[k] * o.xhat[(size_t(t) * N + b) * C + c];
          acc_x[size_t(b) * C + c] += da[k] * p.w_ih[size_t(k) * C + c];
        }
        for (int j = 0; j < H; ++j) {
          g.dw_hh[size_t(k) * H + j] += da[k] * o.hhat[(size_t(t) * N + b) * H + j];
          acc_h[size_t(b) * H + j] += da[k] * p.w_hh[size_t(k) * H + j];
        }
      }
      for (int c = 0; c < C; ++c) {
        const size_t i = (size_t(t) * N + b) * C + c;
        ref_route(o.mx[i], acc_x[size_t(b) * C + c], g.dx[i]);
      }
      for (int j = 0; j < H; ++j) {  // at t = 0, h_{−1} = 0: what reaches it is dropped
        const size_t i = (size_t(t) * N + b) * H + j;
        ref_route(o.mh[i], acc_h[size_t(b) * H + j], dh_prev[size_t(b) * H + j]);
      }
    }
    dh = dh_prev;
  }
  for (int k = 0; k < G; ++k) {  // both biases feed the one start; Q_w straight through
    if (p.q.qw) g.db_ih[k] *= pass_through(o.s[k], p.q.w.qi, p.q.w.qf);
    g.db_hh[k] = g.db_ih[k];
  }
  return g;
}

double loss_of(const Problem& p, const RefOut& o) {
  double L = 0;
  for (size_t i = 0; i < o.y.size(); ++i) L += p.dy[i] * o.y[i];
  for (size_t i = 0; i < p.dcN.size(); ++i) L += p.dcN[i] * o.cN[i];
  return L;
}

double fd_check(Problem p, uint64_t seed) {
  const RefOut base = ref_forward(p);
  const RefGrads g = ref_backward(p, base);
  const Held held{base.mx, base.mh, base.s};
  auto probe = fd_probe(seed, [&] { return loss_of(p, ref_forward(p, &held)); });
  probe(p.w_ih, g.dw_ih, "w_ih");
  probe(p.w_hh, g.dw_hh, "w_hh");
  probe(p.b_ih, g.db_ih, "b_ih");
  probe(p.b_hh, g.db_hh, "b_hh");
  probe(p.x, g.dx, "x");
  return probe.worst;
}

// ---- engine ---------------------------------------------------------------------------------

EngineOut run_engine(const Problem& p, const RunOpts& ro = RunOpts()) {
  const auto& d = p.d;
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), dy = to_f(p.dy), dcN = to_f(p.dcN);
  const evnn::delta_lstm::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  const auto opt = options_of<evnn::delta_lstm::Options>(p, ro);
  EngineOut o;
  const size_t ysz = size_t(d.T) * d.N * d.H, NH = size_t(d.N) * d.H;
  o.y_infer.assign(ysz, NAN);
  o.cN_infer.assign(NH, NAN);
  evnn::delta_lstm::Forward(ctx, d, w, opt, x.data(), o.y_infer.data(), o.cN_infer.data(), nullptr, &o.st_infer);
  if (!ro.training) return o;
  o.y.assign(ysz, NAN);
  o.cN.assign(NH, NAN);
  o.cache.assign(evnn::delta_lstm::CacheSize(d), NAN);
  evnn::delta_lstm::Forward(ctx, d, w, opt, x.data(), o.y.data(), o.cN.data(), o.cache.data(), &o.st);
  o.dx.assign(size_t(d.T) * d.N * d.C, NAN);
  preset_grads(p, ro, o);
  const evnn::delta_lstm::Grads g{o.dw_ih.data(), o.dw_hh.data(), o.db_ih.data(), o.db_hh.data()};
  const float* dc = ro.want_dcN && !dcN.empty() ? dcN.data() : nullptr;
  for (int call = 0; call < ro.backward_calls; ++call)
    evnn::delta_lstm::Backward(ctx, d, w, opt, x.data(), o.y.data(), o.cache.data(), dy.data(), dc,
                               ro.want_dx ? o.dx.data() : nullptr, g, &o.st_back);
  return o;
}

constexpr double kForwardTol = 5e-6;
constexpr double kGradTol = 2e-5;
constexpr double kThetaMargin = 1e-5;  // |Δh| this close to Θh may be decided either way by float32

// The engine (run's options and backward path) against the reference along the engine's decisions.
double compare(const Problem& p, const std::string& tag, const RunOpts& run) {
  const EngineOut eo = run_engine(p, run);
  Held held;
  std::tie(held.mx, held.mh) = cache_masks(p, eo.cache);
  const RefOut ro = ref_forward(p, &held);  // the reference along the engine's decisions
  // The decisions must be the threshold rule's on that trajectory: exactly for Δx (on the exact
  // grid), and for Δh except where |Δh| lies within kThetaMargin of Θh.
  int64_t x_wrong = 0, h_wrong = 0, h_near = 0;
  for (size_t i = 0; i < ro.ax.size(); ++i) x_wrong += (ro.ax[i] >= p.theta_x) != (held.mx[i] != 0);
  for (size_t i = 0; i < ro.ah.size(); ++i)
    if ((ro.ah[i] >= p.theta_h) != (held.mh[i] != 0)) {
      if (std::fabs(ro.ah[i] - p.theta_h) <= kThetaMargin) ++h_near;
      else ++h_wrong;
    }
  expect(x_wrong == 0, tag + ": Δx decisions follow Θx (" + std::to_string(x_wrong) + " wrong)");
  expect(h_wrong == 0 && h_near <= 2, tag + ": Δh decisions follow Θh (" + std::to_string(h_wrong) + " wrong, " +
                                          std::to_string(h_near) + " within the margin)");
  const RefGrads rg = ref_backward(p, ro);
  expect(bitwise_equal(eo.y, eo.y_infer) && bitwise_equal(eo.cN, eo.cN_infer), tag + ": inference == training (y, cN)");
  double worst = expect_close(eo.y, ro.y, kForwardTol, tag + ": y");
  worst = std::max(worst, expect_close(eo.cN, ro.cN, kForwardTol, tag + ": cN"));
  auto grad = [&](const FVec& a, const Vec& b, const char* name) {
    worst = std::max(worst, expect_close(a, b, kGradTol, tag + ": " + name));
  };
  grad(eo.dw_ih, rg.dw_ih, "dw_ih");
  grad(eo.dw_hh, rg.dw_hh, "dw_hh");
  grad(eo.db_ih, rg.db_ih, "db_ih");
  grad(eo.db_hh, rg.db_hh, "db_hh");
  if (run.want_dx) grad(eo.dx, rg.dx, "dx");
  expect_forward_stats(p, eo, ro.dx_zeros, ro.dh_zeros, ro.nz, tag);
  expect_backward_stats(p, eo, run, tag);
  return worst;
}

// Θ = 0: the engine's DeltaLSTM (run's backward path) against the engine's LSTM (h0 = c0 = 0).
double compare_with_lstm(const Problem& p, const std::string& tag, const RunOpts& run) {
  const auto& d = p.d;
  const EngineOut eo = run_engine(p, run);
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), dy = to_f(p.dy), dcN = to_f(p.dcN);
  const evnn::lstm::Dims ld{d.T, d.N, d.C, d.H};
  const evnn::lstm::Weights lw{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  const evnn::lstm::Options lo;
  const size_t G = size_t(4) * d.H, NH = size_t(d.N) * d.H;
  FVec y(size_t(d.T) * NH), cN(NH), cache(evnn::lstm::CacheSize(ld)), dx(size_t(d.T) * d.N * d.C);
  FVec dw_ih(G * d.C, 0.f), dw_hh(G * d.H, 0.f), db_ih(G, 0.f), db_hh(G, 0.f);
  evnn::lstm::Forward(ctx, ld, lw, lo, x.data(), nullptr, nullptr, y.data(), cN.data(), cache.data());
  evnn::lstm::Backward(ctx, ld, lw, lo, x.data(), nullptr, nullptr, y.data(), cache.data(), dy.data(), nullptr,
                       dcN.data(), dx.data(), nullptr, nullptr, {dw_ih.data(), dw_hh.data(), db_ih.data(), db_hh.data()});
  auto v = [](const FVec& f) { return Vec(f.begin(), f.end()); };
  double e = expect_close(eo.y, v(y), kForwardTol, tag + ": y vs lstm");
  e = std::max(e, expect_close(eo.cN, v(cN), kForwardTol, tag + ": cN vs lstm"));
  e = std::max(e, expect_close(eo.dx, v(dx), kGradTol, tag + ": dx vs lstm"));
  e = std::max(e, expect_close(eo.dw_ih, v(dw_ih), kGradTol, tag + ": dw_ih vs lstm"));
  e = std::max(e, expect_close(eo.dw_hh, v(dw_hh), kGradTol, tag + ": dw_hh vs lstm"));
  e = std::max(e, expect_close(eo.db_ih, v(db_ih), kGradTol, tag + ": db_ih vs lstm"));
  e = std::max(e, expect_close(eo.db_hh, v(db_hh), kGradTol, tag + ": db_hh vs lstm"));
  return e;
}

// qa: the engine's inference forward against the float64 quantised reference, exactly. The
// weights are on the weight grid and every activation on its grid, so each product and sum is
// exact in float32; the only inexact steps are σ and tanh, evaluated on the activation grid
// (a fixed, finite set of inputs) and then rounded to the coarser nonlinear grid.
void compare_quantised(const Problem& p, const std::string& tag) {
  RunOpts ro;
  ro.training = false;
  const EngineOut eo = run_engine(p, ro);
  const RefOut r = ref_forward(p);
  expect_quantised(p, eo, r.y, r.cN, r.dx_zeros, r.dh_zeros, r.nz, tag);
}

}  // namespace

int main() {
  const std::vector<Shape> shapes = {{1, 1, 1, 1},  {1, 3, 5, 7},   {4, 1, 3, 5},  {5, 2, 7, 3},   {7, 4, 9, 11},
                                     {3, 5, 17, 33}, {6, 3, 1, 16}, {9, 6, 24, 40}, {4, 1, 20, 300}};
  // Θx 0.3 lies between grid points (|Δx| is at least 0.0125 from it); 0.25 and 0.5 are ties.
  const std::vector<std::pair<double, double>> thetas = {{0.0, 0.0}, {0.3, 0.0}, {0.0, 0.05}, {0.25, 0.1}, {0.5, 0.3}};
  auto run = [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); };

  // 1. The reference's gradient against finite differences with the decisions held.
  {
    double worst = 0;
    uint64_t seed = 100;
    for (const Shape& s : shapes) {
      if (s.H > 16 || s.T > 7) continue;
      for (const auto& th : thetas) worst = std::max(worst, fd_check(make_problem(s.T, s.N, s.C, s.H, th.first, th.second, seed), seed * 7)), ++seed;
    }
    worst = std::max(worst, fd_check(make_problem(6, 2, 3, 5, 0.25, 0.1, 77, 6.0), 78));  // saturated gates
    Problem pw = make_problem(6, 2, 3, 5, 0.25, 0.1, 79, 3.0);  // qw: sums beyond Q_w's range saturate
    pw.q.qw = true;
    worst = std::max(worst, fd_check(pw, 80));
    expect_fd_agrees(worst, " (decisions held)");
  }

  // 1b. The reference at Θ = 0 keeps every entry and is the plain LSTM; Θ > 0 has fewer nonzeros.
  {
    const Problem p0 = make_problem(7, 4, 9, 11, 0, 0, 5), p1 = make_problem(7, 4, 9, 11, 0.25, 0.1, 5);
    const RefOut a = ref_forward(p0), b = ref_forward(p1);
    bool all = true;
    for (double m : a.mx) all = all && m == 1;
    for (double m : a.mh) all = all && m == 1;
    expect(all, "reference: Θ = 0 keeps every Δ");
    const Vec plain = plain_lstm_y(p0);
    double e = 0;
    for (size_t i = 0; i < plain.size(); ++i) e = std::max(e, std::fabs(plain[i] - a.y[i]));
    expect(e < 1e-12, "reference: Θ = 0 equals the plain LSTM (err " + std::to_string(e) + ")");
    expect(b.dx_zeros > a.dx_zeros && b.dh_zeros > a.dh_zeros, "reference: Θ > 0 zeroes more Δ");
    int64_t ties = 0, kept = 0;
    for (size_t i = 0; i < b.ax.size(); ++i)
      if (b.ax[i] == 0.25) ++ties, kept += b.mx[i] == 1;
    expect(ties > 0 && kept == ties, "reference: |Δx| = Θx is kept (" + std::to_string(kept) + "/" + std::to_string(ties) + ")");
  }

  // 2. Engine vs reference for every kernel × threads × chunking × backward path, each Θ; every
  // other problem without dcN (the engine is passed null).
  check_sweep(shapes, thetas,
              [](const Shape& s, double tx, double th, uint64_t seed, double wscale) {
                Problem p = make_shape(s, tx, th, seed, wscale);
                if (seed % 2) p.dcN.clear();
                return p;
              },
              compare);

  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    // 3. Θ = 0 is the LSTM, on both backward paths.
    {
      double e = 0;
      uint64_t seed = 300;
      for (const Shape& s : shapes)
        e = std::max(e, compare_paths(make_shape(s, 0, 0, seed++, 1.0), kn + " Θ=0 vs lstm " + shape_tag(s), RunOpts(), compare_with_lstm));
      e = std::max(e, compare_paths(make_problem(20, 16, 96, 128, 0, 0, 399), kn + " Θ=0 vs lstm T=20 N=16 C=96 H=128", RunOpts(),
                                    compare_with_lstm));
      std::printf("Θ=0 DeltaLSTM vs LSTM engine [%s, both backward paths]: max scaled err %.2e\n", kn.c_str(), e);
    }
    // A bigger shape with thresholds; the automatic choice of the backward path.
    check_bigger(kn, make_shape, compare, run);
    // qw in training: the memory start Q_w(b_ih + b_hh), some sums saturating.
    check_qw(kn, make_shape, compare, [](const Problem& p) {
      int64_t n = 0;
      for (size_t j = 0; j < p.b_ih.size(); ++j) n += pass_through(p.b_ih[j] + p.b_hh[j], 1, 7) == 0;
      return n;
    });
    // 4. Accumulation.
    check_accumulation(kn, make_shape, run);
  }

  // 5. 1 vs 2 threads bitwise (builtin).
  check_threads_bitwise(make_shape, run);

  // 6. qa: bit-exact inference against the quantised reference, on 1..3 threads; refused with a cache.
  check_qa(
      shapes, false, true, make_quantised_problem, compare_quantised,
      [](const Problem& p) { return trace_of(ref_forward(p)); },
      run);

  // 7. T = 0: gradients untouched, cN = 0.
  const EngineOut o = check_t0(make_shape, run);
  expect(std::all_of(o.cN.begin(), o.cN.end(), [](float v) { return v == 0.0f; }), "T=0: cN = 0");
  return summary();
}
