// What the standalone float64-reference checks (gru_check, lstm_check, egru_check, delta_gru_check,
// delta_lstm_check) share: the pass/fail counters with expect() and the summary line, a
// reproducible RNG, float-representable random tensors (and fixed-point grid ones with a float64
// quantizer), the float32 conversion and error measures, central-difference probing, the
// gradient presets of the accumulation checks, and the sweep over GEMM kernels × thread counts ×
// time-chunk sizes. Each check keeps its own reference maths (forward pass, BPTT, loss), its
// problems and its tolerances.
//
// A named namespace of inline functions and C++17 inline variables, not an anonymous namespace:
// inline definitions are one entity however many translation units include the header (one pair
// of counters per program, never a silent copy per file), and helpers a check does not call raise
// no -Wunused-function warnings.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace evnn::check {

using Vec = std::vector<double>;
using FVec = std::vector<float>;

// ---- counting checks -----------------------------------------------------------------------

inline int g_failures = 0;
inline int g_checks = 0;

inline void expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// fn() must throw std::invalid_argument whose message contains `needle` (one check either way;
// any other exception escapes and fails the run).
template <typename Fn>
void expect_throws(const Fn& fn, const std::string& needle, const std::string& what) {
  try {
    fn();
    expect(false, what + ": no exception");
  } catch (const std::invalid_argument& e) {
    expect(std::string(e.what()).find(needle) != std::string::npos,
           what + ": message '" + e.what() + "' lacks '" + needle + "'");
  }
}

// Prints "<n> checks, <m> failed" and returns the exit status: 0 only when every check passed.
inline int summary() {
  std::printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

// ---- random problems -----------------------------------------------------------------------

struct Rng {  // splitmix64: reproducible without <random>'s implementation-defined distributions
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double u01() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double a) { return (u01() * 2.0 - 1.0) * a; }
};

// n values uniform in [-a, a], each exactly representable in float (so the float32 engine and the
// float64 reference see the same inputs).
inline Vec random_vec(Rng& rng, size_t n, double a) {
  Vec v(n);
  for (auto& e : v) e = double(float(rng.uniform(a)));
  return v;
}

inline FVec to_f(const Vec& v) { return FVec(v.begin(), v.end()); }

// ---- fixed point in float64 (the quantised references) -----------------------------------

// Q(qi.qf)(x) in float64: round half to even (nearbyint in the default rounding mode) of x·2^qf,
// clamped to [−2^(qi+qf−1), 2^(qi+qf−1) − 1], over 2^qf — fixed_point.h's Quantize, written
// again so a reference does not share the engine's code.
inline double quantize(double x, int qi, int qf) {
  const double power = std::ldexp(1.0, qf), clip = std::ldexp(1.0, qi + qf - 1);
  return std::min(std::max(std::nearbyint(x * power), -clip), clip - 1.0) / power;
}

// 1 where quantize's clamp does not saturate (its straight-through gradient), else 0.
inline double pass_through(double x, int qi, int qf) {
  const double v = std::nearbyint(x * std::ldexp(1.0, qf)), clip = std::ldexp(1.0, qi + qf - 1);
  return v >= -clip && v <= clip - 1.0 ? 1.0 : 0.0;
}

// n values k·2^-qf with k uniform in [−⌊a·2^qf⌋, ⌊a·2^qf⌋] (weights on a fixed-point grid, so
// the products and sums of a quantised forward are exact in float32 as in float64).
inline Vec grid_vec(Rng& rng, size_t n, double a, int qf) {
  const int64_t k = int64_t(std::floor(a * std::ldexp(1.0, qf)));
  Vec v(n);
  for (auto& e : v) e = std::ldexp(double(int64_t(rng.next() % uint64_t(2 * k + 1)) - k), -qf);
  return v;
}

// ---- comparing -----------------------------------------------------------------------------

// Largest |a - b| relative to the reference tensor's largest magnitude, floored at float32's unit
// roundoff 2^-24 only so an exactly-zero reference does not demand bit-exact zeros. Relative at
// every scale: a tensor of small gradients is judged like any other (no "1 +" absolute floor).
// A size mismatch or a non-finite difference is infinitely wrong.
inline double scaled_err(const FVec& a, const Vec& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0x1.0p-24, e = 0.0;
  for (double v : b) m = std::max(m, std::fabs(v));
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::fabs(double(a[i]) - b[i]);
    e = std::max(e, std::isfinite(diff) ? diff : std::numeric_limits<double>::infinity());
  }
  return e / m;
}
inline double scaled_err(const FVec& a, const FVec& b) { return scaled_err(a, Vec(b.begin(), b.end())); }

// One check: scaled_err(a, b) <= tol, reported as "<what> err <e>". Returns the error.
inline double expect_close(const FVec& a, const Vec& b, double tol, const std::string& what) {
  const double e = scaled_err(a, b);
  expect(e <= tol, what + " err " + std::to_string(e));
  return e;
}

template <typename V>
bool bitwise_equal(const V& a, const V& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0);
}

// ---- the reference's gradient against central differences ----------------------------------

// probe(param, grad, name) compares grad with central differences (step 1e-6) of loss() on up to
// 40 entries of param (all of them when there are at most 40, else 40 drawn from the RNG), with
// the relative error |fd − grad| / max(1, |fd|); entries above 1e-7 are printed. `worst` is the
// largest error over every probe. loss() must read param through the same object (it is changed
// in place and restored).
template <typename Loss>
struct FdProbe {
  Rng rng;
  Loss loss;
  double worst = 0;

  void operator()(Vec& param, const Vec& grad, const char* name) {
    const size_t n = param.size(), limit = 40;
    for (size_t s = 0; s < std::min(n, limit); ++s) {
      const size_t i = n <= limit ? s : size_t(rng.next() % n);
      const double keep = param[i], eps = 1e-6;
      param[i] = keep + eps;
      const double lp = loss();
      param[i] = keep - eps;
      const double lm = loss();
      param[i] = keep;
      const double fd = (lp - lm) / (2 * eps);
      const double err = std::fabs(fd - grad[i]) / std::max(1.0, std::fabs(fd));
      worst = std::max(worst, err);
      if (err > 1e-7) std::printf("  fd %s[%zu]: fd=%.10g ref=%.10g\n", name, i, fd, grad[i]);
    }
  }
};

template <typename Loss>
FdProbe<Loss> fd_probe(uint64_t seed, Loss loss) {
  return FdProbe<Loss>{Rng(seed), std::move(loss)};
}

// The summary line and the one check of a reference's finite-difference comparison: the largest
// error over every probe at most 1e-7 (the level above which FdProbe prints an entry).
inline void expect_fd_agrees(double worst, const std::string& how = "") {
  std::printf("reference vs finite differences%s: max rel err %.2e\n", how.c_str(), worst);
  expect(worst < 1e-7, "float64 reference gradient matches finite differences");
}

// ---- accumulated gradients -----------------------------------------------------------------

// A parameter-gradient buffer of n entries: zeros, or with `preset` the entries
// R[(off + i) % |R|] (a different offset per tensor, and R of a prime length, so the tensors differ).
inline void preset_grad(FVec& v, size_t n, size_t off, const FVec* preset) {
  v.assign(n, 0.0f);
  if (preset)
    for (size_t i = 0; i < n; ++i) v[i] = (*preset)[(off + i) % preset->size()];
}

// g + the preset preset_grad gives a tensor at offset `off`.
inline FVec shifted(const FVec& g, const FVec& R, size_t off) {
  FVec s(g);
  for (size_t i = 0; i < s.size(); ++i) s[i] += R[(off + i) % R.size()];
  return s;
}

inline FVec times2(const FVec& g) {
  FVec s(g);
  for (float& v : s) v *= 2.0f;
  return s;
}

// The accumulation checks' verdict, two checks and a summary line: e_add, the scaled error of
// Backward into preset gradients R against R + g, and e_dbl, of two Backward calls against 2g,
// each at most 1e-6.
inline void expect_accumulates(const std::string& kernel, double e_add, double e_dbl) {
  expect(e_add <= 1e-6, kernel + ": Backward adds to preset gradients (err " + std::to_string(e_add) + ")");
  expect(e_dbl <= 1e-6, kernel + ": two Backward calls double the gradients (err " + std::to_string(e_dbl) + ")");
  std::printf("accumulation [%s]: preset + g err %.2e, two calls vs 2g err %.2e\n", kernel.c_str(), e_add, e_dbl);
}

// Whether v still holds exactly the preset preset_grad gave it at offset `off`.
inline bool equals_preset(const FVec& v, const FVec& R, size_t off) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != R[(off + i) % R.size()]) return false;
  return true;
}

// ---- kernels × threads × chunks ------------------------------------------------------------

// Every GEMM kernel compiled in.
inline std::vector<evnn::GemmKernel> gemm_kernels() {
  std::vector<evnn::GemmKernel> kernels{evnn::GemmKernel::Builtin};
  if (evnn::gemm_has_openblas()) kernels.push_back(evnn::GemmKernel::OpenBLAS);
  return kernels;
}

// Calls body(kernel, threads, chunk_steps) with each GEMM kernel set, on 1, 2 and 3 threads, and
// time chunks of every step count (0: the default budget, one chunk for the checks' small shapes;
// 1, 2, 3 steps, so uneven last chunks and the t = 0 chunk boundary are exercised). The caller
// turns chunk_steps into Options::chunk_floats. Leaves 2 threads set.
template <typename Body>
void for_each_config(const Body& body) {
  for (evnn::GemmKernel k : gemm_kernels()) {
    evnn::set_gemm_kernel(k);
    for (int threads : {1, 2, 3}) {
      evnn::set_num_threads(threads);
      for (int chunk_steps : {0, 1, 2, 3}) body(k, threads, chunk_steps);
    }
  }
  evnn::set_num_threads(2);
}

// run() on 1 thread, then on 2 (left set): the pair the thread-independence checks compare bitwise.
template <typename Run>
auto on_1_and_2_threads(const Run& run) {
  evnn::set_num_threads(1);
  auto one = run();
  evnn::set_num_threads(2);
  auto two = run();
  return std::make_pair(std::move(one), std::move(two));
}

// "builtin threads=2 chunk_steps=1": a configuration in a check's failure message.
inline std::string config_tag(evnn::GemmKernel k, int threads, int chunk_steps) {
  return std::string(evnn::gemm_kernel_name(k)) + " threads=" + std::to_string(threads) +
         " chunk_steps=" + std::to_string(chunk_steps);
}

// "builtin, 2 threads, 1-step chunks": a configuration in a summary line.
inline std::string config_label(evnn::GemmKernel k, int threads, int chunk_steps) {
  return std::string(evnn::gemm_kernel_name(k)) + ", " + std::to_string(threads) + " threads, " +
         (chunk_steps == 0 ? std::string("one time chunk") : std::to_string(chunk_steps) + "-step chunks");
}

}  // namespace evnn::check
