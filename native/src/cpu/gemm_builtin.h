// The built-in blocked GEMM kernel (gemm_builtin.cc); reached through evnn::gemm, which has
// already validated the arguments and handled the empty and K = 0 / alpha = 0 cases.
#pragma once

namespace evnn {
namespace gemm_detail {

// Which products evnn::gemm sends to gemm_skinny, whichever kernel is selected (the measurements
// behind these cutoffs are in gemm.cc): up to 8 rows when op(B) = B; when op(B) = Bᵀ up to 4 rows
// if K > 64, else up to 2.
constexpr int kSkinnyMaxRows = 8;
constexpr int kSkinnyMaxRowsTransB = 4;
constexpr int kSkinnyMaxRowsTransBShallow = 2;  // op(B) = Bᵀ with K <= kSkinnyShallowK
constexpr int kSkinnyShallowK = 64;
constexpr bool use_skinny(bool trans_b, int M, int K) {
  return !trans_b ? M <= kSkinnyMaxRows : M <= (K > kSkinnyShallowK ? kSkinnyMaxRowsTransB : kSkinnyMaxRowsTransBShallow);
}

// Streams op(B) without packing (gemm_skinny.cc); any M works, fast for the few rows of use_skinny.
void gemm_skinny(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc);

// The blocked kernel, for any M (evnn::gemm sends it only the products use_skinny leaves).
// Requires M, N, K >= 1 and leading dimensions that fit the row-major operands.
void gemm_builtin(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                  const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace gemm_detail
}  // namespace evnn
