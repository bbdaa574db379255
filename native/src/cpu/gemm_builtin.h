// The built-in blocked GEMM kernel (gemm_builtin.cc); reached through evnn::gemm, which has
// already validated the arguments and handled the empty and K = 0 / alpha = 0 cases.
#pragma once

namespace evnn {
namespace gemm_detail {

// Up to this many rows gemm_builtin hands the product to gemm_skinny.
constexpr int kSkinnyMaxRows = 2;

// Streams op(B) without packing; for M <= kSkinnyMaxRows (gemm_skinny.cc).
void gemm_skinny(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc);

// Requires M, N, K >= 1 and leading dimensions that fit the row-major operands.
void gemm_builtin(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                  const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace gemm_detail
}  // namespace evnn
