// Standalone check of evnn::gemm (no Node), for machines where the vitest suite cannot run (e.g.
// to exercise the AVX-512 micro-kernel on a CPU that has it): every compiled kernel against a
// float64 product on edge shapes and all transposes, beta = 0 over NaN, alpha = 0, and the
// builtin kernel's bitwise independence of the thread count. The few-row products that gemm
// sends to gemm_skinny whichever kernel is selected (use_skinny in src/cpu/gemm_builtin.h) get
// their own shapes (vector and panel tails, K below and around the vector width, padded leading
// dimensions) under both kernels, and must be bitwise the same for both kernels and any thread
// count. Exit status 0 only when all pass.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace {

int g_failures = 0, g_checks = 0;

void expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

struct Rng {  // splitmix64
  uint64_t s;
  float uniform() {  // [-1, 1)
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return float(z >> 40) / 8388608.0f - 1.0f;
  }
};

std::vector<float> random(Rng& r, size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = r.uniform();
  return v;
}

// Leading dimensions beyond the operands' widths (0: tight).
struct Pad {
  int a = 0, b = 0, c = 0;
};

std::vector<float> run(bool ta, bool tb, int M, int N, int K, float alpha, const std::vector<float>& A,
                       const std::vector<float>& B, float beta, std::vector<float> C, Pad pad = {}) {
  evnn::gemm(ta ? evnn::Trans::Yes : evnn::Trans::No, tb ? evnn::Trans::Yes : evnn::Trans::No, M, N, K, alpha,
             A.data(), (ta ? M : K) + pad.a, B.data(), (tb ? K : N) + pad.b, beta, C.data(), N + pad.c);
  return C;
}

// |got − exact| ≤ (K+2)·2^-23·(|α|Σ|a·b| + |β·c|) for every element; with padded leading
// dimensions, C's padding must come back untouched.
void check_against_float64(const char* kernel, bool ta, bool tb, int M, int N, int K, float alpha, float beta, Rng& r,
                           Pad pad = {}) {
  const int lda = (ta ? M : K) + pad.a, ldb = (tb ? K : N) + pad.b, ldc = N + pad.c;
  const auto A = random(r, size_t(ta ? K : M) * lda), B = random(r, size_t(tb ? N : K) * ldb);
  const auto C = random(r, size_t(M) * ldc);
  const auto got = run(ta, tb, M, N, K, alpha, A, B, beta, C, pad);
  double worst = 0;
  bool padding_kept = true;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (int k = 0; k < K; ++k) {
        const double a = ta ? A[size_t(k) * lda + i] : A[size_t(i) * lda + k];
        const double b = tb ? B[size_t(j) * ldb + k] : B[size_t(k) * ldb + j];
        s += a * b;
        sa += std::fabs(a * b);
      }
      const double c = C[size_t(i) * ldc + j];
      const double exact = alpha * s + beta * c;
      const double bound = (K + 2) * std::ldexp(1.0, -23) * (std::fabs(alpha) * sa + std::fabs(beta * c)) + 1e-30;
      const double e = std::fabs(got[size_t(i) * ldc + j] - exact) / bound;
      if (!(e <= worst)) worst = e;
    }
    for (int j = N; j < ldc; ++j) padding_kept = padding_kept && got[size_t(i) * ldc + j] == C[size_t(i) * ldc + j];
  }
  char what[200];
  std::snprintf(what, sizeof what, "%s tA=%d tB=%d M=%d N=%d K=%d alpha=%g beta=%g pad=%d,%d,%d: error %.3g of the bound%s",
                kernel, ta, tb, M, N, K, alpha, beta, pad.a, pad.b, pad.c, worst, padding_kept ? "" : ", C's padding written");
  expect(worst <= 1.0 && padding_kept, what);
}

// The products gemm hands to gemm_skinny, whichever kernel is selected (as use_skinny in
// src/cpu/gemm_builtin.h): up to 8 rows when op(B) = B; when op(B) = Bᵀ up to 4 rows if K > 64,
// else 2.
bool skinny(bool tb, int M, int K) { return !tb ? M <= 8 : M <= (K > 64 ? 4 : 2); }

// The few-row shapes: M up to the cutoffs and one past them; N across the vector (8, 16), the
// 8-column group and the panel (4096 / rows) widths; K below, at and around the vector width,
// not a multiple of the 4 rows of B per pass, and on both sides of the shallow-K bound (64).
const int kFewRows[][3] = {
    {1, 1, 1},      {1, 7, 3},      {1, 17, 16},    {1, 100, 65},   {1, 5000, 7},   {1, 4100, 33},
    {2, 9, 2},      {2, 33, 64},    {2, 2100, 5},   {2, 129, 129},  {3, 15, 1},     {3, 1400, 6},
    {3, 70, 100},   {3, 31, 64},    {4, 8, 200},    {4, 1030, 17},  {4, 47, 65},    {4, 40, 64},
    {5, 300, 11},   {5, 70, 130},   {6, 129, 31},   {7, 2000, 9},   {8, 96, 47},    {8, 1025, 3},
    {9, 200, 40},   {9, 33, 300},   {12, 80, 20},
};

}  // namespace

int main() {
  std::vector<evnn::GemmKernel> kernels = {evnn::GemmKernel::Builtin};
  if (evnn::gemm_has_openblas()) kernels.push_back(evnn::GemmKernel::OpenBLAS);
  const int shapes[][3] = {{1, 1, 1},    {1, 40, 33},   {2, 3, 4},    {3, 70, 9},    {7, 33, 17},
                           {8, 32, 256}, {9, 65, 257},  {13, 33, 65}, {17, 31, 513}, {64, 1536, 96},
                           {145, 19, 11}, {193, 70, 260}, {300, 45, 37}, {9, 4100, 5}};
  Rng r{1};
  for (int threads : {1, 3, evnn::num_threads()}) {
    evnn::set_num_threads(threads);
    for (evnn::GemmKernel k : kernels) {
      evnn::set_gemm_kernel(k);
      for (const auto& s : shapes)
        for (int t = 0; t < 4; ++t) {
          check_against_float64(evnn::gemm_kernel_name(k), t & 1, t & 2, s[0], s[1], s[2], 0.75f, -0.5f, r);
          check_against_float64(evnn::gemm_kernel_name(k), t & 1, t & 2, s[0], s[1], s[2], 1.0f, 0.0f, r);
        }
      // beta = 0 overwrites NaN; alpha = 0 only scales C.
      for (const auto& s : shapes) {
        const int M = s[0], N = s[1], K = s[2];
        const auto A = random(r, size_t(M) * K), B = random(r, size_t(K) * N);
        const auto clean = run(false, true, M, N, K, 1, A, B, 0, std::vector<float>(size_t(M) * N, 0.0f));
        const auto dirty =
            run(false, true, M, N, K, 1, A, B, 0, std::vector<float>(size_t(M) * N, std::numeric_limits<float>::quiet_NaN()));
        expect(std::memcmp(clean.data(), dirty.data(), clean.size() * sizeof(float)) == 0,
               std::string(evnn::gemm_kernel_name(k)) + " beta=0 overwrites NaN, M=" + std::to_string(M));
        const auto scaled = run(false, false, M, N, K, 0, A, B, 2, std::vector<float>(size_t(M) * N, 1.5f));
        bool all3 = true;
        for (float v : scaled) all3 = all3 && v == 3.0f;
        expect(all3, std::string(evnn::gemm_kernel_name(k)) + " alpha=0 gives beta*C, M=" + std::to_string(M));
      }
    }
  }
  // The few-row shapes under each kernel and thread count: accuracy (tight and padded leading
  // dimensions); then, where gemm routes them to gemm_skinny, the same bits for both kernels and
  // any thread count.
  for (int threads : {1, 3, evnn::num_threads()}) {
    evnn::set_num_threads(threads);
    for (evnn::GemmKernel k : kernels) {
      evnn::set_gemm_kernel(k);
      for (const auto& s : kFewRows)
        for (int t = 0; t < 4; ++t) {
          check_against_float64(evnn::gemm_kernel_name(k), t & 1, t & 2, s[0], s[1], s[2], 0.75f, -0.5f, r);
          check_against_float64(evnn::gemm_kernel_name(k), t & 1, t & 2, s[0], s[1], s[2], 1.0f, 0.0f, r, Pad{3, 5, 7});
        }
    }
  }
  for (const auto& s : kFewRows) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int M = s[0], N = s[1], K = s[2];
      if (!skinny(tb, M, K)) continue;
      const auto A = random(r, size_t(M) * K), B = random(r, size_t(K) * N), C = random(r, size_t(M) * N);
      std::vector<float> first;
      for (evnn::GemmKernel k : kernels) {
        evnn::set_gemm_kernel(k);
        for (int threads : {1, 2, 3, evnn::num_threads()}) {
          evnn::set_num_threads(threads);
          const auto got = run(ta, tb, M, N, K, 1.25f, A, B, 0.5f, C);
          if (first.empty()) first = got;
          expect(std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) == 0,
                 std::string("few rows: ") + evnn::gemm_kernel_name(k) + " threads=" + std::to_string(threads) +
                     " equals builtin threads=1, tA=" + std::to_string(ta) + " tB=" + std::to_string(tb) +
                     " M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
        }
      }
    }
  }

  // Builtin: identical bits for 1, 2, 3 and all threads.
  evnn::set_gemm_kernel(evnn::GemmKernel::Builtin);
  const int hw = evnn::num_threads();
  for (const auto& s : shapes) {
    for (int t = 0; t < 4; ++t) {
      const int M = s[0], N = s[1], K = s[2];
      const auto A = random(r, size_t(M) * K), B = random(r, size_t(K) * N), C = random(r, size_t(M) * N);
      std::vector<float> first;
      for (int threads : {1, 2, 3, hw}) {
        evnn::set_num_threads(threads);
        const auto got = run(t & 1, t & 2, M, N, K, 1.25f, A, B, 0.5f, C);
        if (first.empty()) first = got;
        expect(std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) == 0,
               "builtin threads=" + std::to_string(threads) + " equals threads=1, M=" + std::to_string(M) +
                   " N=" + std::to_string(N) + " K=" + std::to_string(K));
      }
    }
  }
  std::printf("gemm_check: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
