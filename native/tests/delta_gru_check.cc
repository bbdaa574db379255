// Standalone check of the CPU DeltaGRU (no Node): a float64 reference that runs the delta
// memories literally (M += W Δx + U Δh), its BPTT (masks held constant) verified by central
// finite differences with the threshold masks fixed, then the float32 engine against it, with
// Θ = 0 (where the layer is the GRU: also compared with evnn::gru) and Θ > 0 (ties |Δ| = Θ on
// an exact grid must be kept), for every GEMM kernel, thread count and time-chunk size, on both
// backward paths (dense and event-driven, each forced; the automatic choice takes the event path
// where updates are sparse and the dense one at Θ = 0); the zero counts and the forward's and
// backward's MACs, gradient accumulation (+=), and 1 vs 2 threads bitwise (batch 3 and batch 1,
// where the forward's unit blocks split over the threads). Quantisation: fixed_point's
// Quantize/PassThrough on hand values; qw in training (the memory starts Q_w of the bias sums,
// their gradient straight through, zero where saturated; finite differences with the quantised
// offsets held); qa inference bit-exact against a float64 quantised reference (weights on the
// weight grid, so every sum is exact), and qa with a cache refused. What the DeltaLSTM check
// shares is in delta_check_util.h. Exit status 0 only when every check passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "delta_check_util.h"
#include "evnn/context.h"
#include "evnn/delta_gru.h"
#include "evnn/fixed_point.h"
#include "evnn/gemm.h"
#include "evnn/gru.h"
#include "evnn/parallel.h"

using namespace evnn::check;
using namespace evnn::check::delta;

namespace {

using Problem = DeltaProblem<evnn::delta_gru::Dims>;

Problem make_problem(int T, int N, int C, int H, double tx, double th, uint64_t seed, double wscale = 1.0) {
  return make_delta_problem<evnn::delta_gru::Dims>(3, false, T, N, C, H, tx, th, seed, wscale);
}
Problem make_shape(const Shape& s, double tx, double th, uint64_t seed, double wscale) {
  return make_problem(s.T, s.N, s.C, s.H, tx, th, seed, wscale);
}
Problem make_quantised_problem(const Shape& s, double tx, double th, uint64_t seed, const Quant& q) {
  return quantised(make_problem(s.T, s.N, s.C, s.H, tx, th, seed), seed, q);
}

// ---- float64 reference --------------------------------------------------------------------

struct RefOut {
  Vec y, r, z, n, hn;       // [T,N,H]
  Vec xhat, mx, hhat, mh;   // [T,N,C] x2, [T,N,H] x2 (after step t's update; masks 0/1: the memory updates)
  Vec ax, ah;               // |Δ| before the threshold
  Vec px, ph;               // the Δ passed on (0 where zeroed)
  Vec s;                    // the memory starts' bias sums [4H]: b_ir + b_hr, b_iz + b_hz, b_in, b_hn
  int64_t dx_zeros = 0, dh_zeros = 0, nz = 0;
};

// With `masks` (mx, mh of an earlier run) the threshold decisions are those, held fixed (for
// finite differences, and to follow the float32 engine's decisions); else from Θ. Under qw, when
// `masks` also carries its bias sums s0, the memory start is Q_w(s0) + (s − s0) where Q_w(s0)
// does not saturate, else Q_w(s0): the straight-through linearisation whose derivative the
// backward's bias gradient is (held for finite differences); else Q_w(s).
RefOut ref_forward(const Problem& p, const RefOut* masks = nullptr) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H;
  const Quant& q = p.q;
  RefOut o;
  const size_t TNH = size_t(T) * N * H, TNC = size_t(T) * N * C;
  o.y.assign(TNH, 0);
  o.r = o.z = o.n = o.hn = o.hhat = o.mh = o.ah = o.ph = o.y;
  o.xhat.assign(TNC, 0);
  o.mx = o.ax = o.px = o.xhat;
  Vec xh(size_t(N) * C, 0.0), hh(size_t(N) * H, 0.0), M(size_t(N) * 4 * H), start(size_t(4) * H);
  o.s.assign(size_t(4) * H, 0);
  for (int j = 0; j < 2 * H; ++j) o.s[j] = p.b_ih[j] + p.b_hh[j];
  for (int j = 0; j < H; ++j) o.s[2 * H + j] = p.b_ih[2 * H + j], o.s[3 * H + j] = p.b_hh[2 * H + j];
  for (int k = 0; k < 4 * H; ++k) {
    if (!q.qw) start[k] = o.s[k];
    else if (!masks || masks->s.empty()) start[k] = Q(o.s[k], q.w);
    else start[k] = Q(masks->s[k], q.w) + pass_through(masks->s[k], q.w.qi, q.w.qf) * (o.s[k] - masks->s[k]);
  }
  // qa quantises M_hn's start once more, in the activation format (as the reference does)
  if (q.qa)
    for (int j = 0; j < H; ++j) start[3 * H + j] = Q(start[3 * H + j], q.a);
  for (int b = 0; b < N; ++b) std::copy(start.begin(), start.end(), M.begin() + size_t(b) * 4 * H);
  // zeroing at Q_a(Θ) under qa; the memory update there too, as the reference's DeltaGRU
  const double thx = q.qa ? Q(p.theta_x, q.a) : p.theta_x, thh = q.qa ? Q(p.theta_h, q.a) : p.theta_h;
  const double ux = thx, uh = thh;
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < N; ++b) {
      Vec dxv(C), dhv(H);
      for (int c = 0; c < C; ++c) {
        const size_t i = (size_t(t) * N + b) * C + c;
        double& hat = xh[size_t(b) * C + c];
        dxv[c] = ref_delta(q.qa ? Q(p.x[i], q.a) : p.x[i], hat, thx, ux, masks ? &masks->mx[i] : nullptr, o.mx[i], o.ax[i]);
        o.xhat[i] = hat, o.px[i] = dxv[c];
        if (dxv[c] == 0.0) ++o.dx_zeros; else ++o.nz;
      }
      for (int k = 0; k < H; ++k) {
        const size_t i = (size_t(t) * N + b) * H + k;
        double& hat = hh[size_t(b) * H + k];
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : 0.0;
        dhv[k] = ref_delta(hp, hat, thh, uh, masks ? &masks->mh[i] : nullptr, o.mh[i], o.ah[i]);
        o.hhat[i] = hat, o.ph[i] = dhv[k];
        if (dhv[k] == 0.0) ++o.dh_zeros; else ++o.nz;
      }
      double* m = &M[size_t(b) * 4 * H];
      for (int g = 0; g < 3 * H; ++g) {
        double sx = 0, sh = 0;
        for (int c = 0; c < C; ++c) sx += p.w_ih[size_t(g) * C + c] * dxv[c];
        for (int k = 0; k < H; ++k) sh += p.w_hh[size_t(g) * H + k] * dhv[k];
        m[g] += sx;
        m[g < 2 * H ? g : g + H] += sh;
      }
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + j] : 0.0;
        if (q.qa) {  // the reference's quantisation points (see delta_gru.cc)
          const double r = Q(sigm(Q(m[j], q.a)), q.n), z = Q(sigm(Q(m[H + j], q.a)), q.n);
          const double hn = Q(m[3 * H + j], q.a);
          const double n = Q(std::tanh(Q(m[2 * H + j] + r * hn, q.a)), q.n);
          o.y[i] = Q(Q((1 - z) * n, q.a) + Q(z * hp, q.a), q.a);
          o.r[i] = r, o.z[i] = z, o.n[i] = n, o.hn[i] = hn;
          continue;
        }
        const double r = sigm(m[j]), z = sigm(m[H + j]), n = std::tanh(m[2 * H + j] + r * m[3 * H + j]);
        o.y[i] = (1 - z) * n + z * hp;
        o.r[i] = r, o.z[i] = z, o.n[i] = n, o.hn[i] = m[3 * H + j];
      }
    }
  return o;
}

struct RefGrads {
  Vec dx, dw_ih, dw_hh, db_ih, db_hh;
};

RefGrads ref_backward(const Problem& p, const RefOut& o) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 3 * H;
  RefGrads g;
  g.dx.assign(size_t(T) * N * C, 0);
  g.dw_ih.assign(size_t(G) * C, 0);
  g.dw_hh.assign(size_t(G) * H, 0);
  g.db_ih.assign(G, 0);
  g.db_hh.assign(G, 0);
  Vec dh(size_t(N) * H, 0.0), acc_x(size_t(N) * C, 0.0), acc_h(size_t(N) * H, 0.0);
  for (int t = T - 1; t >= 0; --t) {
    Vec dprev(size_t(N) * H, 0.0);
    for (int b = 0; b < N; ++b) {
      Vec dax(G), dah(G);
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + j] : 0.0;
        const double gs = dh[size_t(b) * H + j] + p.dy[i];
        const double r = o.r[i], z = o.z[i], n = o.n[i];
        const double dan = gs * (1 - z) * (1 - n * n);
        dax[j] = dah[j] = dan * o.hn[i] * r * (1 - r);
        dax[H + j] = dah[H + j] = gs * (hp - n) * z * (1 - z);
        dax[2 * H + j] = dan, dah[2 * H + j] = dan * r;
        dprev[size_t(b) * H + j] += gs * z;
      }
      for (int k = 0; k < G; ++k) {
        g.db_ih[k] += dax[k];
        g.db_hh[k] += dah[k];
        for (int c = 0; c < C; ++c) {
          g.dw_ih[size_t(k) * C + c] += dax[k] * o.xhat[(size_t(t) * N + b) * C + c];
          acc_x[size_t(b) * C + c] += dax[k] * p.w_ih[size_t(k) * C + c];
        }
        for (int j = 0; j < H; ++j) {
          g.dw_hh[size_t(k) * H + j] += dah[k] * o.hhat[(size_t(t) * N + b) * H + j];
          acc_h[size_t(b) * H + j] += dah[k] * p.w_hh[size_t(k) * H + j];
        }
      }
      for (int c = 0; c < C; ++c) {
        const size_t i = (size_t(t) * N + b) * C + c;
        ref_route(o.mx[i], acc_x[size_t(b) * C + c], g.dx[i]);
      }
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        ref_route(o.mh[i], acc_h[size_t(b) * H + j], dprev[size_t(b) * H + j]);
      }
    }
    dh = dprev;
  }
  if (p.q.qw) {  // each start is Q_w of its sum: straight through, zero where saturated
    auto pt = [&](int k) { return pass_through(o.s[k], p.q.w.qi, p.q.w.qf); };
    for (int j = 0; j < 2 * H; ++j) g.db_ih[j] *= pt(j), g.db_hh[j] *= pt(j);
    for (int j = 0; j < H; ++j) g.db_ih[2 * H + j] *= pt(2 * H + j), g.db_hh[2 * H + j] *= pt(3 * H + j);
  }
  return g;
}

double fd_check(Problem p, uint64_t seed) {
  const RefOut base = ref_forward(p);
  const RefGrads g = ref_backward(p, base);
  auto probe = fd_probe(seed, [&] {
    const RefOut o = ref_forward(p, &base);
    double L = 0;
    for (size_t i = 0; i < o.y.size(); ++i) L += p.dy[i] * o.y[i];
    return L;
  });
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
  const FVec x = to_f(p.x), dy = to_f(p.dy);
  const evnn::delta_gru::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  const auto opt = options_of<evnn::delta_gru::Options>(p, ro);
  EngineOut o;
  const size_t ysz = size_t(d.T) * d.N * d.H;
  o.y_infer.assign(ysz, NAN);
  evnn::delta_gru::Forward(ctx, d, w, opt, x.data(), o.y_infer.data(), nullptr, &o.st_infer);
  if (!ro.training) return o;
  o.y.assign(ysz, NAN);
  o.cache.assign(evnn::delta_gru::CacheSize(d), NAN);
  evnn::delta_gru::Forward(ctx, d, w, opt, x.data(), o.y.data(), o.cache.data(), &o.st);
  o.dx.assign(size_t(d.T) * d.N * d.C, NAN);
  preset_grads(p, ro, o);
  const evnn::delta_gru::Grads g{o.dw_ih.data(), o.dw_hh.data(), o.db_ih.data(), o.db_hh.data()};
  for (int call = 0; call < ro.backward_calls; ++call)
    evnn::delta_gru::Backward(ctx, d, w, opt, x.data(), o.y.data(), o.cache.data(), dy.data(),
                              ro.want_dx ? o.dx.data() : nullptr, g, &o.st_back);
  return o;
}

constexpr double kForwardTol = 5e-6;
constexpr double kGradTol = 2e-5;

// The engine (run's options and backward path) against the reference along the engine's masks.
double compare(const Problem& p, const std::string& tag, const RunOpts& run) {
  const EngineOut eo = run_engine(p, run);
  const RefOut own = ref_forward(p);
  RefOut masks;
  std::tie(masks.mx, masks.mh) = cache_masks(p, eo.cache);
  // Masks: the engine must decide as the float64 reference except where |Δh| is within rounding
  // of Θh (count those; Δx decisions are exact on the grid).
  int64_t x_diff = 0, h_diff = 0;
  for (size_t i = 0; i < own.mx.size(); ++i) x_diff += own.mx[i] != masks.mx[i];
  for (size_t i = 0; i < own.mh.size(); ++i) h_diff += own.mh[i] != masks.mh[i];
  expect(x_diff == 0, tag + ": Δx masks equal the reference's (" + std::to_string(x_diff) + " differ)");
  expect(h_diff <= 2, tag + ": Δh masks nearly equal the reference's (" + std::to_string(h_diff) + " differ)");
  const RefOut ro = ref_forward(p, &masks);
  const RefGrads rg = ref_backward(p, ro);
  expect(bitwise_equal(eo.y, eo.y_infer), tag + ": inference y == training y");
  double worst = expect_close(eo.y, ro.y, kForwardTol, tag + ": y");
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

// Θ = 0: the engine's DeltaGRU (run's backward path) against the engine's GRU (h0 = 0).
double compare_with_gru(const Problem& p, const std::string& tag, const RunOpts& run) {
  const auto& d = p.d;
  const EngineOut eo = run_engine(p, run);
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), dy = to_f(p.dy);
  const evnn::gru::Dims gd{d.T, d.N, d.C, d.H};
  const evnn::gru::Weights gw{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  const evnn::gru::Options go;
  FVec y(size_t(d.T) * d.N * d.H), cache(evnn::gru::CacheSize(gd)), dx(size_t(d.T) * d.N * d.C);
  const size_t G = size_t(3) * d.H;
  FVec dw_ih(G * d.C, 0.f), dw_hh(G * d.H, 0.f), db_ih(G, 0.f), db_hh(G, 0.f);
  evnn::gru::Forward(ctx, gd, gw, go, x.data(), nullptr, y.data(), cache.data());
  evnn::gru::Backward(ctx, gd, gw, go, x.data(), nullptr, y.data(), cache.data(), dy.data(), nullptr, dx.data(),
                      nullptr, {dw_ih.data(), dw_hh.data(), db_ih.data(), db_hh.data()});
  auto v = [](const FVec& f) { return Vec(f.begin(), f.end()); };
  double e = expect_close(eo.y, v(y), kForwardTol, tag + ": y vs gru");
  e = std::max(e, expect_close(eo.dx, v(dx), kGradTol, tag + ": dx vs gru"));
  e = std::max(e, expect_close(eo.dw_ih, v(dw_ih), kGradTol, tag + ": dw_ih vs gru"));
  e = std::max(e, expect_close(eo.dw_hh, v(dw_hh), kGradTol, tag + ": dw_hh vs gru"));
  e = std::max(e, expect_close(eo.db_ih, v(db_ih), kGradTol, tag + ": db_ih vs gru"));
  e = std::max(e, expect_close(eo.db_hh, v(db_hh), kGradTol, tag + ": db_hh vs gru"));
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
  expect_quantised(p, eo, r.y, Vec(), r.dx_zeros, r.dh_zeros, r.nz, tag);
}

// fixed_point.h on hand values: Quantize (round half to even, saturation), PassThrough and the
// array forms.
void check_fixed_point() {
  using evnn::fixed_point::Quantize;
  using evnn::fixed_point::PassThrough;
  const Format q35{3, 5};
  struct Case {
    float x, q;
  };
  const Case cases[] = {
      {0.1f, 0.09375f},        // 3.2 LSBs → 3
      {-0.1f, -0.09375f},
      {0.3f, 0.3125f},         // 9.6 → 10
      {0.015625f, 0.0f},       // 0.5 LSB: tie to even 0
      {0.046875f, 0.0625f},    // 1.5 → 2
      {0.078125f, 0.0625f},    // 2.5 → 2
      {-0.046875f, -0.0625f},  // −1.5 → −2
      {-0.078125f, -0.0625f},  // −2.5 → −2
      {3.96875f, 3.96875f},    // the largest value, 127 LSBs
      {3.98f, 3.96875f},       // 127.36 → 127
      {3.99f, 3.96875f},       // 127.68 → 128, clamped to 127
      {100.0f, 3.96875f},
      {-4.0f, -4.0f},          // the smallest, −128 LSBs
      {-4.01f, -4.0f},
      {-100.0f, -4.0f},
      {0.0f, 0.0f},
  };
  bool ok = true;
  for (const Case& c : cases) {
    const float v = Quantize(c.x, q35, true);
    if (v != c.q) ok = false, std::printf("  Q3.5(%.9g) = %.9g, expected %.9g\n", c.x, v, c.q);
  }
  expect(ok, "Quantize Q3.5 hand values (rounding half to even, saturation at 3.96875 and -4)");
  expect(Quantize(0.1f, q35, false) == 0.1f, "Quantize off returns x");
  expect(Quantize(0.7f, Format{1, 7}, true) == 0.703125f && Quantize(1.5f, Format{1, 7}, true) == 0.9921875f &&
             Quantize(-1.5f, Format{1, 7}, true) == -1.0f,
         "Quantize Q1.7 hand values (0.7 → 90/128, saturation at 127/128 and -1)");
  expect(Quantize(0.5f, Format{2, 6}, true) == 0.5f && Quantize(0.99f, Format{2, 6}, true) == 0.984375f && Quantize(0.995f, Format{2, 6}, true) == 1.0f &&
             Quantize(1.99f, Format{2, 6}, true) == 1.984375f,
         "Quantize Q2.6 hand values (a sigmoid output of 0.995 rounds up to 1)");
  const float pt_x[] = {3.96875f, 3.98f, 3.99f, -4.0f, -4.01f, -4.02f, 0.1f, 100.0f};
  const float pt_want[] = {1, 1, 0, 1, 1, 0, 1, 0};
  bool pt_ok = true;
  for (size_t i = 0; i < 8; ++i) pt_ok = pt_ok && PassThrough(pt_x[i], q35) == pt_want[i];
  expect(pt_ok, "PassThrough Q3.5: 1 unless the rounded value is clamped");
  FVec v(pt_x, pt_x + 8), dv(8, 2.0f);
  dv[5] = INFINITY;  // saturated: an exact zero even for a non-finite gradient
  evnn::fixed_point::PassThroughGrad(v.data(), dv.data(), v.size(), q35);
  bool g_ok = true;
  for (size_t i = 0; i < 8; ++i) g_ok = g_ok && dv[i] == 2.0f * pt_want[i];
  expect(g_ok, "PassThroughGrad keeps dx where not saturated, zeroes it elsewhere");
  evnn::fixed_point::QuantizeInPlace(v.data(), v.size(), q35);
  bool in_ok = true;
  for (size_t i = 0; i < 8; ++i) in_ok = in_ok && v[i] == Quantize(pt_x[i], q35, true);
  expect(in_ok, "QuantizeInPlace equals Quantize");
  // Against the float64 quantizer of the references, on every float32 of a fine sweep.
  bool sweep = true;
  for (int i = -40000; i <= 40000; ++i) {
    const float x = float(i) / 8192.0f;
    sweep = sweep && double(Quantize(x, q35, true)) == quantize(double(x), 3, 5) &&
            double(PassThrough(x, q35)) == pass_through(double(x), 3, 5);
  }
  expect(sweep, "Quantize/PassThrough equal the float64 quantizer on a sweep of [-4.9, 4.9] (ties included)");
}

}  // namespace

int main() {
  check_fixed_point();

  const std::vector<Shape> shapes = {{1, 1, 1, 1},  {1, 3, 5, 7},   {4, 1, 3, 5},  {5, 2, 7, 3},   {7, 4, 9, 11},
                                     {3, 5, 17, 33}, {6, 3, 1, 16}, {9, 6, 24, 40}, {4, 1, 20, 300}};
  const std::vector<std::pair<double, double>> thetas = {{0.0, 0.0}, {0.25, 0.0}, {0.0, 0.05}, {0.25, 0.1}, {0.5, 0.3}};

  // 1. The reference's gradient against finite differences with the masks held.
  {
    double worst = 0;
    uint64_t seed = 100;
    for (const Shape& s : shapes) {
      if (s.H > 16 || s.T > 7) continue;
      for (const auto& th : thetas) worst = std::max(worst, fd_check(make_problem(s.T, s.N, s.C, s.H, th.first, th.second, seed), seed * 7)), ++seed;
    }
    worst = std::max(worst, fd_check(make_problem(6, 2, 3, 5, 0.25, 0.1, 77, 6.0), 78));  // saturated
    Problem pw = make_problem(6, 2, 3, 5, 0.25, 0.1, 79, 3.0);  // qw: sums beyond Q_w's range saturate
    pw.q.qw = true;
    worst = std::max(worst, fd_check(pw, 80));
    expect_fd_agrees(worst, " (masks and quantised bias offsets held)");
  }

  // 1b. The reference at Θ = 0 keeps every entry, and has fewer nonzeros at Θ > 0.
  {
    const Problem p0 = make_problem(7, 4, 9, 11, 0, 0, 5), p1 = make_problem(7, 4, 9, 11, 0.25, 0.1, 5);
    const RefOut a = ref_forward(p0), b = ref_forward(p1);
    bool all = true;
    for (double m : a.mx) all = all && m == 1;
    for (double m : a.mh) all = all && m == 1;
    expect(all, "reference: Θ = 0 keeps every Δ");
    expect(b.dx_zeros > a.dx_zeros && b.dh_zeros > a.dh_zeros, "reference: Θ > 0 zeroes more Δ");
    // ties: |Δx| = 0.25 exactly must be kept
    int64_t ties = 0, kept = 0;
    for (size_t i = 0; i < b.ax.size(); ++i)
      if (b.ax[i] == 0.25) ++ties, kept += b.mx[i] == 1;
    expect(ties > 0 && kept == ties, "reference: |Δx| = Θx is kept (" + std::to_string(kept) + "/" + std::to_string(ties) + ")");
  }

  // 2. Engine vs reference for every kernel × threads × chunking × backward path, each Θ.
  check_sweep(shapes, thetas, make_shape, compare);

  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    // 3. Θ = 0 is the GRU, on both backward paths.
    {
      double e = 0;
      uint64_t seed = 300;
      auto against_gru = [&](const Problem& p, const std::string& tag, const RunOpts& ro) { return compare_with_gru(p, tag, ro); };
      for (const Shape& s : shapes)
        e = std::max(e, compare_paths(make_shape(s, 0, 0, seed++, 1.0), kn + " Θ=0 vs gru " + shape_tag(s), RunOpts(), against_gru));
      e = std::max(e, compare_paths(make_problem(20, 16, 96, 128, 0, 0, 399), kn + " Θ=0 vs gru T=20 N=16 C=96 H=128", RunOpts(), against_gru));
      std::printf("Θ=0 DeltaGRU vs GRU engine [%s, both backward paths]: max scaled err %.2e\n", kn.c_str(), e);
    }
    // A bigger shape with thresholds; the automatic choice of the backward path.
    check_bigger(kn, make_shape, compare, [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); });
    // qw in training: the memory starts Q_w of the bias sums, some saturating.
    check_qw(kn, make_shape, compare, [](const Problem& p) {
      int64_t n = 0;
      for (double v : ref_forward(p).s) n += pass_through(v, 1, 7) == 0;
      return n;
    });
    // 4. Accumulation.
    check_accumulation(kn, make_shape, [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); });
  }

  // 5. 1 vs 2 threads bitwise (builtin).
  check_threads_bitwise(make_shape, [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); });

  // 5b. qa: bit-exact inference against the quantised reference, on 1..3 threads; refused with a cache.
  check_qa(
      shapes, true, false, make_quantised_problem, compare_quantised,
      [](const Problem& p) { return trace_of(ref_forward(p)); },
      [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); });

  // 6. T = 0: gradients untouched.
  check_t0(make_shape, [](const Problem& p, const RunOpts& ro) { return run_engine(p, ro); });
  return summary();
}
