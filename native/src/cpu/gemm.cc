// evnn::gemm: argument checks, the cases every kernel treats alike (empty C, K = 0, alpha = 0),
// then dispatch to OpenBLAS's cblas_sgemm or the built-in blocked kernel.
#include "evnn/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "evnn/parallel.h"
#include "gemm_builtin.h"

#ifdef EVNN_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace evnn {
namespace {

#ifdef EVNN_HAVE_OPENBLAS
std::atomic<GemmKernel> g_kernel{GemmKernel::OpenBLAS};
#else
std::atomic<GemmKernel> g_kernel{GemmKernel::Builtin};
#endif

void check(bool ok, const char* what, int64_t value, int64_t bound) {
  if (!ok) {
    throw std::invalid_argument(std::string("evnn::gemm: ") + what + " (got " + std::to_string(value) +
                                ", need at least " + std::to_string(bound) + ")");
  }
}

// C = beta·C over the M×N block (beta = 0 writes zeros, whatever C held).
void scale_c(int M, int N, float beta, float* C, int ldc) {
  parallel_for(0, M, std::max<int64_t>(1, 16384 / std::max(N, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.0f) std::fill(c, c + N, 0.0f);
      else for (int j = 0; j < N; ++j) c[j] *= beta;
    }
  });
}

}  // namespace

void gemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  check(M >= 0, "M must be >= 0", M, 0);
  check(N >= 0, "N must be >= 0", N, 0);
  check(K >= 0, "K must be >= 0", K, 0);
  if (M == 0 || N == 0) return;
  const bool trans_a = ta == Trans::Yes, trans_b = tb == Trans::Yes;
  check(ldc >= std::max(1, N), "ldc must be >= max(1, N)", ldc, std::max(1, N));
  if (C == nullptr) throw std::invalid_argument("evnn::gemm: C is null");
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const int a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  check(lda >= std::max(1, a_cols), trans_a ? "lda must be >= max(1, M) for a transposed A" : "lda must be >= max(1, K)",
        lda, std::max(1, a_cols));
  check(ldb >= std::max(1, b_cols), trans_b ? "ldb must be >= max(1, K) for a transposed B" : "ldb must be >= max(1, N)",
        ldb, std::max(1, b_cols));
  if (A == nullptr || B == nullptr) throw std::invalid_argument("evnn::gemm: A or B is null");

#ifdef EVNN_HAVE_OPENBLAS
  if (g_kernel.load(std::memory_order_relaxed) == GemmKernel::OpenBLAS) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#endif
  gemm_detail::gemm_builtin(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool gemm_has_openblas() {
#ifdef EVNN_HAVE_OPENBLAS
  return true;
#else
  return false;
#endif
}

void set_gemm_kernel(GemmKernel k) {
  if (k == GemmKernel::OpenBLAS && !gemm_has_openblas()) {
    throw std::invalid_argument("evnn::set_gemm_kernel: this build has no OpenBLAS (compiled kernels: builtin)");
  }
  g_kernel.store(k, std::memory_order_relaxed);
}

GemmKernel gemm_kernel() { return g_kernel.load(std::memory_order_relaxed); }

const char* gemm_kernel_name(GemmKernel k) { return k == GemmKernel::OpenBLAS ? "openblas" : "builtin"; }

}  // namespace evnn
