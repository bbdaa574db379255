// Dense single-precision GEMM, row-major, cblas-like:
//   C[M,N] = alpha * op(A) * op(B) + beta * C,  op(A) is [M,K], op(B) is [K,N].
// Backed by OpenBLAS when the build found it, else by the built-in blocked kernel; both are
// always selectable at run time where compiled in, so tests can exercise each.
#pragma once

namespace evnn {

enum class Trans { No, Yes };
enum class GemmKernel { Builtin, OpenBLAS };

void gemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

bool gemm_has_openblas();
// Throws std::invalid_argument when asking for OpenBLAS in a build without it.
void set_gemm_kernel(GemmKernel k);
GemmKernel gemm_kernel();
const char* gemm_kernel_name(GemmKernel k);

}  // namespace evnn
