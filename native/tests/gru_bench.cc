// Times the CPU GRU without Node (for profiling with perf, and on machines without Node):
// the same measures as bench/gru.mjs, median of --reps after --warmup runs.
//   evnn_gru_bench [--T 100] [--N 64] [--C 512] [--H 512] [--threads n] [--reps 5] [--warmup 1]
//                  [--kernel builtin|openblas]   (default: every kernel compiled in)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "evnn/context.h"
#include "evnn/gemm.h"
#include "evnn/gru.h"
#include "evnn/parallel.h"

namespace {

template <typename Fn>
double median_ms(int warmup, int reps, const Fn& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
}

int int_arg(const char* name, const char* v) {
  char* end = nullptr;
  const long n = v ? std::strtol(v, &end, 10) : 0;
  if (!v || *end != '\0' || n < 0 || n > 1 << 30) {
    std::fprintf(stderr, "evnn_gru_bench: --%s needs a non-negative integer\n", name);
    std::exit(2);
  }
  return int(n);
}

}  // namespace

int main(int argc, char** argv) {
  int T = 100, N = 64, C = 512, H = 512, reps = 5, warmup = 1;
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  std::string kernel;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--kernel" && v) kernel = v;
    else if (a == "--T") T = int_arg("T", v);
    else if (a == "--N") N = int_arg("N", v);
    else if (a == "--C") C = int_arg("C", v);
    else if (a == "--H") H = int_arg("H", v);
    else if (a == "--threads") threads = std::max(1, int_arg("threads", v));
    else if (a == "--reps") reps = std::max(1, int_arg("reps", v));
    else if (a == "--warmup") warmup = int_arg("warmup", v);
    else {
      std::fprintf(stderr, "evnn_gru_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
    ++i;
  }
  std::vector<evnn::GemmKernel> kernels;
  if (kernel.empty() || kernel == "builtin") kernels.push_back(evnn::GemmKernel::Builtin);
  if ((kernel.empty() && evnn::gemm_has_openblas()) || kernel == "openblas") kernels.push_back(evnn::GemmKernel::OpenBLAS);
  if (kernels.empty()) {
    std::fprintf(stderr, "evnn_gru_bench: --kernel must be builtin or openblas\n");
    return 2;
  }
  evnn::set_num_threads(threads);

  const evnn::gru::Dims d{T, N, C, H};
  const float k = 1.0f / std::sqrt(float(H));
  std::vector<float> w_ih(size_t(3) * H * C), w_hh(size_t(3) * H * H), b_ih(3 * H), b_hh(3 * H);
  std::vector<float> x(size_t(T) * N * C), y(size_t(T) * N * H), cache(evnn::gru::CacheSize(d));
  std::vector<float> dy(y.size(), 1.0f), dh0(size_t(N) * H), dw_ih(w_ih.size()), dw_hh(w_hh.size());
  std::vector<float> db_ih(b_ih.size()), db_hh(b_hh.size());
  uint32_t s = 1;
  auto fill = [&](std::vector<float>& v, float scale) {
    for (float& e : v) {
      s = s * 1664525u + 1013904223u;
      e = (float(s) / 4294967296.0f * 2.0f - 1.0f) * scale;
    }
  };
  fill(w_ih, k), fill(w_hh, k), fill(b_ih, k), fill(b_hh, k), fill(x, 1.0f);
  const evnn::gru::Weights w{w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data()};
  // Backward adds into the gradients; the bench lets them grow (the timing does not depend on it).
  const evnn::gru::Grads g{dw_ih.data(), dw_hh.data(), db_ih.data(), db_hh.data()};
  const evnn::Context ctx = evnn::ThreadContext();
  const evnn::gru::Options opt;

  std::printf("GRU T=%d N=%d C=%d H=%d, %d threads, median of %d after %d warm-up (simd %s)\n", T, N, C,
              H, threads, reps, warmup, EVNN_SIMD);
  for (evnn::GemmKernel kk : kernels) {
    evnn::set_gemm_kernel(kk);
    const double fwd = median_ms(warmup, reps, [&] {
      evnn::gru::Forward(ctx, d, w, opt, x.data(), nullptr, y.data(), nullptr);
    });
    const double fwd_train = median_ms(warmup, reps, [&] {
      evnn::gru::Forward(ctx, d, w, opt, x.data(), nullptr, y.data(), cache.data());
    });
    const double bwd = median_ms(warmup, reps, [&] {
      evnn::gru::Backward(ctx, d, w, opt, x.data(), nullptr, y.data(), cache.data(), dy.data(), nullptr, nullptr,
                          dh0.data(), g);
    });
    std::printf("%-8s forward %.1f ms, training forward %.1f ms, backward %.1f ms, forward+backward %.1f ms\n",
                evnn::gemm_kernel_name(kk), fwd, fwd_train, bwd, fwd_train + bwd);
  }
  return 0;
}
