// Standalone check of the CPU EGRU (no Node): a float64 reference of the forward pass and of BPTT
// written here from the equations in egru.h — soft reset, H(0) = 0, the surrogate
// γ·max(0, 1 − ε|v|) with its gradient into the thresholds, zoneout (a mask in training,
// p·c + (1 − p)·u in evaluation), the output trace tr = 0.9 tr + 0.1 y, y0 setting y_{−1} only and
// c_{−1} = 0, DropConnect (the kernel used is R ⊙ keep / (1 − p), its gradient masked the same
// way) and EvNN's per-layer clipping (this call's parameter gradients and dy0 scaled together to
// grad_clip when their L2 norm is above it). The reference's BPTT is itself verified by central
// finite differences with a smooth firing function in place of H (so the derivative the surrogate
// stands for exists). Then the float32 engine is compared with it on several shapes (T = 1, N = 1,
// C = 0, odd sizes) and variants (y0, zoneout masks, upstream dy/dc/do/dtrace and dyN, event input
// with a dx_active map, DropConnect, clipping active and inactive), for every GEMM kernel compiled
// in, 1–3 threads and several time-chunk sizes (Options::chunk_floats); plus evaluation mode,
// no/every unit firing, thresholds at 0 and 1, gradient accumulation (+=), 1 vs 2 threads bitwise
// equal with thread boundaries mid-row, ClampThresholds and DropConnect.
//
// Event decisions must be stable for such a comparison: a case is used only if every
// pre-threshold value c' lies more than kStable from its threshold and every |v| more than kStable
// from the surrogate's kink 1/ε in the float64 reference; seeds are tried in a fixed order until
// one qualifies (as test/native-oracle/egru.test.ts does), so the cases are deterministic.
// Exit status 0 only when every check passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/egru.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"

using namespace evnn::check;

namespace {

using Bytes = std::vector<uint8_t>;
namespace egru = evnn::egru;

// ---- problems --------------------------------------------------------------------------------

constexpr double kStable = 1e-4;
constexpr float kDampening = 0.7f;  // γ
constexpr float kSupport = 1.3f;    // ε: the surrogate is zero where |v| >= 1/ε ≈ 0.77

struct Variant {
  bool y0 = false;
  bool dy = true, dc = false, d_o = false, dtrace = false, dyN = false;
  float zoneout = 0.0f;
  bool training = true;
  bool sparse_input = false, dx_active = false;
  float dropconnect = 0.0f;
  int clip = 0;  // 0: off; 1: active (grad_clip = half the norm); 2: inactive (twice the norm)
  double thr_lo = 0.05, thr_hi = 0.6;
  bool thr_alternate = false;  // thresholds 0, 1, 0, 1, ... instead of uniform in [lo, hi]
  double weight_scale = 0.0;   // 0: 1.2/√max(C, H) + 0.3 (as the TS oracle test)
  bool all_fire = false;       // thr 0 and a candidate pushed positive: every unit fires
};

struct Problem {
  egru::Dims d;
  Variant v;
  Vec kernel, rk, bias, rbias, thr, x, y0, dy, dc, d_o, dtrace, dyN;  // float-representable
  Bytes zmask, keep, dx_active;
  float grad_clip = 0.0f;
};

Problem make_problem(uint64_t seed, const egru::Dims& d, const Variant& v) {
  Rng rng(seed);
  Problem p;
  p.d = d;
  p.v = v;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  const double ws = v.weight_scale > 0 ? v.weight_scale : 1.2 / std::sqrt(double(std::max({C, H, 1}))) + 0.3;
  p.kernel = random_vec(rng, size_t(C) * G, ws);
  p.rk = random_vec(rng, size_t(H) * G, ws);
  p.bias = random_vec(rng, G, ws);
  p.rbias = random_vec(rng, G, ws);
  p.thr.resize(H);
  for (int j = 0; j < H; ++j) {
    p.thr[j] = v.thr_alternate ? double(j % 2) : double(float(v.thr_lo + (v.thr_hi - v.thr_lo) * rng.u01()));
  }
  if (v.all_fire) {
    for (int j = 0; j < H; ++j) {
      p.thr[j] = 0.0;
      p.bias[2 * H + j] = 3.0;  // g ≈ 1 and z < 1, so c' > 0 at every step
      p.bias[j] = -1.0;
    }
  }
  p.x = random_vec(rng, size_t(T) * N * C, 1.0);
  if (v.sparse_input) {
    for (double& e : p.x) e = rng.u01() < 0.7 ? 0.0 : std::fabs(e) + 0.25;
  }
  if (v.zoneout > 0.0f && v.training) {
    p.zmask.resize(size_t(T) * N * H);
    for (auto& m : p.zmask) m = rng.u01() < 1.0 - v.zoneout ? 1 : 0;
  }
  if (v.dropconnect > 0.0f) {
    p.keep.resize(size_t(H) * G);
    for (auto& m : p.keep) m = rng.u01() < 1.0 - v.dropconnect ? 1 : 0;
  }
  p.y0 = random_vec(rng, size_t(N) * H, 0.8);
  for (double& e : p.y0) e = rng.u01() < 0.5 ? 0.0 : e;
  const size_t TNH = size_t(T) * N * H;
  p.dy = random_vec(rng, TNH, 1.0);
  p.dc = random_vec(rng, TNH, 1.0);
  p.d_o = random_vec(rng, TNH, 1.0);
  p.dtrace = random_vec(rng, TNH, 1.0);
  p.dyN = random_vec(rng, size_t(N) * H, 1.0);
  if (v.dx_active) {
    p.dx_active.resize(size_t(T) * N * C);
    for (auto& m : p.dx_active) m = rng.u01() < 0.4 ? 1 : 0;
  }
  return p;
}

// ---- float64 reference, straight from the equations ------------------------------------------

struct RefFwd {
  Vec y, c, o, tr;                     // [T,N,H]
  Vec z, r, g, qg, cp, cprev, yprev;   // the tape: gates, (R y + br)_g, c', c_{t−1}, y_{t−1}
};

double sigm(double a) { return 1.0 / (1.0 + std::exp(-a)); }

// The smooth stand-in for H used only by the finite-difference check: o = σ(κ v), ∂o/∂v = κ o (1 − o).
constexpr double kSmoothSlope = 4.0;

// The recurrent kernel as used: R ⊙ keep / (1 − p) under DropConnect.
Vec used_recurrent(const Problem& p) {
  if (!(p.v.dropconnect > 0.0f)) return p.rk;
  Vec u(p.rk.size());
  const double s = 1.0 / (1.0 - double(p.v.dropconnect));
  for (size_t i = 0; i < u.size(); ++i) u[i] = p.keep[i] ? p.rk[i] * s : 0.0;
  return u;
}

enum class Zo { Off, Mask, Mix };
Zo zoneout_mode(const Variant& v) {
  if (!(v.zoneout > 0.0f)) return Zo::Off;
  return v.training ? Zo::Mask : Zo::Mix;
}

RefFwd ref_forward(const Problem& p, bool smooth = false) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 3 * H;
  const Vec R = used_recurrent(p);
  const Zo zo = zoneout_mode(p.v);
  const double pz = p.v.zoneout;
  const size_t NH = size_t(N) * H, sz = size_t(T) * NH;
  RefFwd f;
  for (Vec* a : {&f.y, &f.c, &f.o, &f.tr, &f.z, &f.r, &f.g, &f.qg, &f.cp, &f.cprev, &f.yprev}) a->assign(sz, 0.0);
  Vec yprev = p.v.y0 ? p.y0 : Vec(NH, 0.0), cprev(NH, 0.0), trprev(NH, 0.0);  // c_{−1} = 0 always
  Vec wx(G), rh(G);
  for (int t = 0; t < T; ++t) {
    Vec yn(NH), cn(NH), trn(NH);
    for (int n = 0; n < N; ++n) {
      for (int k = 0; k < G; ++k) {
        double a = p.bias[k];
        for (int i = 0; i < C; ++i) a += p.x[(size_t(t) * N + n) * C + i] * p.kernel[size_t(i) * G + k];
        wx[k] = a;
        double b = p.rbias[k];
        for (int i = 0; i < H; ++i) b += yprev[size_t(n) * H + i] * R[size_t(i) * G + k];
        rh[k] = b;
      }
      for (int j = 0; j < H; ++j) {
        const size_t at = (size_t(t) * N + n) * H + j, hj = size_t(n) * H + j;
        const double cpv = cprev[hj];
        const double z = sigm(wx[j] + rh[j]);
        const double r = sigm(wx[H + j] + rh[H + j]);
        const double g = std::tanh(wx[2 * H + j] + r * rh[2 * H + j]);
        const double u = z * cpv + (1.0 - z) * g;
        double cprime = u;
        if (zo == Zo::Mask) cprime = cpv + double(p.zmask[at]) * (u - cpv);
        if (zo == Zo::Mix) cprime = pz * cpv + (1.0 - pz) * u;
        const double v = cprime - p.thr[j];
        const double o = smooth ? sigm(kSmoothSlope * v) : (v > 0.0 ? 1.0 : 0.0);  // H(0) = 0
        const double y = o * cprime;
        f.y[at] = yn[hj] = y;
        f.c[at] = cn[hj] = cprime - o * p.thr[j];  // soft reset
        f.tr[at] = trn[hj] = 0.9 * trprev[hj] + 0.1 * y;
        f.o[at] = o;
        f.z[at] = z, f.r[at] = r, f.g[at] = g, f.qg[at] = rh[2 * H + j];
        f.cp[at] = cprime, f.cprev[at] = cpv, f.yprev[at] = yprev[hj];
      }
    }
    yprev = yn, cprev = cn, trprev = trn;
  }
  return f;
}

struct RefGrads {
  Vec dx, dy0, dk, drk, db, drb, dthr;
};

// Exact BPTT with ∂o/∂v the surrogate (or the smooth stand-in's derivative). The loss is
// L = Σ dy·y + Σ dc·c + Σ do·o + Σ dtrace·tr + Σ dyN·y_{T−1}, absent terms zero.
RefGrads ref_backward(const Problem& p, const RefFwd& f, bool smooth = false) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 3 * H;
  const Vec R = used_recurrent(p);
  const Zo zo = zoneout_mode(p.v);
  const double gamma = kDampening, eps = kSupport;
  const size_t NH = size_t(N) * H;
  RefGrads gr;
  gr.dx.assign(size_t(T) * N * C, 0.0);
  gr.dk.assign(size_t(C) * G, 0.0);
  gr.drk.assign(size_t(H) * G, 0.0);  // of the kernel as used, until the end
  gr.db.assign(G, 0.0);
  gr.drb.assign(G, 0.0);
  gr.dthr.assign(H, 0.0);
  const auto up = [](bool on, const Vec& a, size_t i) { return on ? a[i] : 0.0; };
  Vec dycarry(NH, 0.0), dccarry(NH, 0.0), dtrcarry(NH, 0.0);
  Vec dp(G), dq(G);
  for (int t = T - 1; t >= 0; --t) {
    Vec dyprev(NH, 0.0), dcprev(NH, 0.0);
    for (int n = 0; n < N; ++n) {
      for (int j = 0; j < H; ++j) {
        const size_t at = (size_t(t) * N + n) * H + j, hj = size_t(n) * H + j;
        // tr_t's total gradient carries every later trace: tr_{t+1} = 0.9 tr_t + 0.1 y_{t+1}
        const double dtr = up(p.v.dtrace, p.dtrace, at) + 0.9 * dtrcarry[hj];
        dtrcarry[hj] = dtr;
        double gy = up(p.v.dy, p.dy, at) + dycarry[hj] + 0.1 * dtr;
        if (t == T - 1) gy += up(p.v.dyN, p.dyN, hj);
        const double gc = up(p.v.dc, p.dc, at) + dccarry[hj];
        const double cprime = f.cp[at], o = f.o[at], thr = p.thr[j];
        const double v = cprime - thr;
        const double dodv = smooth ? kSmoothSlope * o * (1.0 - o) : gamma * std::max(0.0, 1.0 - eps * std::fabs(v));
        // y = o c', c = c' − o ϑ, o = H(c' − ϑ)
        const double go = up(p.v.d_o, p.d_o, at) + gy * cprime - gc * thr;
        const double dv = go * dodv;
        const double dcp = gy * o + gc + dv;
        gr.dthr[j] += -dv - gc * o;
        double du = dcp;
        if (zo == Zo::Mask) {
          const double m = p.zmask[at];
          dcprev[hj] += dcp * (1.0 - m);
          du = dcp * m;
        }
        const double z = f.z[at], r = f.r[at], g = f.g[at];
        const double dz = du * (f.cprev[at] - g), dg = du * (1.0 - z);
        dcprev[hj] += du * z;
        const double daG = dg * (1.0 - g * g);
        const double daR = daG * f.qg[at] * r * (1.0 - r);
        const double daZ = dz * z * (1.0 - z);
        dp[j] = daZ, dp[H + j] = daR, dp[2 * H + j] = daG;
        dq[j] = daZ, dq[H + j] = daR, dq[2 * H + j] = daG * r;
      }
      for (int k = 0; k < G; ++k) {
        gr.db[k] += dp[k];
        gr.drb[k] += dq[k];
        for (int i = 0; i < C; ++i) {
          const size_t xi = (size_t(t) * N + n) * C + i;
          gr.dk[size_t(i) * G + k] += p.x[xi] * dp[k];
          gr.dx[xi] += dp[k] * p.kernel[size_t(i) * G + k];
        }
        for (int i = 0; i < H; ++i) {
          gr.drk[size_t(i) * G + k] += f.yprev[(size_t(t) * N + n) * H + i] * dq[k];
          dyprev[size_t(n) * H + i] += dq[k] * R[size_t(i) * G + k];
        }
      }
    }
    dycarry = dyprev;
    dccarry = dcprev;  // at t = 0 this is dL/dc_{−1} of a constant: dropped
  }
  gr.dy0 = dycarry;
  if (p.v.dropconnect > 0.0f) {  // the kernel used is R ⊙ keep / (1 − p)
    const double s = 1.0 / (1.0 - double(p.v.dropconnect));
    for (size_t i = 0; i < gr.drk.size(); ++i) gr.drk[i] = p.keep[i] ? gr.drk[i] * s : 0.0;
  }
  return gr;
}

// The L2 norm over dy0 and the parameter gradients (not dx), the quantity EvNN clips.
double clip_norm(const RefGrads& g) {
  double ss = 0;
  for (const Vec* a : {&g.dy0, &g.dk, &g.drk, &g.db, &g.drb, &g.dthr})
    for (double e : *a) ss += e * e;
  return std::sqrt(ss);
}

// EvNN's per-layer clipping: coef = max / (norm + 1e-6), applied when below 1. Returns coef.
double ref_clip(RefGrads& g, double max_norm) {
  const double coef = max_norm / (clip_norm(g) + 1e-6);
  if (coef < 1.0)
    for (Vec* a : {&g.dy0, &g.dk, &g.drk, &g.db, &g.drb, &g.dthr})
      for (double& e : *a) e *= coef;
  return coef;
}

double ref_loss(const Problem& p, bool smooth) {
  const RefFwd f = ref_forward(p, smooth);
  const auto dot = [](const Vec& a, const Vec& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  };
  double L = 0;
  if (p.v.dy) L += dot(p.dy, f.y);
  if (p.v.dc) L += dot(p.dc, f.c);
  if (p.v.d_o) L += dot(p.d_o, f.o);
  if (p.v.dtrace) L += dot(p.dtrace, f.tr);
  if (p.v.dyN && p.d.T > 0) {
    const size_t last = size_t(p.d.T - 1) * p.d.N * p.d.H;
    for (size_t i = 0; i < p.dyN.size(); ++i) L += p.dyN[i] * f.y[last + i];
  }
  return L;
}

// Central differences of the smooth-firing reference loss against the reference gradient, on up
// to 40 entries of each tensor. Returns the largest relative error.
double fd_check(Problem p, uint64_t seed) {
  const RefGrads g = ref_backward(p, ref_forward(p, true), true);
  auto probe = fd_probe(seed, [&] { return ref_loss(p, true); });
  probe(p.kernel, g.dk, "kernel");
  probe(p.rk, g.drk, "recurrent_kernel");
  probe(p.bias, g.db, "bias");
  probe(p.rbias, g.drb, "recurrent_bias");
  probe(p.thr, g.dthr, "thr");
  probe(p.x, g.dx, "x");
  if (p.v.y0) probe(p.y0, g.dy0, "y0");
  return probe.worst;
}

// min |c' − ϑ| and min ||v| − 1/ε| over every (t, n, j).
double min_threshold_distance(const Problem& p, const RefFwd& f) {
  double m = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < f.cp.size(); ++i) m = std::min(m, std::fabs(f.cp[i] - p.thr[i % p.d.H]));
  return m;
}
double min_support_distance(const Problem& p, const RefFwd& f) {
  double m = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < f.cp.size(); ++i)
    m = std::min(m, std::fabs(std::fabs(f.cp[i] - p.thr[i % p.d.H]) - 1.0 / double(kSupport)));
  return m;
}

struct Case {
  Problem p;
  RefFwd f;
  RefGrads g;  // after DropConnect masking and clipping
  double clip_coef = 1.0;
  uint64_t seed = 0;
};

Case find_stable_case(uint64_t seed, const egru::Dims& d, const Variant& v) {
  for (uint64_t s = seed; s < seed + 200; ++s) {
    Case c;
    c.p = make_problem(s, d, v);
    c.f = ref_forward(c.p);
    if (min_threshold_distance(c.p, c.f) <= kStable || min_support_distance(c.p, c.f) <= kStable) continue;
    c.seed = s;
    if (v.training) {
      c.g = ref_backward(c.p, c.f);
      if (v.clip) {
        const double norm = clip_norm(c.g);
        c.p.grad_clip = float(v.clip == 1 ? 0.5 * norm : 2.0 * norm);
        c.clip_coef = ref_clip(c.g, double(c.p.grad_clip));
      }
    }
    return c;
  }
  expect(false, "no stable case in 200 seeds from " + std::to_string(seed));
  return Case{};
}

// ---- the engine under test -------------------------------------------------------------------

struct RunOpts {
  size_t chunk_floats = 0;
  int backward_calls = 1;
  bool want_dx = true, want_dy0 = true;
  bool backward = true;
  const FVec* preset = nullptr;  // initial value of every parameter-gradient entry (else 0)
};

struct EngineOut {
  FVec y, c, o, tr, cache, y_inf, c_inf;
  Bytes active;
  egru::Stats fstats, fstats_inf;
  FVec dx, dy0, dk, drk, db, drb, dthr;
};

egru::Options options_of(const Problem& p, size_t chunk_floats) {
  egru::Options o;
  o.training = p.v.training;
  o.zoneout = p.v.zoneout;
  o.dampening = kDampening;
  o.support = kSupport;
  o.sparse_input = p.v.sparse_input;
  o.dropconnect = p.v.dropconnect;
  o.grad_clip = p.grad_clip;
  o.chunk_floats = chunk_floats;
  return o;
}

EngineOut run_engine(const Problem& p, const RunOpts& ro = RunOpts()) {
  const egru::Dims& d = p.d;
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  const evnn::Context ctx = evnn::ThreadContext();
  const egru::Options opt = options_of(p, ro.chunk_floats);
  const FVec kernel = to_f(p.kernel), rk = to_f(p.rk), bias = to_f(p.bias), rbias = to_f(p.rbias),
             thr = to_f(p.thr), x = to_f(p.x), y0 = to_f(p.y0), dy = to_f(p.dy), dc = to_f(p.dc),
             d_o = to_f(p.d_o), dtrace = to_f(p.dtrace), dyN = to_f(p.dyN);
  FVec r_used;  // what the caller hands Forward under DropConnect
  if (opt.dropconnect > 0.0f) {
    r_used.assign(rk.size(), NAN);
    egru::DropConnect(ctx, rk.data(), p.keep.data(), opt.dropconnect, rk.size(), r_used.data());
  }
  static const float kNoKernel[1] = {0.0f};  // C = 0: the engine still wants a kernel pointer
  const egru::Weights w{C > 0 ? kernel.data() : kNoKernel, r_used.empty() ? rk.data() : r_used.data(), bias.data(),
                        rbias.data(), thr.data()};
  const float* y0p = p.v.y0 ? y0.data() : nullptr;
  const uint8_t* zm = p.zmask.empty() ? nullptr : p.zmask.data();
  const size_t TNH = size_t(T) * N * H, NH = size_t(N) * H;
  EngineOut o;
  o.y.assign(TNH, NAN), o.c.assign(TNH, NAN), o.o.assign(TNH, NAN), o.tr.assign(TNH, NAN);
  o.y_inf.assign(TNH, NAN), o.c_inf.assign(TNH, NAN);
  const bool keep = opt.training && ro.backward;
  if (keep) {
    o.cache.assign(egru::CacheSize(d), NAN);
    o.active.assign(TNH, 0xEE);
  }
  egru::Forward(ctx, d, w, opt, C > 0 ? x.data() : nullptr, y0p, zm, o.y.data(), o.c.data(), o.o.data(),
                o.tr.data(), keep ? o.cache.data() : nullptr, keep ? o.active.data() : nullptr, &o.fstats);
  egru::Forward(ctx, d, w, opt, C > 0 ? x.data() : nullptr, y0p, zm, o.y_inf.data(), o.c_inf.data(), nullptr,
                nullptr, nullptr, nullptr, &o.fstats_inf);
  if (!keep) return o;
  o.dx.assign(size_t(T) * N * C, NAN);  // NaN-filled: Backward must write every entry
  o.dy0.assign(NH, NAN);
  preset_grad(o.dk, size_t(C) * G, 0, ro.preset);
  preset_grad(o.drk, size_t(H) * G, 1, ro.preset);
  preset_grad(o.db, G, 2, ro.preset);
  preset_grad(o.drb, G, 3, ro.preset);
  preset_grad(o.dthr, H, 4, ro.preset);
  static float no_dkernel[1];  // C = 0: a valid pointer to nothing
  const egru::Grads g{C > 0 ? o.dk.data() : no_dkernel, o.drk.data(), o.db.data(), o.drb.data(), o.dthr.data()};
  for (int call = 0; call < ro.backward_calls; ++call) {
    egru::Backward(ctx, d, w, opt, C > 0 ? x.data() : nullptr, y0p, zm, p.keep.empty() ? nullptr : p.keep.data(),
                   o.y.data(), o.c.data(), o.cache.data(), o.active.data(), p.v.dy ? dy.data() : nullptr,
                   p.v.dyN ? dyN.data() : nullptr, p.v.dc ? dc.data() : nullptr, p.v.d_o ? d_o.data() : nullptr,
                   p.v.dtrace ? dtrace.data() : nullptr, ro.want_dx ? o.dx.data() : nullptr,
                   p.dx_active.empty() ? nullptr : p.dx_active.data(), ro.want_dy0 ? o.dy0.data() : nullptr, g,
                   nullptr);
  }
  return o;
}

// Tolerances, relative to each tensor's max |ref| (floored at 2^-24), fixed by reasoning rather
// than by what passes. float32's unit roundoff is u = 2^-24 ≈ 6e-8.
// Forward: a pre-activation here is a dot product of at most C + H + 2 ≤ 112 terms (worst-case
// rounding K·u of Σ|terms|, typically √K·u); σ and tanh (vec_math) add ≤ 6e-7 relative
// (gru_check measures them); the state runs through ≤ 12 steps with |∂c'/∂c_{t−1}| ≤ 1, and the
// DropConnect kernel is rounded once more (≤ u relative). That is ~1e-6 of the scale:
// kForwardTol = 4e-6 (≈ 64 u). Gradients: BPTT adds dot products of length 3H ≤ 210 per step,
// the weight gradients sum ≤ T·N = 60 rows, the surrogate's slope γε ≈ 0.9 passes forward errors
// in v on, and clipping multiplies by a coefficient computed from the same gradients:
// kGradTol = 2e-5 (≈ 330 u). A real defect (a missing mask, a sign, a dropped term, a wrong time
// step) shows at 1e-3..1 of the scale.
constexpr double kForwardTol = 4e-6;
constexpr double kGradTol = 2e-5;

struct Worst {
  double fwd = 0, grad = 0;
};

std::string dims_tag(const egru::Dims& d) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "T=%d N=%d C=%d H=%d", d.T, d.N, d.C, d.H);
  return buf;
}

// The engine against the case's reference: outputs, the active map, event counts, gradients.
Worst compare(const Case& cs, const std::string& tag, const RunOpts& ro = RunOpts()) {
  const Problem& p = cs.p;
  const RefFwd& f = cs.f;
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 3 * H;
  const EngineOut eo = run_engine(p, ro);
  Worst w;
  auto fwd = [&](const FVec& a, const Vec& b, const char* name) {
    w.fwd = std::max(w.fwd, expect_close(a, b, kForwardTol, tag + ": " + name));
  };
  fwd(eo.y, f.y, "y");
  fwd(eo.c, f.c, "c");
  fwd(eo.tr, f.tr, "trace");
  expect(scaled_err(eo.o, f.o) == 0.0, tag + ": o == reference o");
  expect(bitwise_equal(eo.y, eo.y_inf) && bitwise_equal(eo.c, eo.c_inf),
         tag + ": y, c without cache/o/trace == with them");
  // Event counts and the MACs of the forward products (they follow the events).
  double events = 0, y_events = 0;
  for (size_t i = 0; i < f.o.size(); ++i) {
    events += f.o[i];
    if (i < size_t(std::max(T - 1, 0)) * N * H) y_events += f.o[i];  // y_0 .. y_{T−2}, read by steps 1 .. T−1
  }
  double x_events = 0, y0_events = 0;
  for (double e : p.x) x_events += e != 0.0;
  if (p.v.y0)
    for (double e : p.y0) y0_events += e != 0.0;
  const double dense_x = double(T) * N * C * G;
  const double macs = (p.v.sparse_input ? x_events * G : dense_x) + (y_events + y0_events) * G;
  const double macs_dense = dense_x + double(T - 1 + (p.v.y0 ? 1 : 0)) * N * H * G;
  expect(eo.fstats.events == events && eo.fstats_inf.events == events,
         tag + ": stats.events " + std::to_string(eo.fstats.events) + " vs " + std::to_string(events));
  expect(T == 0 || (eo.fstats.macs == macs && eo.fstats.macs_dense == macs_dense),
         tag + ": stats.macs " + std::to_string(eo.fstats.macs) + " vs " + std::to_string(macs));
  if (!p.v.training || !ro.backward) return w;

  bool active_ok = true;
  double kept = 0;
  for (size_t i = 0; i < f.o.size(); ++i) {
    const bool in_support = std::fabs(f.cp[i] - p.thr[i % H]) < 1.0 / double(kSupport);
    const uint8_t want = uint8_t((f.o[i] > 0 ? egru::kFired : 0) | (in_support ? egru::kInSupport : 0));
    active_ok = active_ok && eo.active[i] == want;
    kept += want != 0;
  }
  expect(active_ok, tag + ": active map == reference (fired | in support)");
  expect(eo.fstats.backward_active == kept, tag + ": stats.backward_active");

  auto grad = [&](const FVec& a, const Vec& b, const char* name) {
    w.grad = std::max(w.grad, expect_close(a, b, kGradTol, tag + ": " + name));
  };
  if (ro.want_dx) {
    Vec dx = cs.g.dx;
    if (!p.dx_active.empty())
      for (size_t i = 0; i < dx.size(); ++i) dx[i] = p.dx_active[i] ? dx[i] : 0.0;
    grad(eo.dx, dx, "dx");
  }
  if (ro.want_dy0) grad(eo.dy0, cs.g.dy0, "dy0");
  grad(eo.dk, cs.g.dk, "dkernel");
  grad(eo.drk, cs.g.drk, "drecurrent_kernel");
  grad(eo.db, cs.g.db, "dbias");
  grad(eo.drb, cs.g.drb, "drecurrent_bias");
  grad(eo.dthr, cs.g.dthr, "dthr");
  return w;
}

double firing_rate(const RefFwd& f) {
  double s = 0;
  for (double o : f.o) s += o;
  return f.o.empty() ? 0.0 : s / double(f.o.size());
}

}  // namespace

int main() {
  // 0. ClampThresholds and DropConnect on their own.
  {
    const evnn::Context ctx = evnn::ThreadContext();
    float thr[] = {-0.5f, 0.0f, 0.3f, 1.0f, 1.7f, -1e-30f};
    egru::ClampThresholds(ctx, thr, 6);
    expect(thr[0] == 0.0f && thr[1] == 0.0f && thr[2] == 0.3f && thr[3] == 1.0f && thr[4] == 1.0f && thr[5] == 0.0f,
           "ClampThresholds clamps to [0, 1]");
    Rng rng(11);
    const size_t n = 200003;  // over the 65536-element grain: several threads
    FVec r(n), out(n);
    Bytes keep(n);
    for (size_t i = 0; i < n; ++i) r[i] = float(rng.uniform(2.0)), keep[i] = rng.u01() < 0.7;
    const float pd = 0.3f;
    egru::DropConnect(ctx, r.data(), keep.data(), pd, n, out.data());
    double e = 0;
    for (size_t i = 0; i < n; ++i) {
      const double want = keep[i] ? double(r[i]) / (1.0 - double(pd)) : 0.0;
      e = std::max(e, std::fabs(out[i] - want) / std::max(std::fabs(want), 1e-30));
      if (!keep[i] && out[i] != 0.0f) e = 1;
    }
    expect(e <= 2.5e-7, "DropConnect = R ⊙ keep / (1 − p) (rel err " + std::to_string(e) + ")");
    FVec alias = r;
    egru::DropConnect(ctx, alias.data(), keep.data(), pd, n, alias.data());
    expect(bitwise_equal(alias, out), "DropConnect in place == out of place");
  }

  // 1. The reference's BPTT against finite differences, with a smooth firing function (small
  // shapes: it is slow). Every term is on: y0, all upstream gradients and dyN, zoneout masks,
  // DropConnect (the gradient of the raw recurrent kernel).
  {
    double worst = 0;
    const egru::Dims fd_shapes[] = {{1, 1, 1, 1}, {3, 2, 3, 4}, {4, 3, 2, 5}, {3, 2, 0, 3}};
    uint64_t seed = 100;
    for (const egru::Dims& d : fd_shapes) {
      Variant v;
      v.y0 = v.dy = v.dc = v.d_o = v.dtrace = v.dyN = true;
      worst = std::max(worst, fd_check(make_problem(seed, d, v), seed * 7));
      v.zoneout = 0.4f;
      v.dropconnect = 0.3f;
      worst = std::max(worst, fd_check(make_problem(seed + 1, d, v), seed * 11));
      seed += 2;
    }
    expect_fd_agrees(worst, " (smooth firing)");
  }

  // 2. Engine vs reference: every shape × variant, for each kernel, thread count and chunking.
  const egru::Dims shapes[] = {{1, 1, 1, 1}, {3, 2, 5, 4}, {7, 3, 4, 9}, {12, 5, 17, 33}, {6, 4, 40, 70}, {4, 2, 0, 6}};
  std::vector<std::pair<std::string, Variant>> variants;
  {
    Variant v;
    variants.push_back({"plain", v});
    v = Variant();
    v.y0 = v.dc = v.d_o = v.dtrace = v.dyN = true;
    variants.push_back({"y0 + dy/dc/do/dtrace + dyN", v});
    v = Variant();
    v.zoneout = 0.3f, v.dtrace = true;
    variants.push_back({"zoneout mask", v});
    v = Variant();
    v.sparse_input = v.dx_active = v.y0 = v.dc = true;
    variants.push_back({"event input + dx_active + y0", v});
    v = Variant();
    v.dropconnect = 0.25f, v.y0 = v.dyN = v.d_o = true, v.dy = false;
    variants.push_back({"DropConnect + dyN without dy", v});
    v = Variant();
    v.clip = 1, v.y0 = v.dc = v.d_o = v.dtrace = true;
    variants.push_back({"grad_clip active", v});
    v = Variant();
    v.clip = 2, v.dropconnect = 0.4f, v.zoneout = 0.2f, v.dyN = true;
    variants.push_back({"grad_clip inactive + DropConnect + zoneout", v});
    v = Variant();
    v.y0 = v.dc = v.d_o = v.dtrace = v.dyN = v.sparse_input = v.dx_active = true;
    v.zoneout = 0.3f, v.dropconnect = 0.3f, v.clip = 1;
    variants.push_back({"everything", v});
  }
  std::vector<Case> cases;
  std::vector<std::string> case_tags;
  double plain_firing = 0;
  int plain_count = 0;
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
    for (size_t vi = 0; vi < variants.size(); ++vi) {
      cases.push_back(find_stable_case(5000 + 100 * si + 10 * vi, shapes[si], variants[vi].second));
      case_tags.push_back(dims_tag(shapes[si]) + " " + variants[vi].first);
      if (vi == 0 && shapes[si].T * shapes[si].N * shapes[si].H >= 50) {
        plain_firing += firing_rate(cases.back().f), ++plain_count;
      }
      const Case& c = cases.back();
      if (variants[vi].second.clip == 1) expect(c.clip_coef < 0.51, case_tags.back() + ": clipping is active");
      if (variants[vi].second.clip == 2) expect(c.clip_coef > 1.99, case_tags.back() + ": clipping is inactive");
    }
  }
  plain_firing /= std::max(plain_count, 1);
  std::printf("%zu stable cases; plain cases fire %.0f%% of units\n", cases.size(), 100 * plain_firing);
  expect(plain_firing > 0.1 && plain_firing < 0.9, "the random cases see both events and silence");

  for_each_config([&](evnn::GemmKernel k, int threads, int chunk_steps) {
    Worst worst;
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      RunOpts ro;
      ro.chunk_floats = size_t(chunk_steps) * c.p.d.N * 3 * c.p.d.H;
      const Worst w = compare(c, config_tag(k, threads, chunk_steps) + " " + case_tags[i], ro);
      worst.fwd = std::max(worst.fwd, w.fwd), worst.grad = std::max(worst.grad, w.grad);
    }
    std::printf("engine vs reference [%s]: max scaled err forward %.2e, gradients %.2e\n",
                config_label(k, threads, chunk_steps).c_str(), worst.fwd, worst.grad);
  });
  const std::vector<evnn::GemmKernel> kernels = gemm_kernels();

  // 3. Edge cases, evaluation mode, optional outputs, accumulation.
  for (evnn::GemmKernel k : kernels) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    Worst worst;
    auto run = [&](const Case& c, const std::string& tag, const RunOpts& ro = RunOpts()) {
      const Worst w = compare(c, kn + " " + tag, ro);
      worst.fwd = std::max(worst.fwd, w.fwd), worst.grad = std::max(worst.grad, w.grad);
    };
    {  // no unit ever fires: y, o, trace all zero, gradients still flow through c
      Variant v;
      v.thr_lo = v.thr_hi = 1.0, v.weight_scale = 0.2, v.dc = true;
      const Case c = find_stable_case(7100, {8, 3, 6, 10}, v);
      expect(firing_rate(c.f) == 0.0, kn + ": no unit fires");
      run(c, "no unit fires");
      RunOpts ro;
      ro.chunk_floats = 3 * 3 * 10;
      run(c, "no unit fires, 1-step chunks", ro);
    }
    {  // every unit fires: the all-selected (dense GEMM) path of dL/dy_{t−1}
      Variant v;
      v.all_fire = true, v.dc = v.d_o = v.y0 = true;
      const Case c = find_stable_case(7200, {6, 2, 5, 8}, v);
      expect(firing_rate(c.f) == 1.0, kn + ": every unit fires");
      run(c, "every unit fires");
    }
    {  // thresholds at 0 and 1 in one layer
      Variant v;
      v.thr_alternate = true, v.dtrace = true;
      run(find_stable_case(7300, {6, 3, 4, 12}, v), "thresholds 0 and 1");
    }
    {  // evaluation mode: zoneout mixes p·c + (1−p)·u; no backward pass is possible
      Variant v;
      v.zoneout = 0.25f, v.training = false, v.y0 = true;
      const Case c = find_stable_case(7400, {9, 3, 5, 11}, v);
      run(c, "evaluation mode, zoneout 0.25");
      Case tr = c;  // the same weights in training without zoneout differ: the mix is real
      tr.p.v.zoneout = 0.0f;
      expect(scaled_err(to_f(ref_forward(tr.p).c), c.f.c) > 1e-3, kn + ": evaluation zoneout changes c");
      const evnn::Context ctx = evnn::ThreadContext();
      const egru::Options o = options_of(c.p, 0);
      float buf[64] = {0};
      const uint8_t act[64] = {0};
      const egru::Grads g{buf, buf, buf, buf, buf};
      const float w1[64] = {0};
      const egru::Weights w{w1, w1, w1, w1, w1};
      expect_throws([&] {
        egru::Backward(ctx, {1, 1, 1, 1}, w, o, buf, nullptr, nullptr, nullptr, buf, buf, buf, act, nullptr,
                       nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, g, nullptr);
      }, "training mode", kn + ": Backward after an evaluation-mode forward throws");
    }
    {  // dx and dy0 not requested: the same parameter gradients (dy0 still enters the clip norm)
      Variant v;
      v.y0 = v.dtrace = true, v.clip = 1, v.dropconnect = 0.2f;
      const Case c = find_stable_case(7500, {5, 3, 6, 9}, v);
      RunOpts none;
      none.want_dx = none.want_dy0 = false;
      run(c, "no dx/dy0, clip active", none);
      const EngineOut a = run_engine(c.p), b = run_engine(c.p, none);
      expect(bitwise_equal(a.dk, b.dk) && bitwise_equal(a.drk, b.drk) && bitwise_equal(a.db, b.db) &&
                 bitwise_equal(a.drb, b.drb) && bitwise_equal(a.dthr, b.dthr),
             kn + ": parameter gradients do not depend on whether dx/dy0 are wanted");
    }
    {  // a bigger case in one chunk and in 3-step chunks
      Variant v;
      v.y0 = v.dc = v.dtrace = v.dyN = true, v.zoneout = 0.1f, v.dropconnect = 0.1f;
      const Case c = find_stable_case(7600, {20, 8, 48, 64}, v);
      run(c, dims_tag(c.p.d));
      RunOpts ro;
      ro.chunk_floats = size_t(3) * 8 * 3 * 64;
      run(c, dims_tag(c.p.d) + " 3-step chunks", ro);
    }
    std::printf("engine vs reference [%s, edge cases and T=20 N=8 C=48 H=64]: max scaled err forward %.2e, "
                "gradients %.2e\n", kn.c_str(), worst.fwd, worst.grad);
    {
      // Accumulation: gradients preset to R end as R + g; two Backward calls give 2g, each call
      // clipped on its own gradients (2-step chunks, so every chunk must add); dx, dy0 are written.
      Variant v;
      v.y0 = v.dc = v.d_o = v.dtrace = v.dyN = true, v.zoneout = 0.3f, v.dropconnect = 0.25f, v.clip = 1;
      const Case c = find_stable_case(7700, {6, 3, 7, 10}, v);
      Rng rng(7701);
      const FVec R = to_f(random_vec(rng, 1009, 2.0));  // a prime length: entries differ per tensor
      const EngineOut once = run_engine(c.p);
      RunOpts pre;
      pre.preset = &R;
      const EngineOut added = run_engine(c.p, pre);
      RunOpts once_chunked;
      once_chunked.chunk_floats = size_t(2) * 3 * 3 * 10;
      const EngineOut once_c = run_engine(c.p, once_chunked);
      RunOpts twice = once_chunked;
      twice.backward_calls = 2;
      const EngineOut doubled = run_engine(c.p, twice);
      // this call's g is formed apart and added once: R + g rounds once, g + g is exact
      const double e_add = std::max({scaled_err(added.dk, shifted(once.dk, R, 0)),
                                     scaled_err(added.drk, shifted(once.drk, R, 1)),
                                     scaled_err(added.db, shifted(once.db, R, 2)),
                                     scaled_err(added.drb, shifted(once.drb, R, 3)),
                                     scaled_err(added.dthr, shifted(once.dthr, R, 4))});
      const double e_dbl = std::max({scaled_err(doubled.dk, times2(once_c.dk)), scaled_err(doubled.drk, times2(once_c.drk)),
                                     scaled_err(doubled.db, times2(once_c.db)), scaled_err(doubled.drb, times2(once_c.drb)),
                                     scaled_err(doubled.dthr, times2(once_c.dthr))});
      expect(bitwise_equal(doubled.dx, once_c.dx) && bitwise_equal(doubled.dy0, once_c.dy0) &&
                 bitwise_equal(added.dx, once.dx) && bitwise_equal(added.dy0, once.dy0),
             kn + ": dx, dy0 are written, not accumulated");
      // and the single call is the clipped reference
      compare(c, kn + " accumulation case");
      expect_accumulates(kn, e_add, e_dbl);
    }
    {  // repeated calls are bitwise identical; null y0 == zero y0
      const Case& c = cases[3 * variants.size() + 7];  // T=12 N=5 C=17 H=33, everything on
      const EngineOut a = run_engine(c.p), b = run_engine(c.p);
      expect(bitwise_equal(a.y, b.y) && bitwise_equal(a.c, b.c) && bitwise_equal(a.dx, b.dx) &&
                 bitwise_equal(a.dk, b.dk) && bitwise_equal(a.drk, b.drk) && bitwise_equal(a.dthr, b.dthr),
             kn + ": repeated calls are bitwise identical");
      Problem z = cases[2 * variants.size()].p;  // T=7 N=3 C=4 H=9, plain: no y0
      Problem zz = z;
      zz.v.y0 = true;
      std::fill(zz.y0.begin(), zz.y0.end(), 0.0);
      const EngineOut za = run_engine(z), zb = run_engine(zz);
      expect(bitwise_equal(za.y, zb.y) && bitwise_equal(za.c, zb.c) && bitwise_equal(za.dy0, zb.dy0) &&
                 bitwise_equal(za.dx, zb.dx) && bitwise_equal(za.dk, zb.dk) && bitwise_equal(za.drk, zb.drk) &&
                 bitwise_equal(za.dthr, zb.dthr),
             kn + ": null y0 == zero y0");
    }
  }

  // 4. Thread-count independence (builtin GEMM): 1 and 2 threads bitwise equal with N·H = 9003
  // above the pointwise grain (4096), so 2 threads split each step and the boundary falls inside
  // a row (H = 3001); every option on, dense input in one chunk and event input in 1-step chunks.
  {
    evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
    const egru::Dims d{3, 3, 5, 3001};
    for (int config = 0; config < 2; ++config) {
      Variant v;
      v.y0 = v.dc = v.d_o = v.dtrace = v.dyN = true;
      v.zoneout = 0.2f, v.dropconnect = 0.3f;
      v.sparse_input = v.dx_active = config == 1;
      Problem p = make_problem(910 + config, d, v);
      p.grad_clip = 1e-3f;  // active at these sizes (checked below)
      RunOpts ro;
      ro.chunk_floats = config == 1 ? size_t(1) * 3 * 3 * 3001 : 0;
      const auto [a, b] = on_1_and_2_threads([&] { return run_engine(p, ro); });
      const bool same = bitwise_equal(a.y, b.y) && bitwise_equal(a.c, b.c) && bitwise_equal(a.o, b.o) &&
                        bitwise_equal(a.tr, b.tr) && bitwise_equal(a.cache, b.cache) &&
                        bitwise_equal(a.active, b.active) && bitwise_equal(a.dx, b.dx) &&
                        bitwise_equal(a.dy0, b.dy0) && bitwise_equal(a.dk, b.dk) && bitwise_equal(a.drk, b.drk) &&
                        bitwise_equal(a.db, b.db) && bitwise_equal(a.drb, b.drb) && bitwise_equal(a.dthr, b.dthr);
      double kept = 0;
      for (uint8_t m : a.active) kept += m != 0;
      double fired = 0;
      for (float e : a.o) fired += e;
      const double rate = fired / double(a.o.size()), active = kept / double(a.active.size());
      const std::string what = std::string(config ? "event input, 1-step chunks" : "dense input, one chunk");
      expect(rate > 0.05 && rate < 0.95 && active < 0.95, "threads case " + what + ": a mix of events (" +
                                                              std::to_string(rate) + " fire, " +
                                                              std::to_string(active) + " backward-active)");
      double gn = 0;
      for (const FVec* t : {&a.dy0, &a.dk, &a.drk, &a.db, &a.drb, &a.dthr})
        for (float e : *t) gn += double(e) * e;
      expect(std::fabs(std::sqrt(gn) - 1e-3) < 1e-6, "threads case " + what + ": clipping active (norm " +
                                                          std::to_string(std::sqrt(gn)) + ")");
      expect(same, "1 vs 2 threads bitwise equal, " + dims_tag(d) + " (" + what + ")");
      std::printf("threads 1 vs 2 [builtin, %s, %s; %.0f%% fire, %.0f%% backward-active]: %s\n", dims_tag(d).c_str(),
                  what.c_str(), 100 * rate, 100 * active, same ? "bitwise equal" : "DIFFER");
    }
  }

  // 5. T = 0: parameter gradients untouched; dy0 = 0 (nothing reaches it), dyN ignored.
  {
    Variant v;
    v.y0 = v.dyN = true;
    Problem p = make_problem(920, {0, 3, 4, 5}, v);
    Rng rng(921);
    const FVec R = to_f(random_vec(rng, 97, 1.0));
    RunOpts ro;
    ro.preset = &R;
    const EngineOut o = run_engine(p, ro);
    bool ok = equals_preset(o.dk, R, 0) && equals_preset(o.drk, R, 1) && equals_preset(o.dthr, R, 4);
    for (float e : o.dy0) ok = ok && e == 0.0f;
    expect(ok, "T=0: parameter gradients unchanged, dy0 = 0");
  }

  return summary();
}
