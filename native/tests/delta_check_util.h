// What the DeltaGRU and DeltaLSTM checks (delta_gru_check.cc, delta_lstm_check.cc) share on top of
// check_util.h: the problems (weights, x on an exact grid with repeats, the quantised variant), the
// float64 reference's delta and routing steps, the engine-side plumbing (options, the outputs of a
// run, both backward paths), the statistics checks, and the blocks of checks that are the same for
// both cells (engine vs reference over kernels × threads × chunks × backward paths, a bigger
// shape, qw, accumulation, 1 vs 2 threads bitwise, qa bit-exact, T = 0). Each check keeps its own
// reference maths (the cell's forward and BPTT), its engine calls and its cell-specific checks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "check_util.h"
#include "evnn/delta_gru.h"  // BackwardPath, Stats (shared by DeltaLSTM)
#include "evnn/fixed_point.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace evnn::check::delta {

using evnn::fixed_point::Format;
using Path = evnn::delta_gru::BackwardPath;
using Stats = evnn::delta_gru::Stats;

// Both backward paths, forced: every engine-vs-reference comparison runs each.
inline constexpr Path kPaths[] = {Path::kDense, Path::kEvents};
inline const char* path_name(Path p) {
  return p == Path::kDense ? "dense backward" : p == Path::kEvents ? "event backward" : "auto backward";
}

struct Quant {
  bool qa = false, qw = false;
  Format a{3, 5}, n{2, 6}, w{1, 7};
};

// A problem of either cell (gates = 3: GRU, 4: LSTM). dcN (the LSTM's last-cell gradient) is empty
// for the GRU.
template <class Dims>
struct DeltaProblem {
  Dims d;
  int gates = 3;
  Vec w_ih, w_hh, b_ih, b_hh, x, dy, dcN;
  double theta_x = 0, theta_h = 0;
  Quant q;
};

// Weights U(±wscale/√H); x on the grid k/16 in [-1, 1] (exact in float, so Δx and the ties
// |Δx| = Θx = 0.25 are exact), about a third of the entries repeating the previous step's value
// (Δx = 0 even at Θ = 0); dy (and with with_dcN, dcN) U(±1).
template <class Dims>
DeltaProblem<Dims> make_delta_problem(int gates, bool with_dcN, int T, int N, int C, int H, double tx, double th, uint64_t seed,
                           double wscale) {
  Rng rng(seed);
  DeltaProblem<Dims> p;
  p.d = {T, N, C, H};
  p.gates = gates;
  const double k = wscale / std::sqrt(double(std::max(H, 1)));
  p.w_ih = random_vec(rng, size_t(gates) * H * C, k);
  p.w_hh = random_vec(rng, size_t(gates) * H * H, k);
  p.b_ih = random_vec(rng, size_t(gates) * H, k);
  p.b_hh = random_vec(rng, size_t(gates) * H, k);
  p.x.assign(size_t(T) * N * C, 0);
  for (size_t i = 0; i < p.x.size(); ++i) {
    const size_t prev = i >= size_t(N) * C ? i - size_t(N) * C : i;
    if (prev != i && rng.u01() < 0.33) p.x[i] = p.x[prev];
    else p.x[i] = double(int64_t(rng.next() % 33) - 16) / 16.0;
  }
  p.dy = random_vec(rng, size_t(T) * N * H, 1.0);
  if (with_dcN) p.dcN = random_vec(rng, size_t(N) * H, 1.0);
  p.theta_x = tx, p.theta_h = th;
  return p;
}

// A problem for qa: weights and biases on the weight grid (2^-7), x anywhere in [-5, 5] (so its
// quantisation rounds and saturates) with repeats.
template <class P>
P quantised(P p, uint64_t seed, const Quant& q) {
  Rng rng(seed + 1000);
  const double k = std::min(0.99, 2.0 / std::sqrt(double(std::max(p.d.H, 1))));
  p.w_ih = grid_vec(rng, p.w_ih.size(), k, q.w.qf);
  p.w_hh = grid_vec(rng, p.w_hh.size(), k, q.w.qf);
  p.b_ih = grid_vec(rng, p.b_ih.size(), 0.6, q.w.qf);
  p.b_hh = grid_vec(rng, p.b_hh.size(), 0.6, q.w.qf);
  const size_t NC = size_t(p.d.N) * p.d.C;
  for (size_t i = 0; i < p.x.size(); ++i) {
    const size_t prev = i >= NC ? i - NC : i;
    p.x[i] = prev != i && rng.u01() < 0.3 ? p.x[prev] : double(float(rng.uniform(5.0)));
  }
  p.q = q;
  return p;
}

// ---- float64 reference pieces ------------------------------------------------------------

inline double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }
inline double Q(double v, const Format& f) { return quantize(v, f.qi, f.qf); }

// One entry's thresholded delta against its memory `hat`: passed on where |Δ| ≥ theta, the memory
// moved to v where |Δ| ≥ theta_update (the two differ only under qa, for the DeltaLSTM: Q(Θ) and
// Θ, as the reference's), or both as `held` says (non-null: an earlier run's mask, held fixed;
// training, one threshold). Writes the mask (0/1: the memory update) and |Δ| before the
// threshold; returns the Δ passed on (0 where zeroed).
inline double ref_delta(double v, double& hat, double theta, double theta_update, const double* held, double& mask,
                        double& abs_delta) {
  const double dl = v - hat;
  const bool keep = held ? *held != 0 : std::fabs(dl) >= theta;
  const bool update = held ? *held != 0 : std::fabs(dl) >= theta_update;
  mask = update, abs_delta = std::fabs(dl);
  if (update) hat = v;
  return keep ? dl : 0.0;
}

// One quantised reference run's trace of the deltas (copied from either cell's RefOut): the Δ
// passed on (px, ph), the memory-update masks, the memories after each step and |Δ| before the
// threshold, [T,N,C] and [T,N,H].
struct DeltaTrace {
  Vec px, mx, xhat, ax, ph, mh, hhat, ah;
};
template <class R>
DeltaTrace trace_of(const R& r) {
  return DeltaTrace{r.px, r.mx, r.xhat, r.ax, r.ph, r.mh, r.hhat, r.ah};
}

// The BPTT through x̂_t = m x_t + (1 − m) x̂_{t−1} (and ĥ): where the entry was updated (m = 1),
// the gradient carried in acc (dL/dx̂_t, from this step and later held ones) goes to the input
// (added to out) and acc restarts at 0.
inline void ref_route(double mask, double& acc, double& out) {
  if (mask != 0) out += acc, acc = 0;
}

// ---- engine plumbing -------------------------------------------------------------------------

struct EngineOut {
  FVec y, y_infer, cN, cN_infer, cache, dx, dw_ih, dw_hh, db_ih, db_hh;
  Stats st, st_infer, st_back;
};

struct RunOpts {
  size_t chunk_floats = 0;
  bool want_dx = true, want_dcN = true, training = true;  // training = false: the inference forward only
  int backward_calls = 1;
  const FVec* preset = nullptr;
  Path path = Path::kAuto;
};

template <class Options, class P>
Options options_of(const P& p, const RunOpts& ro) {
  Options o;
  o.theta_x = float(p.theta_x), o.theta_h = float(p.theta_h), o.chunk_floats = ro.chunk_floats;
  o.qa = p.q.qa, o.qw = p.q.qw, o.activation = p.q.a, o.nonlinear = p.q.n, o.weight = p.q.w;
  o.backward = ro.path;
  return o;
}

// chunk_floats of a time chunk of `steps` steps (0: the default budget).
template <class P>
size_t chunk_of(const P& p, int steps) {
  return size_t(steps) * p.d.N * std::max(p.gates * p.d.H, p.d.C);
}

// The parameter-gradient buffers of a run (zeros, or the preset's values), as the Grads the cell takes.
template <class P>
void preset_grads(const P& p, const RunOpts& ro, EngineOut& o) {
  const size_t G = size_t(p.gates) * p.d.H;
  preset_grad(o.dw_ih, G * p.d.C, 0, ro.preset);
  preset_grad(o.dw_hh, G * p.d.H, 1, ro.preset);
  preset_grad(o.db_ih, G, 2, ro.preset);
  preset_grad(o.db_hh, G, 3, ro.preset);
}

// The engine's masks from the cache (both cells: x̂ [T,N,C], mx [T,N,C], ĥ [T,N,H], mh [T,N,H] first).
template <class P>
std::pair<Vec, Vec> cache_masks(const P& p, const FVec& cache) {
  const size_t TNC = size_t(p.d.T) * p.d.N * p.d.C, TNH = size_t(p.d.T) * p.d.N * p.d.H;
  return {Vec(cache.begin() + TNC, cache.begin() + 2 * TNC), Vec(cache.begin() + 2 * TNC + TNH, cache.begin() + 2 * TNC + 2 * TNH)};
}

// ---- statistics ------------------------------------------------------------------------------

// The forward's counters against the reference's counts along the engine's masks: exact zeros of
// Δx and Δh, their fractions, MACs = gates·H per nonzero Δ, the dense ones; training and inference
// forwards count alike.
template <class P>
void expect_forward_stats(const P& p, const EngineOut& eo, int64_t dx_zeros, int64_t dh_zeros, int64_t nz,
                          const std::string& tag) {
  const auto& d = p.d;
  const int64_t tnc = int64_t(d.T) * d.N * d.C, tnh = int64_t(d.T) * d.N * d.H;
  const double G = double(p.gates) * d.H;
  const bool ok = eo.st.dx_zeros == dx_zeros && eo.st.dx_total == tnc && eo.st.dh_zeros == dh_zeros &&
                  eo.st.dh_total == tnh && eo.st.macs == double(nz) * G && eo.st.macs_dense == double(tnc + tnh) * G &&
                  std::fabs(eo.st.zero_both - double(dx_zeros + dh_zeros) / double(tnc + tnh)) < 1e-15 &&
                  eo.st.dx_zeros == eo.st_infer.dx_zeros && eo.st.dh_zeros == eo.st_infer.dh_zeros;
  expect(ok, tag + ": zero counts and MACs (engine dx0=" + std::to_string(eo.st.dx_zeros) + " dh0=" +
                 std::to_string(eo.st.dh_zeros) + ", ref " + std::to_string(dx_zeros) + "/" + std::to_string(dh_zeros) + ")");
}

// The backward's MACs: macs_dense = gates·H·T·N·(2H + C·(dx ? 2 : 1)) always; the dense path runs
// exactly those, the event path gates·H per nonzero Δ (the forward's events) plus gates·H per
// update routed (h updates after step 0; x updates when dx is asked for), counted from the cache's
// masks; auto runs one of the two.
template <class P>
void expect_backward_stats(const P& p, const EngineOut& eo, const RunOpts& ro, const std::string& tag) {
  const auto& d = p.d;
  const double G = double(p.gates) * d.H, GT = G * d.T * d.N;
  const double dense = GT * d.H * 2 + GT * d.C * (ro.want_dx ? 2 : 1);
  const auto [mx, mh] = cache_masks(p, eo.cache);
  double ux = 0, uh = 0;
  for (double m : mx) ux += m != 0;
  for (size_t i = size_t(d.N) * d.H; i < mh.size(); ++i) uh += mh[i] != 0;
  const double events = eo.st.macs + G * ((ro.want_dx && d.C > 0 ? ux : 0) + uh);
  const double want = ro.path == Path::kDense ? dense : events;
  const bool ok = eo.st_back.macs_dense == dense &&
                  (ro.path == Path::kAuto ? (eo.st_back.macs == dense || eo.st_back.macs == events) : eo.st_back.macs == want) &&
                  eo.st_back.dx_zeros == 0 && eo.st_back.dh_zeros == 0;
  expect(ok, tag + ": backward MACs " + std::to_string(eo.st_back.macs) + " of " + std::to_string(eo.st_back.macs_dense) +
                 " (expected " + std::to_string(want) + " of " + std::to_string(dense) + ")");
}

// ---- blocks of checks shared by both cells ---------------------------------------------------

struct Shape {
  int T, N, C, H;
};

inline std::string shape_tag(const Shape& s) {
  return "T=" + std::to_string(s.T) + " N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) + " H=" + std::to_string(s.H);
}

// compare(p, tag, run) for each forced backward path; the largest error.
template <class P, class Compare>
double compare_paths(const P& p, const std::string& tag, RunOpts run, const Compare& compare) {
  double worst = 0;
  for (Path path : kPaths) {
    run.path = path;
    worst = std::max(worst, compare(p, tag + " [" + path_name(path) + "]", run));
  }
  return worst;
}

// Engine vs reference for every GEMM kernel × thread count × time chunking × backward path, each Θ
// and shape (make(shape, Θx, Θh, seed) gives the problem).
template <class Make, class Compare>
void check_sweep(const std::vector<Shape>& shapes, const std::vector<std::pair<double, double>>& thetas, const Make& make,
                 const Compare& compare) {
  for_each_config([&](evnn::GemmKernel k, int threads, int chunk_steps) {
    double worst = 0;
    uint64_t seed = 1;
    for (const Shape& s : shapes)
      for (const auto& th : thetas) {
        const auto p = make(s, th.first, th.second, seed++, 1.0);
        RunOpts ro;
        ro.chunk_floats = chunk_of(p, chunk_steps);
        const std::string tag = config_tag(k, threads, chunk_steps) + " " + shape_tag(s) + " thx=" + std::to_string(th.first) +
                                " thh=" + std::to_string(th.second);
        worst = std::max(worst, compare_paths(p, tag, ro, compare));
      }
    std::printf("engine vs reference [%s, both backward paths]: max scaled err %.2e\n",
                config_label(k, threads, chunk_steps).c_str(), worst);
  });
}

// A bigger shape with thresholds (one chunk, and 3-step chunks without dx), and batch 1 with enough
// events that the forward splits each step's unit blocks over 2 and 3 threads, on both paths; then
// the automatic choice: the event path where the updates are sparse, the dense one at Θ = 0.
template <class Make, class Compare, class Run>
void check_bigger(const std::string& kn, const Make& make, const Compare& compare, const Run& run_engine) {
  const Shape s{20, 16, 96, 128};
  const auto p = make(s, 0.25, 0.05, 902, 1.0);
  double e = compare_paths(p, kn + " " + shape_tag(s), RunOpts(), compare);
  RunOpts ro;
  ro.chunk_floats = chunk_of(p, 3);
  ro.want_dx = false;
  e = std::max(e, compare_paths(p, kn + " 3-step chunks no dx " + shape_tag(s), ro, compare));
  const EngineOut eo = run_engine(p, RunOpts());
  std::printf("engine vs reference [%s, %s Θ=(0.25,0.05)]: max scaled err %.2e; zero Δx %.3f, Δh %.3f, both %.3f, "
              "MACs %.3g of %.3g; auto backward MACs %.3g of %.3g\n",
              kn.c_str(), shape_tag(s).c_str(), e, eo.st.zero_dx, eo.st.zero_dh, eo.st.zero_both, eo.st.macs,
              eo.st.macs_dense, eo.st_back.macs, eo.st_back.macs_dense);
  // Batch 1 with enough events per step that the forward splits its unit blocks over the threads.
  const Shape b1{3, 1, 8, 700};
  double e1 = 0;
  for (int threads : {2, 3}) {
    evnn::set_num_threads(threads);
    for (const auto& th : {std::pair<double, double>{0, 0}, {0.25, 0.05}})
      e1 = std::max(e1, compare_paths(make(b1, th.first, th.second, 905, 1.0), kn + " threads=" + std::to_string(threads) + " " +
                                          shape_tag(b1) + " thx=" + std::to_string(th.first), RunOpts(), compare));
  }
  evnn::set_num_threads(2);
  std::printf("engine vs reference [%s, %s, 2 and 3 threads, both backward paths]: max scaled err %.2e\n", kn.c_str(),
              shape_tag(b1).c_str(), e1);
  const auto sparse = make(s, 0.5, 0.3, 903, 1.0), dense = make(s, 0.0, 0.0, 904, 1.0);
  const EngineOut a = run_engine(sparse, RunOpts()), b = run_engine(dense, RunOpts());
  expect(a.st_back.macs < 0.5 * a.st_back.macs_dense, kn + ": auto takes the event backward at Θ=(0.5,0.3) (" +
                                                          std::to_string(a.st_back.macs / a.st_back.macs_dense) + " of the dense MACs)");
  expect(b.st_back.macs == b.st_back.macs_dense, kn + ": auto takes the dense backward at Θ=0");
}

// qw in training: the memory starts Q_w of the bias sums, some saturating (saturated(p) counts
// them), on both paths with 2-step chunks.
template <class Make, class Compare, class Saturated>
void check_qw(const std::string& kn, const Make& make, const Compare& compare, const Saturated& saturated) {
  double e = 0;
  int64_t sat = 0;
  uint64_t seed = 500;
  for (const Shape& s : {Shape{5, 2, 7, 3}, Shape{7, 4, 9, 11}, Shape{3, 5, 17, 33}}) {
    auto p = make(s, 0.25, 0.05, seed++, 3.0);
    p.q.qw = true;
    sat += saturated(p);
    RunOpts ro;
    ro.chunk_floats = chunk_of(p, 2);
    e = std::max(e, compare_paths(p, kn + " qw " + shape_tag(s), ro, compare));
  }
  expect(sat > 0, kn + " qw: some bias sums saturate");
  std::printf("qw engine vs reference [%s, both backward paths]: max scaled err %.2e (%lld saturated sums)\n", kn.c_str(), e,
              static_cast<long long>(sat));
}

// Backward adds into preset gradients (R + g) and two calls double them, dx written not
// accumulated, on both paths.
template <class Make, class Run>
void check_accumulation(const std::string& kn, const Make& make, const Run& run_engine) {
  const auto p = make(Shape{6, 3, 7, 10}, 0.25, 0.1, 907, 1.0);
  Rng rng(908);
  const FVec R = to_f(random_vec(rng, 1009, 2.0));
  for (Path path : kPaths) {
    RunOpts plain;
    plain.path = path;
    const EngineOut once = run_engine(p, plain);
    RunOpts pre = plain;
    pre.preset = &R;
    const EngineOut added = run_engine(p, pre);
    RunOpts chunked = plain;
    chunked.chunk_floats = chunk_of(p, 2);
    const EngineOut once_c = run_engine(p, chunked);
    RunOpts twice = chunked;
    twice.backward_calls = 2;
    const EngineOut doubled = run_engine(p, twice);
    const double e_add = std::max({scaled_err(added.dw_ih, shifted(once.dw_ih, R, 0)), scaled_err(added.dw_hh, shifted(once.dw_hh, R, 1)),
                                   scaled_err(added.db_ih, shifted(once.db_ih, R, 2)), scaled_err(added.db_hh, shifted(once.db_hh, R, 3))});
    const double e_dbl = std::max({scaled_err(doubled.dw_ih, times2(once_c.dw_ih)), scaled_err(doubled.dw_hh, times2(once_c.dw_hh)),
                                   scaled_err(doubled.db_ih, times2(once_c.db_ih)), scaled_err(doubled.db_hh, times2(once_c.db_hh))});
    const std::string what = kn + " " + path_name(path);
    expect(bitwise_equal(doubled.dx, once_c.dx) && bitwise_equal(added.dx, once.dx), what + ": dx is written, not accumulated");
    expect_accumulates(what, e_add, e_dbl);
  }
}

// 1 vs 2 threads bitwise (builtin GEMM), on both paths: N·gates·H and N·H above the grains with
// segments starting mid-row (N = 3, H = 3001), batch 1, where the forward's unit blocks split over
// the threads (H = 3001), and small weights, where the forward runs each thread's rows through the
// whole sequence (N = 3, H = 40) — or, at batch 1, that on 1 thread against the step-wise split on 2.
template <class Make, class Run>
void check_threads_bitwise(const Make& make, const Run& run_engine) {
  evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
  for (const Shape& s : {Shape{3, 3, 5, 3001}, Shape{3, 1, 5, 3001}, Shape{6, 3, 5, 40}, Shape{6, 1, 5, 40}})
    for (const auto& th : {std::pair<double, double>{0, 0}, {0.25, 0.02}}) {
      const auto p = make(s, th.first, th.second, 910, 1.0);
      for (int steps : {0, 1})
        for (Path path : kPaths) {
          RunOpts ro;
          ro.chunk_floats = chunk_of(p, steps);
          ro.path = path;
          const auto [a, b] = on_1_and_2_threads([&] { return run_engine(p, ro); });
          const bool same = bitwise_equal(a.y, b.y) && bitwise_equal(a.y_infer, b.y_infer) && bitwise_equal(a.cN, b.cN) &&
                            bitwise_equal(a.cache, b.cache) && bitwise_equal(a.dx, b.dx) && bitwise_equal(a.dw_ih, b.dw_ih) &&
                            bitwise_equal(a.dw_hh, b.dw_hh) && bitwise_equal(a.db_ih, b.db_ih) &&
                            bitwise_equal(a.db_hh, b.db_hh) && a.st.dh_zeros == b.st.dh_zeros && a.st_back.macs == b.st_back.macs;
          const std::string what = "threads 1 vs 2 [" + shape_tag(s) + " Θ=(" + std::to_string(th.first) + "," +
                                   std::to_string(th.second) + "), " + (steps ? "1-step chunks" : "one chunk") + ", " +
                                   path_name(path) + "]";
          expect(same, what + " bitwise equal");
          std::printf("%s: %s\n", what.c_str(), same ? "bitwise equal" : "DIFFER");
        }
    }
}

// qa: bit-exact inference against the quantised reference on 1..3 threads (compare_quantised(p,
// tag) checks one problem; make_q(shape, Θx, Θh, seed, quant) gives it), with the default formats,
// the reference's own Q8.8 activations / Q2.4 gates and, where qa_only, qa without qw; then the
// thresholds on hand values and on a problem where they decide Δh, and qa with a cache refused.
// update_at_theta: the cell's reference moves its memories at the raw Θ (the DeltaLSTM) rather
// than at Q(Θ) (the DeltaGRU); both zero with Q(Θ). trace(p): the reference's DeltaTrace.
template <class MakeQ, class CompareQ, class Trace, class Run>
void check_qa(const std::vector<Shape>& shapes, bool qa_only, bool update_at_theta, const MakeQ& make_q,
              const CompareQ& compare_quantised, const Trace& trace, const Run& run_engine) {
  Quant q;
  q.qa = q.qw = true;
  Quant wide = q;
  wide.a = {8, 8}, wide.n = {2, 4};
  Quant aonly = q;  // qa without qw (for the GRU: M_hn's start is still quantised, activation format)
  aonly.qw = false;
  for (int threads : {1, 2, 3}) {
    evnn::set_num_threads(threads);
    uint64_t seed = 600;
    for (const Shape& s : shapes)
      for (const auto& th : {std::pair<double, double>{0, 0}, {0.1, 0.05}, {0.3, 0.2}}) {
        const std::string tag = "qa threads=" + std::to_string(threads) + " " + shape_tag(s) + " thx=" + std::to_string(th.first);
        compare_quantised(make_q(s, th.first, th.second, seed, q), tag);
        compare_quantised(make_q(s, th.first, th.second, seed + 50, wide), tag + " Q8.8/Q2.4");
        if (qa_only) compare_quantised(make_q(s, th.first, th.second, seed + 90, aonly), tag + " qa only");
        ++seed;
      }
  }
  evnn::set_num_threads(2);
  // Q(Θ) zeroes: Θx = 0.1 quantises to 0.09375, so a step |Δx| = 0.09375 is passed on. The DeltaGRU
  // moves x̂ with it (Q(Θ) updates too: the next, equal x has Δx = 0); the DeltaLSTM does not
  // (0.09375 < Θ = 0.1), so x̂ stays 0.5 and the same Δx = 0.09375 is passed again at t = 2.
  auto p = make_q(Shape{3, 1, 1, 1}, 0.1, 0.0, 640, q);
  p.x = {0.5, 0.59375, 0.59375};
  {
    const DeltaTrace r = trace(p);
    const bool got = update_at_theta
                         ? r.px == Vec{0.5, 0.09375, 0.09375} && r.mx == Vec{1, 0, 0} && r.xhat == Vec{0.5, 0.5, 0.5}
                         : r.px == Vec{0.5, 0.09375, 0.0} && r.mx == Vec{1, 1, 0} && r.xhat == Vec{0.5, 0.59375, 0.59375};
    expect(got, update_at_theta ? "qa reference: |Δx| = Q(Θx) = 0.09375 < Θx = 0.1 is kept and does NOT update x̂ "
                                  "(passed again the next step)"
                                : "qa reference: |Δx| = Q(Θx) = 0.09375 is kept and updates x̂");
  }
  compare_quantised(p, "qa: |Δx| = Q(Θx) < Θx");
  // Θx = 0.09375 is on the grid (Q(Θ) = Θ): kept and x̂ moves, in both cells.
  p.theta_x = 0.09375;
  {
    const DeltaTrace r = trace(p);
    expect(r.px == Vec{0.5, 0.09375, 0.0} && r.mx == Vec{1, 1, 0} && r.xhat == Vec{0.5, 0.59375, 0.59375},
           "qa reference: |Δx| = Θx = Q(Θx) = 0.09375 is kept and updates x̂");
  }
  compare_quantised(p, "qa: |Δx| = Θx = Q(Θx)");
  // Δh: h lies on the Q3.5 grid, so at Θh = 0.1 (Q(Θh) = 0.09375) the steps |Δh| = 0.09375 are the
  // ones the rule decides (Θx = 0: every Δx passed and moving x̂ either way). Each is passed on;
  // ĥ moves with it in the DeltaGRU only.
  {
    const auto ph = make_q(Shape{24, 2, 3, 6}, 0.0, 0.1, 642, q);
    const DeltaTrace r = trace(ph);
    int64_t between = 0, as_rule = 0;
    for (size_t i = 0; i < r.ah.size(); ++i)
      if (r.ah[i] >= 0.09375 && r.ah[i] < 0.1) {
        ++between;
        as_rule += r.ph[i] != 0 && r.mh[i] == (update_at_theta ? 0.0 : 1.0);
      }
    std::printf("qa Θh = 0.1: %lld steps with |Δh| in [Q(Θh), Θh)\n", static_cast<long long>(between));
    expect(between > 0 && as_rule == between,
           std::string("qa reference: |Δh| in [Q(Θh), Θh) is passed on and ") +
               (update_at_theta ? "does NOT update ĥ" : "updates ĥ") + " (" + std::to_string(as_rule) + " of " +
               std::to_string(between) + ")");
    compare_quantised(ph, "qa: |Δh| in [Q(Θh), Θh)");
  }
  const auto pq = make_q(Shape{3, 2, 4, 5}, 0.1, 0.1, 641, q);
  expect_throws([&] { run_engine(pq, RunOpts()); }, "inference only", "qa with a cache");
}

// qa's verdict on one problem: the inference forward's y (and cN, when the cell has one) equal the
// float64 quantised reference exactly, y lies on the activation grid and in range, and the zero
// counts and MACs are the reference's.
template <class P>
void expect_quantised(const P& p, const EngineOut& eo, const Vec& y, const Vec& cN, int64_t dx_zeros, int64_t dh_zeros,
                      int64_t nz, const std::string& tag) {
  const double ey = scaled_err(eo.y_infer, y), ec = cN.empty() ? 0.0 : scaled_err(eo.cN_infer, cN);
  expect(ey == 0 && ec == 0, tag + ": y" + (cN.empty() ? "" : " and cN") + " equal the quantised reference exactly (err " +
                                 std::to_string(ey) + (cN.empty() ? "" : ", " + std::to_string(ec)) + ")");
  const double step = std::ldexp(1.0, -p.q.a.qf), lo = -std::ldexp(1.0, p.q.a.qi - 1), hi = -lo - step;
  bool grid = true;
  for (float v : eo.y_infer) grid = grid && v >= lo && v <= hi && std::nearbyint(double(v) / step) * step == v;
  expect(grid, tag + ": y on the activation grid and in range");
  expect(eo.st_infer.dx_zeros == dx_zeros && eo.st_infer.dh_zeros == dh_zeros &&
             eo.st_infer.macs == double(nz) * p.gates * p.d.H,
         tag + ": zero counts and MACs equal the quantised reference's");
}

// T = 0: the parameter gradients are left as given, on both paths.
template <class Make, class Run>
EngineOut check_t0(const Make& make, const Run& run_engine) {
  const auto p = make(Shape{0, 3, 4, 5}, 0.1, 0.1, 905, 1.0);
  Rng rng(906);
  const FVec R = to_f(random_vec(rng, 97, 1.0));
  EngineOut o;
  for (Path path : kPaths) {
    RunOpts ro;
    ro.preset = &R;
    ro.path = path;
    o = run_engine(p, ro);
    expect(equals_preset(o.dw_ih, R, 0) && equals_preset(o.dw_hh, R, 1) && equals_preset(o.db_ih, R, 2) &&
               equals_preset(o.db_hh, R, 3),
           std::string("T=0: parameter gradients unchanged [") + path_name(path) + "]");
  }
  return o;
}

}  // namespace evnn::check::delta
