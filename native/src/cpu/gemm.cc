// evnn::gemm: argument checks, the cases every kernel treats alike (empty C, K = 0, alpha = 0, and
// a few rows: gemm_skinny), then dispatch to OpenBLAS's cblas_sgemm or the built-in blocked kernel.
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

  // A few rows (batch-1 to batch-8 steps) go to gemm_skinny whichever kernel is selected: it streams
  // op(B) once, unpacked, where OpenBLAS 0.3.21 runs even M = 1 through its full sgemm and the
  // builtin blocked kernel packs all of op(B) for a mostly empty register tile. The cutoffs
  // (use_skinny in gemm_builtin.h) were measured on the 2-core AVX-512 EPYC development VM (Zen 5;
  // OpenBLAS 0.3.21, OPENBLAS_CORETYPE=Haswell; 2026-12), µs per call, 1 thread unless stated,
  // skinny / builtin blocked / cblas_sgemm:
  //   op(B) = Bᵀ, the GRU step h·W_hhᵀ at 1024 units (N = 3072, K = 1024): M = 1: 147 / – / 774
  //     (2 threads: 86 / – / 439); M = 2: 176 / – / 792; M = 3: 261 / 654 / 1120; M = 4: 338 / 838 /
  //     707; skinny stays ahead up to M = 7–8 at this depth, but with a shallow K only up to M = 2–3:
  //     N = 3072, K = 40, M = 3: 16.0 / 13.0 / 30.2, M = 4: 22.2 / 13.1 / 24.4; N = 192, K = 64,
  //     M = 4: 1.7 / 1.4 / 2.5; N = 1024, K = 96, M = 4: 8.2 / 10.3 / 20.3. Hence 4 rows if K > 64,
  //     else 2.
  //   op(B) = B, the GRU backward's dh = dG·W_hh at 1024 units (N = 1024, K = 3072): M = 1: 126 / – /
  //     565; M = 4: 151 / 574 / 475; M = 8: 324 / 585 / 687 (2 threads: 189 / 304 / 838); M = 12:
  //     449 / 784 / 836; M = 16: 596 / 779 / 1055 (2 threads: 384 / 452 / 621; N = 512, K = 1536:
  //     85 / 82 / 175). Up to M = 8 skinny was faster on every shape measured (N = 64 … 3072,
  //     K = 40 … 3072, either A, 1 and 2 threads), 1.2–2.6× on the large ones, within the timing
  //     noise (±0.3 µs) on the 1 µs ones; by M = 16 the blocked kernel has caught up. Hence 8 rows.
  // cblas_sgemv (one call per row) against skinny: at M = 1 within about 15% either way (N = 3072,
  // K = 1024, op(B) = B: 128 vs 138; N = 4096: 183 vs 213; N = 768, K = 256: 5.9 vs 4.6), at M = 2–4
  // 1.8–3.6× slower; so one kernel serves both providers, and small-M results depend on neither the
  // provider nor the thread count.
  if (gemm_detail::use_skinny(trans_b, M, K)) {
    gemm_detail::gemm_skinny(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }

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
