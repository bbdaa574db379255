// Standalone check of the CPU DeltaGRU (no Node): a float64 reference that runs the delta
// memories literally (M += W Δx + U Δh), its BPTT (masks held constant) verified by central
// finite differences with the threshold masks fixed, then the float32 engine against it, with
// Θ = 0 (where the layer is the GRU: also compared with evnn::gru) and Θ > 0 (ties |Δ| = Θ on
// an exact grid must be kept), for every GEMM kernel, thread count and time-chunk size; the
// zero counts and MACs, gradient accumulation (+=), and 1 vs 2 threads bitwise.
// Exit status 0 only when every check passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/delta_gru.h"
#include "evnn/gemm.h"
#include "evnn/gru.h"
#include "evnn/parallel.h"

using namespace evnn::check;

namespace {

struct Problem {
  evnn::delta_gru::Dims d;
  Vec w_ih, w_hh, b_ih, b_hh, x, dy;
  double theta_x = 0, theta_h = 0;
};

// x on the grid k/16 in [-1, 1] (exact in float, so Δx and the ties |Δx| = Θx = 0.25 are exact),
// and about a third of the entries repeat the previous step's value (Δx = 0 even at Θ = 0).
Problem make_problem(int T, int N, int C, int H, double tx, double th, uint64_t seed, double wscale = 1.0) {
  Rng rng(seed);
  Problem p;
  p.d = {T, N, C, H};
  const double k = wscale / std::sqrt(double(std::max(H, 1)));
  p.w_ih = random_vec(rng, size_t(3) * H * C, k);
  p.w_hh = random_vec(rng, size_t(3) * H * H, k);
  p.b_ih = random_vec(rng, size_t(3) * H, k);
  p.b_hh = random_vec(rng, size_t(3) * H, k);
  p.x.assign(size_t(T) * N * C, 0);
  for (size_t i = 0; i < p.x.size(); ++i) {
    const size_t prev = i >= size_t(N) * C ? i - size_t(N) * C : i;
    if (prev != i && rng.u01() < 0.33) p.x[i] = p.x[prev];
    else p.x[i] = double(int64_t(rng.next() % 33) - 16) / 16.0;
  }
  p.dy = random_vec(rng, size_t(T) * N * H, 1.0);
  p.theta_x = tx, p.theta_h = th;
  return p;
}

// ---- float64 reference --------------------------------------------------------------------

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct RefOut {
  Vec y, r, z, n, hn;       // [T,N,H]
  Vec xhat, mx, hhat, mh;   // [T,N,C] x2, [T,N,H] x2 (after step t's update; masks 0/1)
  int64_t dx_zeros = 0, dh_zeros = 0, nz = 0;
};

// With `masks` (mx, mh of an earlier run) the threshold decisions are those, held fixed (for
// finite differences, and to follow the float32 engine's decisions); else from Θ.
RefOut ref_forward(const Problem& p, const RefOut* masks = nullptr) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H;
  RefOut o;
  const size_t TNH = size_t(T) * N * H, TNC = size_t(T) * N * C;
  o.y.assign(TNH, 0);
  o.r = o.z = o.n = o.hn = o.hhat = o.mh = o.y;
  o.xhat.assign(TNC, 0);
  o.mx = o.xhat;
  Vec xh(size_t(N) * C, 0.0), hh(size_t(N) * H, 0.0), M(size_t(N) * 4 * H);
  for (int b = 0; b < N; ++b)
    for (int j = 0; j < H; ++j) {
      double* m = &M[size_t(b) * 4 * H];
      m[j] = p.b_ih[j] + p.b_hh[j];
      m[H + j] = p.b_ih[H + j] + p.b_hh[H + j];
      m[2 * H + j] = p.b_ih[2 * H + j];
      m[3 * H + j] = p.b_hh[2 * H + j];
    }
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < N; ++b) {
      Vec dxv(C), dhv(H);
      for (int c = 0; c < C; ++c) {
        const size_t i = (size_t(t) * N + b) * C + c;
        const double dl = p.x[i] - xh[size_t(b) * C + c];
        const bool keep = masks ? masks->mx[i] != 0 : std::fabs(dl) >= p.theta_x;
        dxv[c] = keep ? dl : 0.0;
        if (keep) xh[size_t(b) * C + c] = p.x[i];
        o.mx[i] = keep, o.xhat[i] = xh[size_t(b) * C + c];
        if (dxv[c] == 0.0) ++o.dx_zeros; else ++o.nz;
      }
      for (int k = 0; k < H; ++k) {
        const size_t i = (size_t(t) * N + b) * H + k;
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : 0.0;
        const double dl = hp - hh[size_t(b) * H + k];
        const bool keep = masks ? masks->mh[i] != 0 : std::fabs(dl) >= p.theta_h;
        dhv[k] = keep ? dl : 0.0;
        if (keep) hh[size_t(b) * H + k] = hp;
        o.mh[i] = keep, o.hhat[i] = hh[size_t(b) * H + k];
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
      for (int c = 0; c < C; ++c) {  // x̂_t = m x_t + (1 − m) x̂_{t−1}
        const size_t i = (size_t(t) * N + b) * C + c;
        double& a = acc_x[size_t(b) * C + c];
        if (o.mx[i] != 0) g.dx[i] = a, a = 0;
      }
      for (int j = 0; j < H; ++j) {  // ĥ_t = m h_{t−1} + (1 − m) ĥ_{t−1}
        const size_t i = (size_t(t) * N + b) * H + j;
        double& a = acc_h[size_t(b) * H + j];
        if (o.mh[i] != 0) dprev[size_t(b) * H + j] += a, a = 0;
      }
    }
    dh = dprev;
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

struct EngineOut {
  FVec y, y_infer, cache, dx, dw_ih, dw_hh, db_ih, db_hh;
  evnn::delta_gru::Stats st, st_infer, st_back;
};

struct RunOpts {
  size_t chunk_floats = 0;
  bool want_dx = true;
  int backward_calls = 1;
  const FVec* preset = nullptr;
};

evnn::delta_gru::Options options_of(const Problem& p, size_t chunk) {
  evnn::delta_gru::Options o;
  o.theta_x = float(p.theta_x), o.theta_h = float(p.theta_h), o.chunk_floats = chunk;
  return o;
}

EngineOut run_engine(const Problem& p, const RunOpts& ro = RunOpts()) {
  const auto& d = p.d;
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), dy = to_f(p.dy);
  const evnn::delta_gru::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  const evnn::delta_gru::Options opt = options_of(p, ro.chunk_floats);
  EngineOut o;
  const size_t ysz = size_t(d.T) * d.N * d.H, G = size_t(3) * d.H;
  o.y.assign(ysz, NAN);
  o.y_infer.assign(ysz, NAN);
  o.cache.assign(evnn::delta_gru::CacheSize(d), NAN);
  evnn::delta_gru::Forward(ctx, d, w, opt, x.data(), o.y.data(), o.cache.data(), &o.st);
  evnn::delta_gru::Forward(ctx, d, w, opt, x.data(), o.y_infer.data(), nullptr, &o.st_infer);
  o.dx.assign(size_t(d.T) * d.N * d.C, NAN);
  preset_grad(o.dw_ih, G * d.C, 0, ro.preset);
  preset_grad(o.dw_hh, G * d.H, 1, ro.preset);
  preset_grad(o.db_ih, G, 2, ro.preset);
  preset_grad(o.db_hh, G, 3, ro.preset);
  const evnn::delta_gru::Grads g{o.dw_ih.data(), o.dw_hh.data(), o.db_ih.data(), o.db_hh.data()};
  for (int call = 0; call < ro.backward_calls; ++call)
    evnn::delta_gru::Backward(ctx, d, w, opt, x.data(), o.y.data(), o.cache.data(), dy.data(),
                              ro.want_dx ? o.dx.data() : nullptr, g, &o.st_back);
  return o;
}

// The engine's masks as a RefOut (cache regions mx, mh).
RefOut engine_masks(const Problem& p, const FVec& cache) {
  const size_t TNC = size_t(p.d.T) * p.d.N * p.d.C, TNH = size_t(p.d.T) * p.d.N * p.d.H;
  RefOut m;
  m.mx.assign(cache.begin() + TNC, cache.begin() + 2 * TNC);
  m.mh.assign(cache.begin() + 2 * TNC + TNH, cache.begin() + 2 * TNC + 2 * TNH);
  return m;
}

constexpr double kForwardTol = 5e-6;
constexpr double kGradTol = 2e-5;

double compare(const Problem& p, const std::string& tag, const RunOpts& run = RunOpts()) {
  const EngineOut eo = run_engine(p, run);
  const RefOut own = ref_forward(p);
  const RefOut masks = engine_masks(p, eo.cache);
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
  // Statistics: counts of exact zeros (the reference under the engine's masks), MACs.
  const auto& d = p.d;
  const int64_t tnc = int64_t(d.T) * d.N * d.C, tnh = int64_t(d.T) * d.N * d.H;
  const bool stats_ok = eo.st.dx_zeros == ro.dx_zeros && eo.st.dx_total == tnc &&
                        eo.st.dh_zeros == ro.dh_zeros && eo.st.dh_total == tnh &&
                        eo.st.macs == double(ro.nz) * 3 * d.H &&
                        eo.st.macs_dense == double(tnc + tnh) * 3 * d.H &&
                        std::fabs(eo.st.zero_both - double(ro.dx_zeros + ro.dh_zeros) / double(tnc + tnh)) < 1e-15 &&
                        eo.st.dx_zeros == eo.st_infer.dx_zeros && eo.st.dh_zeros == eo.st_infer.dh_zeros;
  expect(stats_ok, tag + ": zero counts and MACs (engine dx0=" + std::to_string(eo.st.dx_zeros) + " dh0=" +
                       std::to_string(eo.st.dh_zeros) + ", ref " + std::to_string(ro.dx_zeros) + "/" +
                       std::to_string(ro.dh_zeros) + ")");
  return worst;
}

// Θ = 0: the engine's DeltaGRU against the engine's GRU (h0 = 0).
double compare_with_gru(const Problem& p, const std::string& tag) {
  const auto& d = p.d;
  const EngineOut eo = run_engine(p);
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
  double e = expect_close(eo.y, Vec(y.begin(), y.end()), kForwardTol, tag + ": y vs gru");
  e = std::max(e, expect_close(eo.dx, Vec(dx.begin(), dx.end()), kGradTol, tag + ": dx vs gru"));
  e = std::max(e, expect_close(eo.dw_ih, Vec(dw_ih.begin(), dw_ih.end()), kGradTol, tag + ": dw_ih vs gru"));
  e = std::max(e, expect_close(eo.dw_hh, Vec(dw_hh.begin(), dw_hh.end()), kGradTol, tag + ": dw_hh vs gru"));
  e = std::max(e, expect_close(eo.db_ih, Vec(db_ih.begin(), db_ih.end()), kGradTol, tag + ": db_ih vs gru"));
  e = std::max(e, expect_close(eo.db_hh, Vec(db_hh.begin(), db_hh.end()), kGradTol, tag + ": db_hh vs gru"));
  return e;
}

}  // namespace

int main() {
  struct Shape {
    int T, N, C, H;
  };
  const Shape shapes[] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {4, 1, 3, 5}, {5, 2, 7, 3},
                          {7, 4, 9, 11}, {3, 5, 17, 33}, {6, 3, 1, 16}, {9, 6, 24, 40}};
  const double thetas[][2] = {{0.0, 0.0}, {0.25, 0.0}, {0.0, 0.05}, {0.25, 0.1}, {0.5, 0.3}};

  // 1. The reference's gradient against finite differences with the masks held.
  {
    double worst = 0;
    uint64_t seed = 100;
    for (const Shape& s : shapes) {
      if (s.H > 16 || s.T > 7) continue;
      for (const auto& th : thetas) worst = std::max(worst, fd_check(make_problem(s.T, s.N, s.C, s.H, th[0], th[1], seed), seed * 7)), ++seed;
    }
    worst = std::max(worst, fd_check(make_problem(6, 2, 3, 5, 0.25, 0.1, 77, 6.0), 78));  // saturated
    expect_fd_agrees(worst, " (masks held)");
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
    for (int t = 1; t < p1.d.T; ++t)
      for (size_t i = 0; i < size_t(p1.d.N) * p1.d.C; ++i) {
        const size_t at = size_t(t) * p1.d.N * p1.d.C + i;
        if (std::fabs(p1.x[at] - b.xhat[at - size_t(p1.d.N) * p1.d.C]) == 0.25) ++ties, kept += b.mx[at] == 1;
      }
    expect(ties > 0 && kept == ties, "reference: |Δx| = Θx is kept (" + std::to_string(kept) + "/" + std::to_string(ties) + ")");
  }

  // 2. Engine vs reference for every kernel × threads × chunking, each Θ.
  for_each_config([&](evnn::GemmKernel k, int threads, int chunk_steps) {
    double worst = 0;
    uint64_t seed = 1;
    for (const Shape& s : shapes)
      for (const auto& th : thetas) {
        RunOpts ro;
        ro.chunk_floats = size_t(chunk_steps) * s.N * std::max(3 * s.H, s.C);
        const std::string tag = config_tag(k, threads, chunk_steps) + " T=" + std::to_string(s.T) + " N=" +
                                std::to_string(s.N) + " C=" + std::to_string(s.C) + " H=" + std::to_string(s.H) +
                                " thx=" + std::to_string(th[0]) + " thh=" + std::to_string(th[1]);
        worst = std::max(worst, compare(make_problem(s.T, s.N, s.C, s.H, th[0], th[1], seed++), tag, ro));
      }
    std::printf("engine vs reference [%s]: max scaled err %.2e\n", config_label(k, threads, chunk_steps).c_str(), worst);
  });

  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    // 3. Θ = 0 is the GRU.
    {
      double e = 0;
      uint64_t seed = 300;
      for (const Shape& s : shapes) e = std::max(e, compare_with_gru(make_problem(s.T, s.N, s.C, s.H, 0, 0, seed++), kn + " Θ=0 vs gru T=" + std::to_string(s.T) + " H=" + std::to_string(s.H)));
      e = std::max(e, compare_with_gru(make_problem(20, 16, 96, 128, 0, 0, 399), kn + " Θ=0 vs gru T=20 N=16 C=96 H=128"));
      std::printf("Θ=0 DeltaGRU vs GRU engine [%s]: max scaled err %.2e\n", kn.c_str(), e);
    }
    // Bigger shape with thresholds, no dx.
    {
      const Problem p = make_problem(20, 16, 96, 128, 0.25, 0.05, 902);
      double e = compare(p, kn + " T=20 N=16 C=96 H=128");
      RunOpts ro;
      ro.chunk_floats = size_t(3) * 16 * 3 * 128;
      ro.want_dx = false;
      e = std::max(e, compare(p, kn + " 3-step chunks no dx T=20 N=16 C=96 H=128", ro));
      const EngineOut eo = run_engine(p);
      std::printf("engine vs reference [%s, T=20 N=16 C=96 H=128 Θ=(0.25,0.05)]: max scaled err %.2e; "
                  "zero Δx %.3f, Δh %.3f, both %.3f, MACs %.3g of %.3g\n",
                  kn.c_str(), e, eo.st.zero_dx, eo.st.zero_dh, eo.st.zero_both, eo.st.macs, eo.st.macs_dense);
    }
    // 4. Accumulation.
    {
      const Problem p = make_problem(6, 3, 7, 10, 0.25, 0.1, 907);
      Rng rng(908);
      const FVec R = to_f(random_vec(rng, 1009, 2.0));
      const EngineOut once = run_engine(p);
      RunOpts pre;
      pre.preset = &R;
      const EngineOut added = run_engine(p, pre);
      RunOpts twice;
      twice.chunk_floats = size_t(2) * 3 * 3 * 10;
      const EngineOut once_c = run_engine(p, [&] { RunOpts r; r.chunk_floats = twice.chunk_floats; return r; }());
      twice.backward_calls = 2;
      const EngineOut doubled = run_engine(p, twice);
      const double e_add = std::max({scaled_err(added.dw_ih, shifted(once.dw_ih, R, 0)),
                                     scaled_err(added.dw_hh, shifted(once.dw_hh, R, 1)),
                                     scaled_err(added.db_ih, shifted(once.db_ih, R, 2)),
                                     scaled_err(added.db_hh, shifted(once.db_hh, R, 3))});
      const double e_dbl = std::max({scaled_err(doubled.dw_ih, times2(once_c.dw_ih)),
                                     scaled_err(doubled.dw_hh, times2(once_c.dw_hh)),
                                     scaled_err(doubled.db_ih, times2(once_c.db_ih)),
                                     scaled_err(doubled.db_hh, times2(once_c.db_hh))});
      expect(bitwise_equal(doubled.dx, once_c.dx) && bitwise_equal(added.dx, once.dx), kn + ": dx is written, not accumulated");
      expect_accumulates(kn, e_add, e_dbl);
    }
  }

  // 5. 1 vs 2 threads bitwise (builtin): N·3H and N·H above the grains, boundaries mid-row.
  {
    evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
    for (const auto& th : {std::pair<double, double>{0, 0}, {0.25, 0.02}}) {
      const Problem p = make_problem(3, 3, 5, 3001, th.first, th.second, 910);
      for (size_t chunk : {size_t(0), size_t(1) * 3 * 3 * 3001}) {
        RunOpts ro;
        ro.chunk_floats = chunk;
        const auto [a, b] = on_1_and_2_threads([&] { return run_engine(p, ro); });
        const bool same = bitwise_equal(a.y, b.y) && bitwise_equal(a.y_infer, b.y_infer) && bitwise_equal(a.cache, b.cache) &&
                          bitwise_equal(a.dx, b.dx) && bitwise_equal(a.dw_ih, b.dw_ih) && bitwise_equal(a.dw_hh, b.dw_hh) &&
                          bitwise_equal(a.db_ih, b.db_ih) && bitwise_equal(a.db_hh, b.db_hh) &&
                          a.st.dh_zeros == b.st.dh_zeros;
        const std::string what = std::string("threads 1 vs 2 [T=3 N=3 C=5 H=3001 Θ=(") + std::to_string(th.first) + "," +
                                 std::to_string(th.second) + "), " + (chunk ? "1-step chunks" : "one chunk") + "]";
        expect(same, what + " bitwise equal");
        std::printf("%s: %s\n", what.c_str(), same ? "bitwise equal" : "DIFFER");
      }
    }
  }

  // 6. T = 0: gradients untouched.
  {
    const Problem p = make_problem(0, 3, 4, 5, 0.1, 0.1, 905);
    Rng rng(906);
    const FVec R = to_f(random_vec(rng, 97, 1.0));
    RunOpts ro;
    ro.preset = &R;
    const EngineOut o = run_engine(p, ro);
    expect(equals_preset(o.dw_ih, R, 0) && equals_preset(o.dw_hh, R, 1) && equals_preset(o.db_ih, R, 2) &&
               equals_preset(o.db_hh, R, 3),
           "T=0: parameter gradients unchanged");
  }
  return summary();
}
