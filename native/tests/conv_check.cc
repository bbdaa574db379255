// Conv2d, MaxPool2d and ReLU (evnn/conv2d.h, maxpool2d.h, relu.h) against float64 references
// written from the definitions: odd sizes, strides larger than, equal to and smaller than the
// kernel, AlexNet's 11×11 at stride 4, asymmetric kernels and padding, a padded 1×1 input; every
// GEMM kernel on 1 and 2 threads; block budgets that put one, two (with a remainder) or all
// frames in a GEMM; the fused ReLU. The reference backward is checked against finite differences
// of the reference forward first, so the engine is never compared with an unchecked gradient.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/conv2d.h"
#include "evnn/gemm.h"
#include "evnn/maxpool2d.h"
#include "evnn/parallel.h"
#include "evnn/relu.h"

using namespace evnn::check;
namespace conv2d = evnn::conv2d;
namespace maxpool2d = evnn::maxpool2d;

namespace {

// ---- Conv2d reference ------------------------------------------------------------------------

struct ConvRef {
  const conv2d::Dims& d;
  int OH, OW;
  explicit ConvRef(const conv2d::Dims& dims)
      : d(dims), OH(conv2d::OutSize(dims.H, dims.KH, dims.SH, dims.PH)), OW(conv2d::OutSize(dims.W, dims.KW, dims.SW, dims.PW)) {}
  size_t xi(int n, int c, int h, int w) const { return ((size_t(n) * d.C + c) * d.H + h) * d.W + w; }
  size_t wi(int o, int c, int u, int v) const { return ((size_t(o) * d.C + c) * d.KH + u) * d.KW + v; }
  size_t yi(int n, int o, int i, int j) const { return ((size_t(n) * d.O + o) * OH + i) * OW + j; }
  size_t ysize() const { return size_t(d.N) * d.O * OH * OW; }

  // Calls fn(n, o, i, j, c, h, w, u, v) for every product of the convolution with a real input.
  template <typename Fn>
  void each(const Fn& fn) const {
    for (int n = 0; n < d.N; ++n)
      for (int o = 0; o < d.O; ++o)
        for (int i = 0; i < OH; ++i)
          for (int j = 0; j < OW; ++j)
            for (int c = 0; c < d.C; ++c)
              for (int u = 0; u < d.KH; ++u)
                for (int v = 0; v < d.KW; ++v) {
                  const int h = i * d.SH - d.PH + u, w = j * d.SW - d.PW + v;
                  if (h >= 0 && h < d.H && w >= 0 && w < d.W) fn(n, o, i, j, c, h, w, u, v);
                }
  }

  Vec forward(const Vec& x, const Vec& w, const Vec* b) const {
    Vec y(ysize(), 0.0);
    for (int n = 0; n < d.N; ++n)
      for (int o = 0; o < d.O; ++o)
        for (int i = 0; i < OH; ++i)
          for (int j = 0; j < OW; ++j) y[yi(n, o, i, j)] = b ? (*b)[size_t(o)] : 0.0;
    each([&](int n, int o, int i, int j, int c, int h, int ww, int u, int v) { y[yi(n, o, i, j)] += w[wi(o, c, u, v)] * x[xi(n, c, h, ww)]; });
    return y;
  }

  // Gradients of L = Σ y ⊙ g.
  void backward(const Vec& x, const Vec& w, const Vec& g, Vec* dx, Vec* dw, Vec* db) const {
    dx->assign(x.size(), 0.0);
    dw->assign(w.size(), 0.0);
    db->assign(size_t(d.O), 0.0);
    each([&](int n, int o, int i, int j, int c, int h, int ww, int u, int v) {
      const double gy = g[yi(n, o, i, j)];
      (*dx)[xi(n, c, h, ww)] += gy * w[wi(o, c, u, v)];
      (*dw)[wi(o, c, u, v)] += gy * x[xi(n, c, h, ww)];
    });
    for (int n = 0; n < d.N; ++n)
      for (int o = 0; o < d.O; ++o)
        for (int i = 0; i < OH; ++i)
          for (int j = 0; j < OW; ++j) (*db)[size_t(o)] += g[yi(n, o, i, j)];
  }
};

struct ConvCase {
  const char* name;
  conv2d::Dims d;
};

struct ConvOut {
  FVec y, dx, dw, db;
};

// Tolerances against float64: float32 sums of up to C·KH·KW products (forward, dx) and of up to
// N·OH·OW products (dw, db), inputs O(1): a few units of 2^-24 times √(terms).
constexpr double kTolForward = 1e-5;
constexpr double kTolGrad = 2e-5;

ConvOut RunConv(const conv2d::Dims& d, const FVec& x, const FVec& w, const FVec* b, const FVec& g, bool want_dx,
                size_t block_floats, const FVec* preset) {
  const evnn::Context ctx = evnn::ThreadContext();
  ConvRef r(d);
  ConvOut out;
  out.y.assign(r.ysize(), std::numeric_limits<float>::quiet_NaN());  // the forward must write every output
  conv2d::Options opt;
  opt.block_floats = block_floats;
  conv2d::Forward(ctx, d, x.data(), w.data(), b ? b->data() : nullptr, out.y.data(), opt);
  preset_grad(out.dw, w.size(), 3, preset);
  preset_grad(out.db, size_t(d.O), 7, preset);
  if (want_dx) out.dx.assign(x.size(), std::numeric_limits<float>::quiet_NaN());  // written, not added
  conv2d::Backward(ctx, d, x.data(), w.data(), nullptr, g.data(), want_dx ? out.dx.data() : nullptr, out.dw.data(),
                   b ? out.db.data() : nullptr, opt);
  return out;
}

void CheckConvCase(const ConvCase& cs, uint64_t seed) {
  const conv2d::Dims& d = cs.d;
  ConvRef r(d);
  Rng rng(seed);
  const Vec x = random_vec(rng, size_t(d.N) * d.C * d.H * d.W, 1.0);
  const Vec w = random_vec(rng, size_t(d.O) * d.C * d.KH * d.KW, 0.5);
  const Vec b = random_vec(rng, size_t(d.O), 0.5);
  const Vec g = random_vec(rng, r.ysize(), 1.0);
  const FVec R = to_f(random_vec(rng, 101, 1.0));  // preset gradients, for the += check

  const Vec y_ref = r.forward(x, w, &b);
  Vec dx_ref, dw_ref, db_ref;
  r.backward(x, w, g, &dx_ref, &dw_ref, &db_ref);

  {  // the reference's own gradient against central differences of L = Σ y ⊙ g
    Vec xs = x, ws = w, bs = b;
    auto loss = [&] {
      const Vec y = r.forward(xs, ws, &bs);
      double l = 0;
      for (size_t i = 0; i < y.size(); ++i) l += y[i] * g[i];
      return l;
    };
    auto probe = fd_probe(seed ^ 0xfd, loss);
    probe(xs, dx_ref, "x");
    probe(ws, dw_ref, "w");
    probe(bs, db_ref, "b");
    expect_fd_agrees(probe.worst, std::string(" [") + cs.name + "]");
  }

  const FVec xf = to_f(x), wf = to_f(w), bf = to_f(b), gf = to_f(g);
  const size_t frame_scratch = size_t(r.OH) * r.OW * (size_t(d.C) * d.KH * d.KW + d.O);
  // 0: the default (all frames in one block here); one frame per block; two frames per block,
  // leaving a remainder when N is odd.
  const size_t budgets[] = {0, 1, 2 * frame_scratch};
  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    for (int threads : {1, 2}) {
      evnn::set_num_threads(threads);
      for (size_t budget : budgets) {
        const std::string tag = std::string(cs.name) + " " + evnn::gemm_kernel_name(k) + " threads=" + std::to_string(threads) +
                                " block=" + std::to_string(budget);
        const ConvOut o = RunConv(d, xf, wf, &bf, gf, true, budget, &R);
        expect_close(o.y, y_ref, kTolForward, tag + " y");
        expect_close(o.dx, dx_ref, kTolGrad, tag + " dx");
        // dw and db were preset to R: the backward must add.
        Vec dw_acc(dw_ref), db_acc(db_ref);
        for (size_t i = 0; i < dw_acc.size(); ++i) dw_acc[i] += R[(3 + i) % R.size()];
        for (size_t i = 0; i < db_acc.size(); ++i) db_acc[i] += R[(7 + i) % R.size()];
        expect_close(o.dw, dw_acc, kTolGrad, tag + " dw (+= preset)");
        expect_close(o.db, db_acc, kTolGrad, tag + " db (+= preset)");
      }
    }
  }

  // Without bias and without dx: y has no bias term, dw is still right, nothing else touched.
  {
    evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
    const Vec y_nb = r.forward(x, w, nullptr);
    const ConvOut o = RunConv(d, xf, wf, nullptr, gf, false, 0, nullptr);
    expect_close(o.y, y_nb, kTolForward, std::string(cs.name) + " no-bias y");
    expect_close(o.dw, dw_ref, kTolGrad, std::string(cs.name) + " no-dx dw");
    bool db_untouched = true;
    for (float v : o.db) db_untouched = db_untouched && v == 0.0f;
    expect(db_untouched, std::string(cs.name) + " db untouched when null");
  }

  // The fused ReLU: y = max(0, conv + b); the backward takes dy through the gate y > 0 of the
  // engine's own y (so a float64 value near 0 cannot disagree with the float32 one on the gate).
  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    for (int threads : {1, 2}) {
      evnn::set_num_threads(threads);
      for (size_t budget : budgets) {
        const std::string tag = std::string(cs.name) + " relu " + evnn::gemm_kernel_name(k) + " threads=" +
                                std::to_string(threads) + " block=" + std::to_string(budget);
        const evnn::Context ctx = evnn::ThreadContext();
        conv2d::Options opt;
        opt.block_floats = budget;
        opt.relu = true;
        FVec y(r.ysize(), std::numeric_limits<float>::quiet_NaN());
        conv2d::Forward(ctx, d, xf.data(), wf.data(), bf.data(), y.data(), opt);
        Vec y_relu(y_ref);
        for (double& v : y_relu) v = std::max(v, 0.0);
        expect_close(y, y_relu, kTolForward, tag + " y");
        Vec g_gated(g);
        size_t gated = 0;
        for (size_t i = 0; i < g_gated.size(); ++i)
          if (!(y[i] > 0.0f)) g_gated[i] = 0.0, ++gated;
        expect(gated > 0 && gated < g_gated.size(), tag + " the gate closes some outputs and not all");
        Vec dxr, dwr, dbr;
        r.backward(x, w, g_gated, &dxr, &dwr, &dbr);
        FVec dx(x.size(), std::numeric_limits<float>::quiet_NaN()), dw(w.size(), 0.0f), db(size_t(d.O), 0.0f);
        conv2d::Backward(ctx, d, xf.data(), wf.data(), y.data(), gf.data(), dx.data(), dw.data(), db.data(), opt);
        expect_close(dx, dxr, kTolGrad, tag + " dx");
        expect_close(dw, dwr, kTolGrad, tag + " dw");
        expect_close(db, dbr, kTolGrad, tag + " db");
      }
    }
  }

  // Thread independence with the builtin GEMM (it never splits K): bitwise, at every budget.
  evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
  for (size_t budget : budgets) {
    const auto [one, two] = on_1_and_2_threads([&] { return RunConv(d, xf, wf, &bf, gf, true, budget, nullptr); });
    expect(bitwise_equal(one.y, two.y) && bitwise_equal(one.dx, two.dx) && bitwise_equal(one.dw, two.dw) &&
               bitwise_equal(one.db, two.db),
           std::string(cs.name) + " 1 vs 2 threads bitwise, block=" + std::to_string(budget));
  }
  std::printf("conv2d %-28s N=%d C=%d %dx%d O=%d k=%dx%d s=%d,%d p=%d,%d -> %dx%d: ok so far (%d failures)\n", cs.name, d.N,
              d.C, d.H, d.W, d.O, d.KH, d.KW, d.SH, d.SW, d.PH, d.PW, r.OH, r.OW, g_failures);
}

// ---- MaxPool2d reference ---------------------------------------------------------------------

struct PoolCase {
  const char* name;
  maxpool2d::Dims d;
  double zero_fraction;  // inputs set to 0 (ReLU-like ties)
};

// The window's maximum and, among equal maxima, the first position in row-major order (a NaN
// wins over everything, the last NaN over earlier ones), as PyTorch's CPU kernel scans.
void PoolRef(const maxpool2d::Dims& d, const FVec& x, FVec* y, std::vector<int32_t>* idx) {
  const int OH = maxpool2d::OutSize(d.H, d.KH, d.SH, d.PH), OW = maxpool2d::OutSize(d.W, d.KW, d.SW, d.PW);
  y->assign(size_t(d.N) * d.C * OH * OW, 0.0f);
  idx->assign(y->size(), -1);
  for (int pl = 0; pl < d.N * d.C; ++pl)
    for (int i = 0; i < OH; ++i)
      for (int j = 0; j < OW; ++j) {
        bool have = false, nan = false;
        float best = 0;
        int32_t at = -1;
        for (int u = 0; u < d.KH; ++u)
          for (int v = 0; v < d.KW; ++v) {
            const int h = i * d.SH - d.PH + u, w = j * d.SW - d.PW + v;
            if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
            const float val = x[size_t(pl) * d.H * d.W + size_t(h) * d.W + w];
            if (std::isnan(val)) {
              nan = true, best = val, at = h * d.W + w, have = true;
            } else if (!nan && (!have || val > best)) {
              best = val, at = h * d.W + w, have = true;
            }
          }
        (*y)[(size_t(pl) * OH + i) * OW + j] = best;
        (*idx)[(size_t(pl) * OH + i) * OW + j] = at;
      }
}

void CheckPoolCase(const PoolCase& cs, uint64_t seed) {
  const maxpool2d::Dims& d = cs.d;
  const int OH = maxpool2d::OutSize(d.H, d.KH, d.SH, d.PH), OW = maxpool2d::OutSize(d.W, d.KW, d.SW, d.PW);
  Rng rng(seed);
  const size_t nx = size_t(d.N) * d.C * d.H * d.W, ny = size_t(d.N) * d.C * OH * OW;
  FVec x = to_f(random_vec(rng, nx, 1.0));
  for (float& v : x)
    if (rng.u01() < cs.zero_fraction) v = 0.0f;
  const FVec g = to_f(random_vec(rng, ny, 1.0));
  FVec y_ref;
  std::vector<int32_t> idx_ref;
  PoolRef(d, x, &y_ref, &idx_ref);
  Vec dx_ref(nx, 0.0);
  for (size_t k = 0; k < ny; ++k) dx_ref[(k / (size_t(OH) * OW)) * d.H * d.W + size_t(idx_ref[k])] += g[k];

  const evnn::Context ctx = evnn::ThreadContext();
  for (int threads : {1, 2}) {
    evnn::set_num_threads(threads);
    const std::string tag = std::string(cs.name) + " threads=" + std::to_string(threads);
    FVec y(ny, std::numeric_limits<float>::quiet_NaN());
    std::vector<int32_t> idx(ny, -7);
    maxpool2d::Forward(ctx, d, x.data(), y.data(), idx.data());
    expect(bitwise_equal(y, y_ref), tag + " y equals the reference maxima exactly");
    expect(idx == idx_ref, tag + " argmax is the first maximum (PyTorch's)");
    FVec dx(nx, std::numeric_limits<float>::quiet_NaN());
    maxpool2d::Backward(ctx, d, idx.data(), g.data(), dx.data());
    // At most ⌈K/S⌉² outputs share an input: the float sums are exact to a few roundings.
    expect_close(dx, dx_ref, 1e-6, tag + " dx");
  }
  std::printf("maxpool2d %-26s N=%d C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d -> %dx%d: ok so far (%d failures)\n", cs.name, d.N,
              d.C, d.H, d.W, d.KH, d.KW, d.SH, d.SW, d.PH, d.PW, OH, OW, g_failures);
}

void CheckPoolSpecialValues() {
  const evnn::Context ctx = evnn::ThreadContext();
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // One 3×3 plane, one 2×2 window at stride 1 → 2×2 outputs.
  maxpool2d::Dims d{1, 1, 3, 3, 2, 2, 1, 1, 0, 0};
  const FVec x{-inf, -inf, 5, -inf, -inf, nan, 1, 1, 0};
  FVec y(4);
  std::vector<int32_t> idx(4);
  maxpool2d::Forward(ctx, d, x.data(), y.data(), idx.data());
  FVec y_ref;
  std::vector<int32_t> idx_ref;
  PoolRef(d, x, &y_ref, &idx_ref);
  expect(idx == idx_ref, "maxpool2d −∞/NaN windows: argmax as PyTorch (first position for all −∞, NaN wins)");
  expect(std::isinf(y[0]) && y[0] < 0 && std::isnan(y[1]) && y[2] == 1.0f && std::isnan(y[3]),
         "maxpool2d −∞/NaN windows: values");
  expect(idx[0] == 0 && idx[1] == 5 && idx[2] == 6 && idx[3] == 5,
         "maxpool2d all −∞ window picks its first position; NaN beats 5; the first of two equal 1s");
}

void CheckRelu() {
  const evnn::Context ctx = evnn::ThreadContext();
  Rng rng(99);
  FVec x = to_f(random_vec(rng, 200003, 1.0));  // more than one chunk of the thread split
  x[5] = 0.0f;
  x[6] = std::numeric_limits<float>::quiet_NaN();
  FVec y(x.size()), dy = to_f(random_vec(rng, x.size(), 1.0)), dx(x.size());
  evnn::set_num_threads(2);
  evnn::relu::Forward(ctx, x.size(), x.data(), y.data());
  evnn::relu::Backward(ctx, y.size(), y.data(), dy.data(), dx.data());
  bool fwd = std::isnan(y[6]), bwd = dx[6] == 0.0f;
  for (size_t i = 0; i < x.size(); ++i) {
    if (i == 6) continue;
    fwd = fwd && y[i] == (x[i] > 0 ? x[i] : 0.0f);
    bwd = bwd && dx[i] == (x[i] > 0 ? dy[i] : 0.0f);
  }
  expect(fwd, "relu forward is max(x, 0), NaN kept");
  expect(bwd, "relu backward passes dy where y > 0 only (not at 0, not at NaN)");
  FVec inplace = x;
  evnn::relu::Forward(ctx, inplace.size(), inplace.data(), inplace.data());
  expect(bitwise_equal(inplace, y), "relu forward in place equals out of place");
}

void CheckValidation() {
  const evnn::Context ctx = evnn::ThreadContext();
  float buf[64] = {0};
  expect_throws([&] { conv2d::Forward(ctx, conv2d::Dims{1, 1, 4, 4, 1, 5, 5, 1, 1, 0, 0}, buf, buf, nullptr, buf); },
                "larger than the padded input", "conv2d kernel larger than the input");
  expect_throws([&] { conv2d::Forward(ctx, conv2d::Dims{1, 1, 4, 4, 1, 3, 3, 0, 1, 0, 0}, buf, buf, nullptr, buf); },
                "SH must be >= 1", "conv2d zero stride");
  expect_throws([&] { conv2d::Forward(ctx, conv2d::Dims{1, 1, 4, 4, 1, 3, 3, 1, 1, -1, 0}, buf, buf, nullptr, buf); },
                "PH must be >= 0", "conv2d negative padding");
  expect_throws([&] { maxpool2d::Forward(ctx, maxpool2d::Dims{1, 1, 4, 4, 3, 3, 2, 2, 2, 0}, buf, buf, nullptr); },
                "at most half the window", "maxpool2d padding above half the window");
  expect_throws([&] { maxpool2d::Forward(ctx, maxpool2d::Dims{1, 1, 2, 2, 3, 3, 2, 2, 0, 0}, buf, buf, nullptr); },
                "larger than the padded input", "maxpool2d window larger than the input");
  {
    conv2d::Options relu;
    relu.relu = true;
    expect_throws([&] { conv2d::Backward(ctx, conv2d::Dims{1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0}, buf, buf, nullptr, buf, buf, buf, buf, relu); },
                  "needs the forward's output y", "conv2d fused ReLU backward without y");
  }
  int32_t bad[1] = {9};
  expect_throws([&] { maxpool2d::Backward(ctx, maxpool2d::Dims{1, 1, 2, 2, 2, 2, 2, 2, 0, 0}, bad, buf, buf); },
                "outside [0, H·W)", "maxpool2d backward argmax out of range");
  expect(conv2d::OutSize(128, 11, 4, 2) == 31 && conv2d::OutSize(31, 3, 2, 0) == 15 && conv2d::OutSize(3, 3, 2, 0) == 1,
         "output sizes of EvNN's front end at 128");
}

}  // namespace

int main() {
  const ConvCase conv_cases[] = {
      {"3x3 pad 1 odd", {3, 2, 13, 11, 5, 3, 3, 1, 1, 1, 1}},
      {"11x11 stride 4 pad 2", {3, 1, 37, 29, 4, 11, 11, 4, 4, 2, 2}},
      {"5x2 stride 2,3 pad 2,1", {2, 3, 9, 7, 3, 5, 2, 2, 3, 2, 1}},
      {"stride above kernel", {2, 2, 10, 11, 3, 2, 2, 3, 3, 0, 0}},
      {"3x3 input 3x3 kernel", {5, 4, 3, 3, 6, 3, 3, 1, 1, 1, 1}},
      {"padded 1x1 input", {4, 6, 1, 1, 7, 3, 3, 1, 1, 1, 1}},
      {"kernel covers input", {3, 3, 5, 4, 2, 5, 4, 1, 1, 0, 0}},
      {"1x1 kernel", {2, 5, 6, 7, 3, 1, 1, 1, 1, 0, 0}},
      // Taps that only ever meet padding are cut: rows 0 and 4 of a 5×5 on two rows; all but the
      // centre on a padded 1×1 (above); none where a tap between used ones meets no input (stride
      // above the input size); all of them when every window lies in the padding (y = b).
      {"5x5 pad 2 on 2x3 (rows cut)", {3, 2, 2, 3, 4, 5, 5, 1, 1, 2, 2}},
      {"stride above a tiny input", {2, 2, 2, 2, 3, 3, 3, 3, 3, 2, 2}},
      {"window all padding", {2, 2, 1, 1, 5, 2, 2, 6, 6, 3, 3}},
  };
  uint64_t seed = 1;
  for (const ConvCase& c : conv_cases) CheckConvCase(c, seed++);

  const PoolCase pool_cases[] = {
      {"3/2 odd", {2, 3, 15, 13, 3, 3, 2, 2, 0, 0}, 0.0},
      {"3/2 relu ties", {2, 3, 15, 15, 3, 3, 2, 2, 0, 0}, 0.6},
      {"3/2 pad 1", {2, 2, 8, 9, 3, 3, 2, 2, 1, 1}, 0.3},
      {"2x3 stride 1,3 pad 1,1", {1, 2, 7, 10, 2, 3, 1, 3, 1, 1}, 0.5},
      {"3/3 floor remainder", {3, 1, 11, 10, 3, 3, 3, 3, 0, 0}, 0.0},
      {"3/2 on 3x3", {4, 5, 3, 3, 3, 3, 2, 2, 0, 0}, 0.5},
      {"all zeros", {1, 2, 7, 7, 3, 3, 2, 2, 0, 0}, 1.0},
      {"wide rows (two tiles of 64)", {2, 2, 5, 151, 3, 3, 2, 2, 0, 0}, 0.5},
  };
  for (const PoolCase& c : pool_cases) CheckPoolCase(c, seed++);
  CheckPoolSpecialValues();
  CheckRelu();
  CheckValidation();
  return summary();
}
