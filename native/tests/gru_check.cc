// Standalone check of the CPU GRU (no Node): a float64 reference written from the equations,
// itself verified by central finite differences, then the float32 engine compared against it on
// small random shapes (T = 1, N = 1, odd C/H, saturated gates), for every GEMM kernel compiled
// in, several thread counts and time-chunk sizes (Options::chunk_floats); plus gradient
// accumulation (+=), thread-count independence (bitwise, thread boundaries mid-row),
// determinism, T = 0 and the activation helpers.
// Exit status 0 only when every check passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/gemm.h"
#include "evnn/gru.h"
#include "evnn/parallel.h"
#include "vec_math.h"

using namespace evnn::check;

namespace {

struct Problem {
  evnn::gru::Dims d;
  Vec w_ih, w_hh, b_ih, b_hh, x, h0, dy, dhT;  // float-representable values
  bool has_h0, has_dhT;
};

Problem make_problem(int T, int N, int C, int H, bool has_h0, bool has_dhT, uint64_t seed,
                     double x_scale = 1.0) {
  Rng rng(seed);
  Problem p;
  p.d = {T, N, C, H};
  const double k = 1.0 / std::sqrt(double(H));  // PyTorch's init range
  p.w_ih = random_vec(rng, size_t(3) * H * C, k);
  p.w_hh = random_vec(rng, size_t(3) * H * H, k);
  p.b_ih = random_vec(rng, size_t(3) * H, k);
  p.b_hh = random_vec(rng, size_t(3) * H, k);
  p.x = random_vec(rng, size_t(T) * N * C, x_scale);
  p.h0 = random_vec(rng, size_t(N) * H, 0.8);
  p.dy = random_vec(rng, size_t(T) * N * H, 1.0);
  p.dhT = random_vec(rng, size_t(N) * H, 1.0);
  p.has_h0 = has_h0;
  p.has_dhT = has_dhT;
  return p;
}

// ---- float64 reference, straight from the equations -------------------------------------

struct RefOut {
  Vec y, r, z, n, hn;  // [T,N,H] each
};

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

RefOut ref_forward(const Problem& p) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H;
  RefOut o;
  const size_t sz = size_t(T) * N * H;
  o.y.assign(sz, 0);
  o.r = o.z = o.n = o.hn = o.y;
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < N; ++b)
      for (int j = 0; j < H; ++j) {
        double a[3], u[3];
        for (int gate = 0; gate < 3; ++gate) {
          const int row = gate * H + j;
          a[gate] = p.b_ih[row];
          for (int c = 0; c < C; ++c) a[gate] += p.w_ih[size_t(row) * C + c] * p.x[(size_t(t) * N + b) * C + c];
          u[gate] = p.b_hh[row];
          for (int k = 0; k < H; ++k) {
            const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : (p.has_h0 ? p.h0[size_t(b) * H + k] : 0.0);
            u[gate] += p.w_hh[size_t(row) * H + k] * hp;
          }
        }
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + j] : (p.has_h0 ? p.h0[size_t(b) * H + j] : 0.0);
        const double r = sigm(a[0] + u[0]), z = sigm(a[1] + u[1]);
        const double n = std::tanh(a[2] + r * u[2]);
        const size_t i = (size_t(t) * N + b) * H + j;
        o.y[i] = (1 - z) * n + z * hp;
        o.r[i] = r, o.z[i] = z, o.n[i] = n, o.hn[i] = u[2];
      }
  return o;
}

struct RefGrads {
  Vec dx, dh0, dw_ih, dw_hh, db_ih, db_hh;
};

RefGrads ref_backward(const Problem& p, const RefOut& o) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 3 * H;
  RefGrads g;
  g.dx.assign(size_t(T) * N * C, 0);
  g.dw_ih.assign(size_t(G) * C, 0);
  g.dw_hh.assign(size_t(G) * H, 0);
  g.db_ih.assign(G, 0);
  g.db_hh.assign(G, 0);
  Vec dh(size_t(N) * H, 0.0);
  if (p.has_dhT) dh = p.dhT;
  for (int t = T - 1; t >= 0; --t) {
    Vec dprev(size_t(N) * H, 0.0);
    for (int b = 0; b < N; ++b) {
      Vec dax(G), dah(G);
      for (int j = 0; j < H; ++j) {
        const size_t i = (size_t(t) * N + b) * H + j;
        const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + j] : (p.has_h0 ? p.h0[size_t(b) * H + j] : 0.0);
        const double gsum = dh[size_t(b) * H + j] + p.dy[i];
        const double r = o.r[i], z = o.z[i], n = o.n[i], hn = o.hn[i];
        const double dn = gsum * (1 - z), dz = gsum * (hp - n);
        const double dan = dn * (1 - n * n);
        const double dr = dan * hn;
        dax[j] = dr * r * (1 - r), dah[j] = dax[j];
        dax[H + j] = dz * z * (1 - z), dah[H + j] = dax[H + j];
        dax[2 * H + j] = dan, dah[2 * H + j] = dan * r;
        dprev[size_t(b) * H + j] += gsum * z;
      }
      for (int k = 0; k < G; ++k) {
        g.db_ih[k] += dax[k];
        g.db_hh[k] += dah[k];
        for (int c = 0; c < C; ++c) {
          g.dw_ih[size_t(k) * C + c] += dax[k] * p.x[(size_t(t) * N + b) * C + c];
          g.dx[(size_t(t) * N + b) * C + c] += dax[k] * p.w_ih[size_t(k) * C + c];
        }
        for (int j = 0; j < H; ++j) {
          const double hp = t > 0 ? o.y[(size_t(t - 1) * N + b) * H + j] : (p.has_h0 ? p.h0[size_t(b) * H + j] : 0.0);
          g.dw_hh[size_t(k) * H + j] += dah[k] * hp;
          dprev[size_t(b) * H + j] += dah[k] * p.w_hh[size_t(k) * H + j];
        }
      }
    }
    dh = dprev;
  }
  g.dh0 = dh;
  return g;
}

// L = Σ dy ⊙ y + Σ dhT ⊙ h_T: the loss whose gradient Backward computes.
double ref_loss(const Problem& p) {
  const RefOut o = ref_forward(p);
  double L = 0;
  for (size_t i = 0; i < o.y.size(); ++i) L += p.dy[i] * o.y[i];
  if (p.has_dhT && p.d.T > 0) {
    const size_t last = size_t(p.d.T - 1) * p.d.N * p.d.H;
    for (size_t i = 0; i < p.dhT.size(); ++i) L += p.dhT[i] * o.y[last + i];
  }
  return L;
}

// Central differences of the reference loss against the reference gradient, on up to 40
// entries of each tensor. Returns the largest relative error.
double fd_check(Problem p, uint64_t seed) {
  const RefGrads g = ref_backward(p, ref_forward(p));
  auto probe = fd_probe(seed, [&] { return ref_loss(p); });
  probe(p.w_ih, g.dw_ih, "w_ih");
  probe(p.w_hh, g.dw_hh, "w_hh");
  probe(p.b_ih, g.db_ih, "b_ih");
  probe(p.b_hh, g.db_hh, "b_hh");
  probe(p.x, g.dx, "x");
  if (p.has_h0) probe(p.h0, g.dh0, "h0");
  return probe.worst;
}

// ---- the engine under test ---------------------------------------------------------------

struct EngineOut {
  FVec y, cache, y_infer, dx, dh0, dw_ih, dw_hh, db_ih, db_hh;
};

struct RunOpts {
  size_t chunk_floats = 0;  // Options::chunk_floats (0: the default budget)
  bool want_dx = true, want_dh0 = true;
  int backward_calls = 1;
  const FVec* preset = nullptr;  // initial value of every parameter-gradient entry (else 0)
};

EngineOut run_engine(const Problem& p, const RunOpts& ro = RunOpts()) {
  const auto& d = p.d;
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), h0 = to_f(p.h0), dy = to_f(p.dy), dhT = to_f(p.dhT);
  const evnn::gru::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  evnn::gru::Options opt;
  opt.chunk_floats = ro.chunk_floats;
  EngineOut o;
  const size_t ysz = size_t(d.T) * d.N * d.H;
  o.y.assign(ysz, NAN);
  o.y_infer.assign(ysz, NAN);
  o.cache.assign(evnn::gru::CacheSize(d), NAN);
  const float* h0p = p.has_h0 ? h0.data() : nullptr;
  evnn::gru::Forward(ctx, d, w, opt, x.data(), h0p, o.y.data(), o.cache.data());
  evnn::gru::Forward(ctx, d, w, opt, x.data(), h0p, o.y_infer.data(), nullptr);
  o.dx.assign(size_t(d.T) * d.N * d.C, NAN);  // NaN-filled: Backward must write every entry
  o.dh0.assign(size_t(d.N) * d.H, NAN);
  // The parameter gradients are accumulated into: start from zeros or from the preset.
  const size_t G = size_t(3) * d.H;
  preset_grad(o.dw_ih, G * d.C, 0, ro.preset);
  preset_grad(o.dw_hh, G * d.H, 1, ro.preset);
  preset_grad(o.db_ih, G, 2, ro.preset);
  preset_grad(o.db_hh, G, 3, ro.preset);
  const evnn::gru::Grads g{o.dw_ih.data(), o.dw_hh.data(), o.db_ih.data(), o.db_hh.data()};
  for (int call = 0; call < ro.backward_calls; ++call) {
    evnn::gru::Backward(ctx, d, w, opt, x.data(), h0p, o.y.data(), o.cache.data(), dy.data(),
                        p.has_dhT ? dhT.data() : nullptr, ro.want_dx ? o.dx.data() : nullptr,
                        ro.want_dh0 ? o.dh0.data() : nullptr, g);
  }
  return o;
}

// float32 engine vs float64 reference: forward ~ a few ulp per step, gradients sum many terms.
constexpr double kForwardTol = 2e-6;
constexpr double kGradTol = 5e-6;

double compare(const Problem& p, const std::string& tag, const RunOpts& run = RunOpts()) {
  const RefOut ro = ref_forward(p);
  const RefGrads rg = ref_backward(p, ro);
  const EngineOut eo = run_engine(p, run);
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
  if (run.want_dh0) grad(eo.dh0, rg.dh0, "dh0");
  return worst;
}

// ---- activation helpers ------------------------------------------------------------------

void check_vec_math() {
  double e_exp = 0, e_sig = 0, e_tanh_rel = 0, e_tanh_abs = 0;
  for (int i = -200000; i <= 200000; ++i) {
    const float x = float(i) * 1e-3f;  // [-200, 200]
    if (x > -87.0f && x < 87.0f) {
      const double ref = std::exp(double(x));
      e_exp = std::max(e_exp, std::fabs(evnn::vmath::exp_clamped(x) - ref) / ref);
    }
    const double s = 1.0 / (1.0 + std::exp(-double(x)));
    const float sv = evnn::vmath::sigmoid(x);
    if (s > 1e-37) e_sig = std::max(e_sig, std::fabs(sv - s) / s);
    const double th = std::tanh(double(x));
    const float tv = evnn::vmath::tanh(x);
    e_tanh_abs = std::max(e_tanh_abs, std::fabs(tv - th));
    if (x != 0.0f) e_tanh_rel = std::max(e_tanh_rel, std::fabs(tv - th) / std::fabs(th));
    if (!std::isfinite(sv) || !std::isfinite(tv)) expect(false, "vec_math finite at " + std::to_string(x));
  }
  for (float x : {1e-30f, -1e-20f, 1e-7f, 3e-4f, 0.6249f, 0.6251f, -0.63f}) {
    e_tanh_rel = std::max(e_tanh_rel, std::fabs(evnn::vmath::tanh(x) - std::tanh(double(x))) / std::fabs(std::tanh(double(x))));
  }
  expect(std::isnan(evnn::vmath::sigmoid(NAN)) && std::isnan(evnn::vmath::tanh(NAN)),
         "vec_math propagates NaN");
  for (float x : {1e30f, -1e30f, INFINITY, -INFINITY}) {
    expect(std::isfinite(evnn::vmath::sigmoid(x)) && std::isfinite(evnn::vmath::tanh(x)),
           "vec_math finite at " + std::to_string(x));
  }
  std::printf("vec_math max rel err: exp %.2e, sigmoid %.2e, tanh %.2e (abs %.2e)\n", e_exp, e_sig,
              e_tanh_rel, e_tanh_abs);
  expect(e_exp < 4e-7 && e_sig < 6e-7 && e_tanh_rel < 6e-7, "vec_math accuracy");
}

}  // namespace

int main() {
  check_vec_math();

  struct Shape {
    int T, N, C, H;
    bool h0, dhT;
  };
  const Shape shapes[] = {
      {1, 1, 1, 1, false, false}, {1, 3, 5, 7, true, true},   {4, 1, 3, 5, true, false},
      {5, 2, 7, 3, false, true},  {7, 4, 9, 11, true, true},  {3, 5, 17, 33, true, false},
      {6, 3, 1, 16, false, false}, {2, 1, 4, 65, true, true}, {9, 6, 24, 40, true, true},
  };

  // 1. The reference's gradient against finite differences (small shapes only: it is slow).
  {
    double worst = 0;
    uint64_t seed = 100;
    for (const Shape& s : shapes) {
      if (s.H > 16 || s.T > 7) continue;
      worst = std::max(worst, fd_check(make_problem(s.T, s.N, s.C, s.H, s.h0, s.dhT, seed), seed * 7));
      ++seed;
    }
    // saturated gates too
    worst = std::max(worst, fd_check(make_problem(4, 2, 3, 5, true, true, 77, 6.0), 78));
    expect_fd_agrees(worst);
  }

  // 2. Engine vs reference for each kernel, thread count and chunking.
  for_each_config([&](evnn::GemmKernel k, int threads, int chunk_steps) {
    double worst = 0;
    uint64_t seed = 1;
    for (const Shape& s : shapes) {
      RunOpts ro;
      ro.chunk_floats = size_t(chunk_steps) * s.N * 3 * s.H;
      const std::string tag = config_tag(k, threads, chunk_steps) + " T=" + std::to_string(s.T) +
                              " N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) +
                              " H=" + std::to_string(s.H);
      worst = std::max(worst, compare(make_problem(s.T, s.N, s.C, s.H, s.h0, s.dhT, seed++), tag, ro));
    }
    std::printf("engine vs reference [%s]: max scaled err %.2e\n", config_label(k, threads, chunk_steps).c_str(),
                worst);
  });
  const std::vector<evnn::GemmKernel> kernels = gemm_kernels();

  // 3. Optional outputs, saturation, bigger shape, accumulation, determinism, null h0.
  for (evnn::GemmKernel k : kernels) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    {
      RunOpts ro;
      ro.want_dx = ro.want_dh0 = false;
      compare(make_problem(5, 3, 6, 9, true, true, 900), kn + " no dx/dh0", ro);
    }
    compare(make_problem(6, 4, 5, 8, true, true, 901, 30.0), kn + " saturated gates");
    {
      const Problem p = make_problem(20, 16, 96, 128, true, true, 902);
      double e = compare(p, kn + " T=20 N=16 C=96 H=128");
      RunOpts ro;
      ro.chunk_floats = size_t(3) * 16 * 3 * 128;  // 3-step chunks: 7 chunks, the last of 2 steps
      e = std::max(e, compare(p, kn + " 3-step chunks T=20 N=16 C=96 H=128", ro));
      std::printf("engine vs reference [%s, T=20 N=16 C=96 H=128, 1 and 7 chunks]: max scaled err %.2e\n",
                  kn.c_str(), e);
    }
    {
      // Accumulation: gradients preset to R end as R + g; two Backward calls give 2g (in 2-step
      // chunks, so every chunk's dW_ih/dW_hh GEMM must add, not overwrite).
      const Problem p = make_problem(6, 3, 7, 10, true, true, 907);
      Rng rng(908);
      const FVec R = to_f(random_vec(rng, 1009, 2.0));  // a prime length: entries differ per tensor
      const EngineOut once = run_engine(p);
      RunOpts pre;
      pre.preset = &R;
      const EngineOut added = run_engine(p, pre);
      RunOpts once_chunked;
      once_chunked.chunk_floats = size_t(2) * 3 * 3 * 10;
      const EngineOut once_c = run_engine(p, once_chunked);
      RunOpts twice = once_chunked;
      twice.backward_calls = 2;
      const EngineOut doubled = run_engine(p, twice);
      // Each chunk's GEMM adds into what is there, so R + g and g + g round a few times per entry.
      const double e_add = std::max({scaled_err(added.dw_ih, shifted(once.dw_ih, R, 0)),
                                     scaled_err(added.dw_hh, shifted(once.dw_hh, R, 1)),
                                     scaled_err(added.db_ih, shifted(once.db_ih, R, 2)),
                                     scaled_err(added.db_hh, shifted(once.db_hh, R, 3))});
      const double e_dbl = std::max({scaled_err(doubled.dw_ih, times2(once_c.dw_ih)),
                                     scaled_err(doubled.dw_hh, times2(once_c.dw_hh)),
                                     scaled_err(doubled.db_ih, times2(once_c.db_ih)),
                                     scaled_err(doubled.db_hh, times2(once_c.db_hh))});
      expect(bitwise_equal(doubled.dx, once_c.dx) && bitwise_equal(doubled.dh0, once_c.dh0) &&
                 bitwise_equal(added.dx, once.dx) && bitwise_equal(added.dh0, once.dh0),
             kn + ": dx, dh0 are written, not accumulated");
      expect_accumulates(kn, e_add, e_dbl);
    }
    const Problem p = make_problem(8, 5, 13, 21, true, true, 903);
    const EngineOut a = run_engine(p), b = run_engine(p);
    expect(bitwise_equal(a.y, b.y) && bitwise_equal(a.dw_ih, b.dw_ih) &&
               bitwise_equal(a.dw_hh, b.dw_hh) && bitwise_equal(a.db_ih, b.db_ih) &&
               bitwise_equal(a.dx, b.dx) && bitwise_equal(a.dh0, b.dh0),
           kn + ": repeated calls are bitwise identical");
    Problem z = make_problem(3, 2, 4, 5, false, true, 904);
    Problem zz = z;
    zz.has_h0 = true;
    std::fill(zz.h0.begin(), zz.h0.end(), 0.0);
    const EngineOut za = run_engine(z), zb = run_engine(zz);
    expect(bitwise_equal(za.y, zb.y) && bitwise_equal(za.dh0, zb.dh0), kn + ": null h0 == zero h0");
    // dW_hh from a null h0 must equal the zero-h0 result up to rounding (terms are exact zeros).
    expect(scaled_err(za.dw_hh, zb.dw_hh) < 1e-6, kn + ": null h0 dW_hh");
  }

  // 4. Thread-count independence (builtin GEMM): bitwise equal on 1 and 2 threads with
  // N·H = 9003 above both pointwise grains (4096 forward, 8192 backward), so 2 threads split each
  // step's pointwise pass, and with H = 3001 the boundary falls inside a row; one chunk and
  // 1-step chunks.
  {
    evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
    const Problem p = make_problem(3, 3, 5, 3001, true, true, 910);
    for (size_t chunk : {size_t(0), size_t(1) * 3 * 3 * 3001}) {
      RunOpts ro;
      ro.chunk_floats = chunk;
      const auto [a, b] = on_1_and_2_threads([&] { return run_engine(p, ro); });
      const bool same = bitwise_equal(a.y, b.y) && bitwise_equal(a.y_infer, b.y_infer) &&
                        bitwise_equal(a.cache, b.cache) && bitwise_equal(a.dx, b.dx) &&
                        bitwise_equal(a.dh0, b.dh0) && bitwise_equal(a.dw_ih, b.dw_ih) &&
                        bitwise_equal(a.dw_hh, b.dw_hh) && bitwise_equal(a.db_ih, b.db_ih) &&
                        bitwise_equal(a.db_hh, b.db_hh);
      expect(same, std::string("1 vs 2 threads bitwise equal, T=3 N=3 C=5 H=3001 (") +
                       (chunk ? "1-step chunks" : "one chunk") + ")");
      std::printf("threads 1 vs 2 [builtin, T=3 N=3 C=5 H=3001, %s]: %s\n", chunk ? "1-step chunks" : "one chunk",
                  same ? "bitwise equal" : "DIFFER");
    }
  }

  // 5. T = 0: the parameter gradients are left as they were (nothing to add), dh0 = dhT.
  {
    Problem p = make_problem(0, 3, 4, 5, true, true, 905);
    Rng rng(906);
    const FVec R = to_f(random_vec(rng, 97, 1.0));
    RunOpts ro;
    ro.preset = &R;
    const EngineOut o = run_engine(p, ro);
    bool ok = equals_preset(o.dw_ih, R, 0) && equals_preset(o.dw_hh, R, 1) && equals_preset(o.db_ih, R, 2) &&
              equals_preset(o.db_hh, R, 3);
    for (size_t i = 0; i < o.dh0.size(); ++i) ok = ok && o.dh0[i] == float(p.dhT[i]);
    expect(ok, "T=0: parameter gradients unchanged, dh0 = dhT");
  }

  return summary();
}
