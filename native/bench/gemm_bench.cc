// GEMM throughput of every kernel compiled in, on the shapes the GRU issues (not a test; prints
// GFLOP/s). Build: cmake -S native -B /tmp/evnn-bench -DEVNN_BUILD_BENCH=ON && cmake --build
// /tmp/evnn-bench --target evnn_gemm_bench; run: /tmp/evnn-bench/evnn_gemm_bench [threads...]
// [--only SUBSTRING] [--kernel builtin|openblas]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace {

struct Shape {
  const char* what;
  bool ta, tb;
  int M, N, K;
};

double seconds_per_call(const Shape& s, std::vector<float>& A, std::vector<float>& B, std::vector<float>& C) {
  const int lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  auto call = [&] {
    evnn::gemm(s.ta ? evnn::Trans::Yes : evnn::Trans::No, s.tb ? evnn::Trans::Yes : evnn::Trans::No, s.M, s.N,
               s.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.N);
  };
  call();  // warm-up: page faults, packing buffers
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  while (times.size() < 5 || (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(700) && times.size() < 200)) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];  // median
}

}  // namespace

int main(int argc, char** argv) {
  // Arguments: thread counts; "--only SUBSTRING" times the shapes whose label has it;
  // "--kernel builtin|openblas" times one kernel.
  std::vector<int> thread_counts;
  std::string only, kernel;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--only" && i + 1 < argc) only = argv[++i];
    else if (std::string(argv[i]) == "--kernel" && i + 1 < argc) kernel = argv[++i];
    else thread_counts.push_back(std::atoi(argv[i]));
  }
  if (thread_counts.empty()) thread_counts = {1, evnn::num_threads()};
  const Shape shapes[] = {
      {"GRU input projection x·W_ihᵀ (T·N=6400)", false, true, 6400, 1536, 512},
      {"same, no transpose", false, false, 6400, 1536, 512},
      {"GRU recurrent step h·W_hhᵀ (N=64)", false, true, 64, 1536, 512},
      {"same, no transpose", false, false, 64, 1536, 512},
      {"GRU weight gradient dGᵀ·x", true, false, 1536, 512, 6400},
      {"GRU step dh = dG·W_hh (N=64)", false, false, 64, 512, 1536},
      {"square 1024", false, false, 1024, 1024, 1024},
      {"batch-1 step h·W_hhᵀ", false, true, 1, 1536, 512},
      {"batch-1 step, no transpose", false, false, 1, 1536, 512},
      {"batch-2 step h·W_hhᵀ", false, true, 2, 1536, 512},
      {"batch-3 step h·W_hhᵀ", false, true, 3, 1536, 512},
      {"batch-3 step, no transpose", false, false, 3, 1536, 512},
      {"batch-4 step h·W_hhᵀ", false, true, 4, 1536, 512},
      {"batch-8 step h·W_hhᵀ", false, true, 8, 1536, 512},
      {"batch-8 step dh = dG·W_hh", false, false, 8, 512, 1536},
      {"1024 units, batch-1 step h·W_hhᵀ", false, true, 1, 3072, 1024},
      {"1024 units, batch-1 step dh = dG·W_hh", false, false, 1, 1024, 3072},
      {"1024 units, batch-4 step h·W_hhᵀ", false, true, 4, 3072, 1024},
      {"1024 units, batch-1 input x·W_ihᵀ (C=40)", false, true, 1, 3072, 40},
  };
  std::vector<evnn::GemmKernel> kernels = {evnn::GemmKernel::Builtin};
  if (evnn::gemm_has_openblas()) kernels.push_back(evnn::GemmKernel::OpenBLAS);
  if (!kernel.empty()) {
    std::vector<evnn::GemmKernel> chosen;
    for (evnn::GemmKernel k : kernels)
      if (kernel == evnn::gemm_kernel_name(k)) chosen.push_back(k);
    if (chosen.empty()) {
      std::fprintf(stderr, "gemm_bench: kernel '%s' is not compiled in\n", kernel.c_str());
      return 2;
    }
    kernels = chosen;
  }
  std::printf("%-44s %5s %5s %5s %2s %2s %7s %-9s %9s\n", "shape", "M", "N", "K", "tA", "tB", "threads", "kernel", "GFLOP/s");
  for (const Shape& s : shapes) {
    if (!only.empty() && std::string(s.what).find(only) == std::string::npos) continue;
    std::vector<float> A(size_t(s.M) * s.K), B(size_t(s.K) * s.N), C(size_t(s.M) * s.N);
    unsigned x = 12345;
    for (auto* v : {&A, &B})
      for (float& f : *v) f = float((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int t : thread_counts) {
      evnn::set_num_threads(t);
      for (evnn::GemmKernel k : kernels) {
        evnn::set_gemm_kernel(k);
        const double sec = seconds_per_call(s, A, B, C);
        std::printf("%-44s %5d %5d %5d %2d %2d %7d %-9s %9.1f\n", s.what, s.M, s.N, s.K, s.ta, s.tb, t,
                    evnn::gemm_kernel_name(k), 2.0 * s.M * s.N * s.K / sec * 1e-9);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
