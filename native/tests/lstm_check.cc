// Standalone check of the CPU LSTM (no Node): a float64 reference written from the equations,
// itself verified by central finite differences, then the float32 engine compared against it on
// small random shapes (T = 1, N = 1, odd C/H, with and without h0/c0/dy/dhN/dcN, saturated
// gates), for every GEMM kernel compiled in, several thread counts and time-chunk sizes; plus
// gradient accumulation (+=), thread-count independence (bitwise), inference == training,
// null == zero inputs, T = 0, the workspace's reuse and the argument checks.
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
#include "evnn/lstm.h"
#include "evnn/parallel.h"

using namespace evnn::check;

namespace {

struct Problem {
  evnn::lstm::Dims d;
  Vec w_ih, w_hh, b_ih, b_hh, x, h0, c0, dy, dhN, dcN;  // float-representable values
  bool has_h0, has_c0, has_dy, has_dhN, has_dcN;
};

struct Shape {
  int T, N, C, H;
  bool h0, c0, dy, dhN, dcN;
};

Problem make_problem(const Shape& s, uint64_t seed, double x_scale = 1.0) {
  Rng rng(seed);
  Problem p;
  p.d = {s.T, s.N, s.C, s.H};
  const int T = s.T, N = s.N, C = s.C, H = s.H;
  const double k = 1.0 / std::sqrt(double(std::max(H, 1)));  // PyTorch's init range
  p.w_ih = random_vec(rng, size_t(4) * H * C, k);
  p.w_hh = random_vec(rng, size_t(4) * H * H, k);
  p.b_ih = random_vec(rng, size_t(4) * H, k);
  p.b_hh = random_vec(rng, size_t(4) * H, k);
  p.x = random_vec(rng, size_t(T) * N * C, x_scale);
  p.h0 = random_vec(rng, size_t(N) * H, 0.8);
  p.c0 = random_vec(rng, size_t(N) * H, 1.5);
  p.dy = random_vec(rng, size_t(T) * N * H, 1.0);
  p.dhN = random_vec(rng, size_t(N) * H, 1.0);
  p.dcN = random_vec(rng, size_t(N) * H, 1.0);
  p.has_h0 = s.h0, p.has_c0 = s.c0, p.has_dy = s.dy, p.has_dhN = s.dhN, p.has_dcN = s.dcN;
  return p;
}

// ---- float64 reference, straight from the equations -------------------------------------

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct RefOut {
  Vec y, c, i, f, g, o;  // [T,N,H] each
  Vec cN;                // [N,H]
};

double h_init(const Problem& p, int b, int j) { return p.has_h0 ? p.h0[size_t(b) * p.d.H + j] : 0.0; }
double c_init(const Problem& p, int b, int j) { return p.has_c0 ? p.c0[size_t(b) * p.d.H + j] : 0.0; }

RefOut ref_forward(const Problem& p) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H;
  RefOut o;
  const size_t sz = size_t(T) * N * H;
  o.y.assign(sz, 0);
  o.c = o.i = o.f = o.g = o.o = o.y;
  auto hprev = [&](int t, int b, int k) { return t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : h_init(p, b, k); };
  auto cprev = [&](int t, int b, int k) { return t > 0 ? o.c[(size_t(t - 1) * N + b) * H + k] : c_init(p, b, k); };
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < N; ++b)
      for (int j = 0; j < H; ++j) {
        double a[4];
        for (int gate = 0; gate < 4; ++gate) {
          const int row = gate * H + j;
          a[gate] = p.b_ih[row] + p.b_hh[row];
          for (int c = 0; c < C; ++c) a[gate] += p.w_ih[size_t(row) * C + c] * p.x[(size_t(t) * N + b) * C + c];
          for (int k = 0; k < H; ++k) a[gate] += p.w_hh[size_t(row) * H + k] * hprev(t, b, k);
        }
        const double i = sigm(a[0]), f = sigm(a[1]), g = std::tanh(a[2]), og = sigm(a[3]);
        const double c = f * cprev(t, b, j) + i * g;
        const size_t at = (size_t(t) * N + b) * H + j;
        o.c[at] = c;
        o.y[at] = og * std::tanh(c);
        o.i[at] = i, o.f[at] = f, o.g[at] = g, o.o[at] = og;
      }
  o.cN.assign(size_t(N) * H, 0);
  for (int b = 0; b < N; ++b)
    for (int j = 0; j < H; ++j) o.cN[size_t(b) * H + j] = cprev(T, b, j);
  return o;
}

struct RefGrads {
  Vec dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh;
};

RefGrads ref_backward(const Problem& p, const RefOut& o) {
  const int T = p.d.T, N = p.d.N, C = p.d.C, H = p.d.H, G = 4 * H;
  RefGrads r;
  r.dx.assign(size_t(T) * N * C, 0);
  r.dw_ih.assign(size_t(G) * C, 0);
  r.dw_hh.assign(size_t(G) * H, 0);
  r.db_ih.assign(G, 0);
  r.db_hh.assign(G, 0);
  Vec dh = p.has_dhN ? p.dhN : Vec(size_t(N) * H, 0.0);
  Vec dc = p.has_dcN ? p.dcN : Vec(size_t(N) * H, 0.0);
  auto hprev = [&](int t, int b, int k) { return t > 0 ? o.y[(size_t(t - 1) * N + b) * H + k] : h_init(p, b, k); };
  auto cprev = [&](int t, int b, int k) { return t > 0 ? o.c[(size_t(t - 1) * N + b) * H + k] : c_init(p, b, k); };
  for (int t = T - 1; t >= 0; --t) {
    Vec dh_prev(size_t(N) * H, 0.0), dc_prev(size_t(N) * H, 0.0);
    for (int b = 0; b < N; ++b) {
      Vec da(G);
      for (int j = 0; j < H; ++j) {
        const size_t at = (size_t(t) * N + b) * H + j, s = size_t(b) * H + j;
        const double i = o.i[at], f = o.f[at], g = o.g[at], og = o.o[at], tc = std::tanh(o.c[at]);
        const double dht = dh[s] + (p.has_dy ? p.dy[at] : 0.0);
        // h = o tanh(c): dL/do, and the part of dL/dc through h
        const double d_o = dht * tc;
        const double dct = dc[s] + dht * og * (1 - tc * tc);
        // c = f c_prev + i g
        const double d_i = dct * g, d_f = dct * cprev(t, b, j), d_g = dct * i;
        dc_prev[s] = dct * f;
        da[j] = d_i * i * (1 - i);
        da[H + j] = d_f * f * (1 - f);
        da[2 * H + j] = d_g * (1 - g * g);
        da[3 * H + j] = d_o * og * (1 - og);
      }
      for (int k = 0; k < G; ++k) {
        r.db_ih[k] += da[k];
        r.db_hh[k] += da[k];
        for (int c = 0; c < C; ++c) {
          r.dw_ih[size_t(k) * C + c] += da[k] * p.x[(size_t(t) * N + b) * C + c];
          r.dx[(size_t(t) * N + b) * C + c] += da[k] * p.w_ih[size_t(k) * C + c];
        }
        for (int j = 0; j < H; ++j) {
          r.dw_hh[size_t(k) * H + j] += da[k] * hprev(t, b, j);
          dh_prev[size_t(b) * H + j] += da[k] * p.w_hh[size_t(k) * H + j];
        }
      }
    }
    dh = dh_prev;
    dc = dc_prev;
  }
  r.dh0 = dh;
  r.dc0 = dc;
  return r;
}

// L = Σ dy ⊙ y + Σ dhN ⊙ h_T + Σ dcN ⊙ c_T: the loss whose gradient Backward computes.
double ref_loss(const Problem& p) {
  const RefOut o = ref_forward(p);
  double L = 0;
  if (p.has_dy)
    for (size_t i = 0; i < o.y.size(); ++i) L += p.dy[i] * o.y[i];
  const size_t NH = size_t(p.d.N) * p.d.H;
  if (p.has_dhN && p.d.T > 0) {
    const size_t last = size_t(p.d.T - 1) * NH;
    for (size_t i = 0; i < NH; ++i) L += p.dhN[i] * o.y[last + i];
  }
  if (p.has_dcN)
    for (size_t i = 0; i < NH; ++i) L += p.dcN[i] * o.cN[i];
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
  return probe.worst;
}

double fd_check_state(Problem p, uint64_t seed) {
  // dh0 and dc0 with the states present (zeroed first where the problem had none).
  if (!p.has_h0) std::fill(p.h0.begin(), p.h0.end(), 0.0);
  if (!p.has_c0) std::fill(p.c0.begin(), p.c0.end(), 0.0);
  p.has_h0 = p.has_c0 = true;
  const RefGrads g = ref_backward(p, ref_forward(p));
  auto probe = fd_probe(seed, [&] { return ref_loss(p); });
  probe(p.h0, g.dh0, "h0");
  probe(p.c0, g.dc0, "c0");
  return probe.worst;
}

// ---- the engine under test ---------------------------------------------------------------

struct EngineOut {
  FVec y, cN, cache, y_infer, cN_infer, dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh;
};

struct RunOpts {
  size_t chunk_floats = 0;
  bool want_dx = true, want_dh0 = true, want_dc0 = true;
  int backward_calls = 1;
  const FVec* preset = nullptr;  // initial value of every parameter-gradient entry (else 0)
};

EngineOut run_engine(const Problem& p, const RunOpts& ro = RunOpts()) {
  const auto& d = p.d;
  const evnn::Context ctx = evnn::ThreadContext();
  const FVec w_ih = to_f(p.w_ih), w_hh = to_f(p.w_hh), b_ih = to_f(p.b_ih), b_hh = to_f(p.b_hh);
  const FVec x = to_f(p.x), h0 = to_f(p.h0), c0 = to_f(p.c0), dy = to_f(p.dy), dhN = to_f(p.dhN),
             dcN = to_f(p.dcN);
  const evnn::lstm::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  evnn::lstm::Options opt;
  opt.chunk_floats = ro.chunk_floats;
  EngineOut o;
  const size_t ysz = size_t(d.T) * d.N * d.H, NH = size_t(d.N) * d.H;
  o.y.assign(ysz, NAN);
  o.y_infer.assign(ysz, NAN);
  o.cN.assign(NH, NAN);
  o.cN_infer.assign(NH, NAN);
  o.cache.assign(evnn::lstm::CacheSize(d), NAN);
  const float* h0p = p.has_h0 ? h0.data() : nullptr;
  const float* c0p = p.has_c0 ? c0.data() : nullptr;
  evnn::lstm::Forward(ctx, d, w, opt, x.data(), h0p, c0p, o.y.data(), o.cN.data(), o.cache.data());
  evnn::lstm::Forward(ctx, d, w, opt, x.data(), h0p, c0p, o.y_infer.data(), o.cN_infer.data(), nullptr);
  o.dx.assign(size_t(d.T) * d.N * d.C, NAN);  // NaN-filled: Backward must write every entry
  o.dh0.assign(NH, NAN);
  o.dc0.assign(NH, NAN);
  const size_t G = size_t(4) * d.H;
  preset_grad(o.dw_ih, G * d.C, 0, ro.preset);
  preset_grad(o.dw_hh, G * d.H, 1, ro.preset);
  preset_grad(o.db_ih, G, 2, ro.preset);
  preset_grad(o.db_hh, G, 3, ro.preset);
  const evnn::lstm::Grads g{o.dw_ih.data(), o.dw_hh.data(), o.db_ih.data(), o.db_hh.data()};
  for (int call = 0; call < ro.backward_calls; ++call) {
    evnn::lstm::Backward(ctx, d, w, opt, x.data(), h0p, c0p, o.y.data(), o.cache.data(),
                         p.has_dy ? dy.data() : nullptr, p.has_dhN ? dhN.data() : nullptr,
                         p.has_dcN ? dcN.data() : nullptr, ro.want_dx ? o.dx.data() : nullptr,
                         ro.want_dh0 ? o.dh0.data() : nullptr, ro.want_dc0 ? o.dc0.data() : nullptr, g);
  }
  return o;
}

// float32 engine vs float64 reference: forward ~ a few ulp per step, gradients sum many terms.
constexpr double kForwardTol = 2e-6;
constexpr double kGradTol = 5e-6;

std::string shape_tag(const Shape& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "T=%d N=%d C=%d H=%d h0=%d c0=%d dy=%d dhN=%d dcN=%d", s.T, s.N, s.C, s.H,
                s.h0, s.c0, s.dy, s.dhN, s.dcN);
  return buf;
}

double compare(const Problem& p, const std::string& tag, const RunOpts& ro = RunOpts()) {
  const RefOut rf = ref_forward(p);
  const RefGrads rg = ref_backward(p, rf);
  const EngineOut eo = run_engine(p, ro);
  expect(bitwise_equal(eo.y, eo.y_infer) && bitwise_equal(eo.cN, eo.cN_infer),
         tag + ": inference y, cN == training y, cN");
  const double ey = expect_close(eo.y, rf.y, kForwardTol, tag + ": y");
  const double ec = expect_close(eo.cN, rf.cN, kForwardTol, tag + ": cN");
  double worst = std::max(ey, ec);
  auto grad = [&](const FVec& a, const Vec& b, const char* name) {
    worst = std::max(worst, expect_close(a, b, kGradTol, tag + ": " + name));
  };
  grad(eo.dw_ih, rg.dw_ih, "dw_ih");
  grad(eo.dw_hh, rg.dw_hh, "dw_hh");
  grad(eo.db_ih, rg.db_ih, "db_ih");
  grad(eo.db_hh, rg.db_hh, "db_hh");
  if (ro.want_dx) grad(eo.dx, rg.dx, "dx");
  if (ro.want_dh0) grad(eo.dh0, rg.dh0, "dh0");
  if (ro.want_dc0) grad(eo.dc0, rg.dc0, "dc0");
  return worst;
}

}  // namespace

int main() {
  const Shape shapes[] = {
      {1, 1, 1, 1, false, false, true, false, false},  {1, 3, 5, 7, true, true, true, true, true},
      {4, 1, 3, 5, true, false, true, false, true},    {5, 2, 7, 3, false, true, true, true, false},
      {7, 4, 9, 11, true, true, true, true, true},     {3, 5, 17, 33, true, true, false, true, true},
      {6, 3, 1, 16, false, false, true, false, false}, {2, 1, 4, 65, true, true, true, true, true},
      {9, 6, 24, 40, true, false, true, true, true},   {4, 2, 0, 6, true, true, true, true, true},
  };

  // 1. The reference's gradient against finite differences (small shapes only: it is slow).
  {
    double worst = 0;
    uint64_t seed = 100;
    for (const Shape& s : shapes) {
      if (s.H > 16 || s.T > 7) continue;
      worst = std::max(worst, fd_check(make_problem(s, seed), seed * 7));
      worst = std::max(worst, fd_check_state(make_problem(s, seed), seed * 11));
      ++seed;
    }
    // saturated gates too
    const Shape sat{4, 2, 3, 5, true, true, true, true, true};
    worst = std::max(worst, fd_check(make_problem(sat, 77, 6.0), 78));
    worst = std::max(worst, fd_check_state(make_problem(sat, 77, 6.0), 79));
    expect_fd_agrees(worst);
  }

  // 2. Engine vs reference for each kernel, thread count and chunking.
  for_each_config([&](evnn::GemmKernel k, int threads, int chunk_steps) {
    double worst = 0;
    uint64_t seed = 1;
    for (const Shape& s : shapes) {
      RunOpts ro;
      ro.chunk_floats = size_t(chunk_steps) * s.N * 4 * s.H;
      const std::string tag = config_tag(k, threads, chunk_steps) + " " + shape_tag(s);
      worst = std::max(worst, compare(make_problem(s, seed++), tag, ro));
    }
    std::printf("engine vs reference [%s]: max scaled err %.2e\n", config_label(k, threads, chunk_steps).c_str(),
                worst);
  });
  const std::vector<evnn::GemmKernel> kernels = gemm_kernels();

  // 3. Optional outputs, saturation, a bigger shape, accumulation, null == zero, T = 0.
  for (evnn::GemmKernel k : kernels) {
    evnn::set_gemm_kernel(k);
    const std::string kn = evnn::gemm_kernel_name(k);
    {
      RunOpts ro;
      ro.want_dx = ro.want_dh0 = ro.want_dc0 = false;
      compare(make_problem({5, 3, 6, 9, true, true, true, true, true}, 900), kn + " no dx/dh0/dc0", ro);
      RunOpts ro2;
      ro2.want_dh0 = false;
      compare(make_problem({5, 3, 6, 9, false, true, true, true, true}, 906), kn + " no dh0", ro2);
    }
    compare(make_problem({6, 4, 5, 8, true, true, true, true, true}, 901, 30.0), kn + " saturated gates");
    {
      const Shape big{20, 16, 96, 128, true, true, true, true, true};
      const Problem p = make_problem(big, 902);
      double e = compare(p, kn + " " + shape_tag(big));
      RunOpts ro;
      ro.chunk_floats = size_t(3) * 16 * 4 * 128;  // 3-step chunks: 7 chunks, the last of 2 steps
      e = std::max(e, compare(p, kn + " 3-step chunks " + shape_tag(big), ro));
      std::printf("engine vs reference [%s, T=20 N=16 C=96 H=128, 1 and 7 chunks]: max scaled err %.2e\n", kn.c_str(), e);
    }
    {
      // Accumulation: gradients preset to R end as R + g; two Backward calls give 2g.
      const Problem p = make_problem({6, 3, 7, 10, true, true, true, true, true}, 907);
      Rng rng(908);
      const FVec R = to_f(random_vec(rng, 1009, 2.0));  // a prime length: entries differ per tensor
      const EngineOut once = run_engine(p);
      RunOpts pre;
      pre.preset = &R;
      const EngineOut added = run_engine(p, pre);
      RunOpts twice;
      twice.backward_calls = 2;
      twice.chunk_floats = size_t(2) * 3 * 4 * 10;
      const EngineOut doubled = run_engine(p, twice);
      RunOpts once_chunked;
      once_chunked.chunk_floats = twice.chunk_floats;
      const EngineOut once_c = run_engine(p, once_chunked);
      const double e_add =
          std::max({scaled_err(added.dw_ih, shifted(once.dw_ih, R, 0)), scaled_err(added.dw_hh, shifted(once.dw_hh, R, 1)),
                    scaled_err(added.db_ih, shifted(once.db_ih, R, 2)), scaled_err(added.db_hh, shifted(once.db_hh, R, 3))});
      const double e_dbl =
          std::max({scaled_err(doubled.dw_ih, times2(once_c.dw_ih)), scaled_err(doubled.dw_hh, times2(once_c.dw_hh)),
                    scaled_err(doubled.db_ih, times2(once_c.db_ih)), scaled_err(doubled.db_hh, times2(once_c.db_hh))});
      // ...while dx, dh0, dc0 are overwritten, not accumulated.
      expect(bitwise_equal(doubled.dx, once_c.dx) && bitwise_equal(doubled.dh0, once_c.dh0) &&
                 bitwise_equal(doubled.dc0, once_c.dc0) && bitwise_equal(added.dx, once.dx),
             kn + ": dx, dh0, dc0 are written, not accumulated");
      expect_accumulates(kn, e_add, e_dbl);
    }
    {
      const Problem p = make_problem({8, 5, 13, 21, true, true, true, true, true}, 903);
      const EngineOut a = run_engine(p), b = run_engine(p);
      expect(bitwise_equal(a.y, b.y) && bitwise_equal(a.cN, b.cN) && bitwise_equal(a.dw_ih, b.dw_ih) &&
                 bitwise_equal(a.dw_hh, b.dw_hh) && bitwise_equal(a.db_ih, b.db_ih) && bitwise_equal(a.dx, b.dx) &&
                 bitwise_equal(a.dh0, b.dh0) && bitwise_equal(a.dc0, b.dc0),
             kn + ": repeated calls are bitwise identical");
    }
    {
      // A null h0 / c0 / dy is zeros; a null dhN / dcN adds nothing.
      Problem z = make_problem({3, 2, 4, 5, false, false, false, false, false}, 904);
      Problem zz = z;
      zz.has_h0 = zz.has_c0 = zz.has_dy = zz.has_dhN = zz.has_dcN = true;
      std::fill(zz.h0.begin(), zz.h0.end(), 0.0);
      std::fill(zz.c0.begin(), zz.c0.end(), 0.0);
      std::fill(zz.dy.begin(), zz.dy.end(), 0.0);
      std::fill(zz.dhN.begin(), zz.dhN.end(), 0.0);
      std::fill(zz.dcN.begin(), zz.dcN.end(), 0.0);
      // dy = 0 everywhere would give zero gradients; put the signal in dcN for both.
      z.has_dcN = zz.has_dcN = true;
      z.dcN = zz.dcN = make_problem({3, 2, 4, 5, false, false, false, false, false}, 905).dcN;
      const EngineOut za = run_engine(z), zb = run_engine(zz);
      expect(bitwise_equal(za.y, zb.y) && bitwise_equal(za.cN, zb.cN) && bitwise_equal(za.dh0, zb.dh0) &&
                 bitwise_equal(za.dc0, zb.dc0) && bitwise_equal(za.dx, zb.dx) && bitwise_equal(za.dw_ih, zb.dw_ih) &&
                 bitwise_equal(za.db_ih, zb.db_ih),
             kn + ": null h0/c0/dy/dhN == zeros");
      // dW_hh from a null h0 skips exact-zero terms: equal up to rounding.
      expect(scaled_err(za.dw_hh, zb.dw_hh) < 1e-6, kn + ": null h0 dW_hh");
    }
  }

  // 4. Thread-count independence (builtin GEMM): bitwise equal on 1 and 2 threads, with
  // N·H = 12288 well above the pointwise grains, in one chunk and in 2-step chunks.
  {
    evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
    const Shape s{5, 32, 48, 384, true, true, true, true, true};
    const Problem p = make_problem(s, 910);
    for (size_t chunk : {size_t(0), size_t(2) * 32 * 4 * 384}) {
      RunOpts ro;
      ro.chunk_floats = chunk;
      const auto [a, b] = on_1_and_2_threads([&] { return run_engine(p, ro); });
      const bool same = bitwise_equal(a.y, b.y) && bitwise_equal(a.cN, b.cN) && bitwise_equal(a.cache, b.cache) &&
                        bitwise_equal(a.dx, b.dx) && bitwise_equal(a.dh0, b.dh0) && bitwise_equal(a.dc0, b.dc0) &&
                        bitwise_equal(a.dw_ih, b.dw_ih) && bitwise_equal(a.dw_hh, b.dw_hh) &&
                        bitwise_equal(a.db_ih, b.db_ih) && bitwise_equal(a.db_hh, b.db_hh);
      expect(same, std::string("1 vs 2 threads bitwise equal (") + (chunk ? "2-step chunks" : "one chunk") + ")");
      std::printf("threads 1 vs 2 [builtin, %s, %s]: %s\n", shape_tag(s).c_str(),
                  chunk ? "2-step chunks" : "one chunk", same ? "bitwise equal" : "DIFFER");
    }
  }

  // 5. T = 0: cN = c0, parameter gradients untouched, dh0 = dhN, dc0 = dcN.
  {
    const Problem p = make_problem({0, 3, 4, 5, true, true, true, true, true}, 920);
    Rng rng(921);
    const FVec R = to_f(random_vec(rng, 97, 1.0));
    RunOpts ro;
    ro.preset = &R;
    const EngineOut o = run_engine(p, ro);
    bool ok = equals_preset(o.dw_ih, R, 0) && equals_preset(o.db_hh, R, 3);
    for (size_t i = 0; i < o.dh0.size(); ++i) ok = ok && o.dh0[i] == float(p.dhN[i]) && o.dc0[i] == float(p.dcN[i]);
    for (size_t i = 0; i < o.cN.size(); ++i) ok = ok && o.cN[i] == float(p.c0[i]);
    expect(ok, "T=0: cN = c0, gradients unchanged, dh0 = dhN, dc0 = dcN");
  }

  // 6. The workspace is reused: a second identical call takes no new memory.
  {
    const Problem p = make_problem({7, 4, 9, 11, true, true, true, true, true}, 930);
    evnn::Context ctx = evnn::ThreadContext();
    run_engine(p);
    const size_t cap = ctx.workspace->capacity_floats();
    run_engine(p);
    expect(ctx.workspace->capacity_floats() == cap, "workspace capacity unchanged by a repeated call");
  }

  // 7. Argument checks name the function.
  {
    const evnn::Context ctx = evnn::ThreadContext();
    const evnn::lstm::Dims d{2, 1, 1, 1};
    const float w4[4] = {0, 0, 0, 0};
    float buf[16] = {0};
    const evnn::lstm::Weights w{w4, w4, w4, w4};
    const evnn::lstm::Grads g{buf, buf, buf, buf};
    const evnn::lstm::Options o;
    expect_throws([&] { evnn::lstm::Forward(ctx, d, w, o, buf, nullptr, nullptr, nullptr, nullptr, nullptr); },
                  "evnn::lstm::Forward: y is null", "Forward null y");
    expect_throws([&] { evnn::lstm::Forward(ctx, {-1, 1, 1, 1}, w, o, buf, nullptr, nullptr, buf, nullptr, nullptr); },
                  "evnn::lstm::Forward: dims", "Forward negative T");
    expect_throws([&] { evnn::lstm::Forward(ctx, d, {nullptr, w4, w4, w4}, o, buf, nullptr, nullptr, buf, nullptr, nullptr); },
                  "evnn::lstm::Forward: w_ih is null", "Forward null w_ih");
    expect_throws([&] { evnn::lstm::Forward(evnn::Context{}, d, w, o, buf, nullptr, nullptr, buf, nullptr, nullptr); },
                  "evnn::lstm::Forward: ctx.workspace is null", "Forward null workspace");
    expect_throws([&] {
      evnn::lstm::Backward(ctx, d, w, o, buf, nullptr, nullptr, buf, nullptr, nullptr, nullptr, nullptr, nullptr,
                           nullptr, nullptr, g);
    }, "evnn::lstm::Backward: cache is null", "Backward null cache");
    expect_throws([&] {
      evnn::lstm::Backward(ctx, d, w, o, buf, nullptr, nullptr, buf, buf, nullptr, nullptr, nullptr, nullptr, nullptr,
                           nullptr, {buf, buf, nullptr, buf});
    }, "evnn::lstm::Backward: db_ih is null", "Backward null db_ih");
  }

  return summary();
}
