// Standalone check of evnn::gemm (no Node), for machines where the vitest suite cannot run (e.g.
// to exercise the AVX-512 micro-kernel on a CPU that has it): every compiled kernel against a
// float64 product on edge shapes and all transposes, beta = 0 over NaN, alpha = 0, and the
// builtin kernel's bitwise independence of the thread count. Exit status 0 only when all pass.
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

std::vector<float> run(bool ta, bool tb, int M, int N, int K, float alpha, const std::vector<float>& A,
                       const std::vector<float>& B, float beta, std::vector<float> C) {
  evnn::gemm(ta ? evnn::Trans::Yes : evnn::Trans::No, tb ? evnn::Trans::Yes : evnn::Trans::No, M, N, K, alpha,
             A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N);
  return C;
}

// |got − exact| ≤ (K+2)·2^-23·(|α|Σ|a·b| + |β·c|) for every element.
void check_against_float64(const char* kernel, bool ta, bool tb, int M, int N, int K, float alpha, float beta, Rng& r) {
  const auto A = random(r, size_t(M) * K), B = random(r, size_t(K) * N), C = random(r, size_t(M) * N);
  const auto got = run(ta, tb, M, N, K, alpha, A, B, beta, C);
  double worst = 0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (int k = 0; k < K; ++k) {
        const double a = ta ? A[size_t(k) * M + i] : A[size_t(i) * K + k];
        const double b = tb ? B[size_t(j) * K + k] : B[size_t(k) * N + j];
        s += a * b;
        sa += std::fabs(a * b);
      }
      const double c = C[size_t(i) * N + j];
      const double exact = alpha * s + beta * c;
      const double bound = (K + 2) * std::ldexp(1.0, -23) * (std::fabs(alpha) * sa + std::fabs(beta * c)) + 1e-30;
      const double e = std::fabs(got[size_t(i) * N + j] - exact) / bound;
      if (!(e <= worst)) worst = e;
    }
  }
  char what[160];
  std::snprintf(what, sizeof what, "%s tA=%d tB=%d M=%d N=%d K=%d alpha=%g beta=%g: error %.3g of the bound", kernel,
                ta, tb, M, N, K, alpha, beta, worst);
  expect(worst <= 1.0, what);
}

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
