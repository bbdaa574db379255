// GEMM for a handful of rows (batch-1 or batch-2 steps): op(B) is streamed once, straight from
// the caller's layout, instead of being packed for a register tile mostly left empty. Rows of
// op(A) are gathered into a contiguous scratch first (a transposed A is strided).
//   op(B) = B (row-major K×N): C[i, j-block] = Σ_k A[i,k]·B[k, j-block], an axpy over rows of B;
//   op(B) = Bᵀ (B is N×K):     C[i, j] = dot(A[i,:], B[j,:]) with vector partial sums.
// Each element is summed in a fixed order, so columns can be split over threads freely.
#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "evnn/parallel.h"
#include "gemm_builtin.h"

namespace evnn {
namespace gemm_detail {
namespace {

constexpr int kColBlock = 256;  // accumulator row of the axpy form: 1 KiB, stays in L1

inline float store(float acc, float alpha, float beta, float c) {
  return beta == 0.0f ? alpha * acc : alpha * acc + beta * c;  // beta = 0: the old C (even NaN) is ignored
}

// Σ a[k]·b[k] in a fixed order (per build): vector partial sums, then their reduction, then the
// scalar tail. Written with intrinsics because GCC does not vectorise a float reduction itself.
inline float dot(const float* __restrict a, const float* __restrict b, int K) {
  int k = 0;
  float t = 0.0f;
#if defined(__AVX512F__)
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  for (; k + 32 <= K; k += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), s1);
  }
  alignas(64) float lanes[16];  // (not _mm512_reduce_add_ps: GCC 12's version warns)
  _mm512_store_ps(lanes, _mm512_add_ps(s0, s1));
  for (int l = 0; l < 8; ++l) lanes[l] += lanes[l + 8];
  t = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
#elif defined(__AVX2__) && defined(__FMA__)
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (; k + 16 <= K; k += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(s0, s1));
  t = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
#else
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (; k + 8 <= K; k += 8)
    for (int l = 0; l < 8; ++l) s[l] += a[k + l] * b[k + l];
  t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
#endif
  for (; k < K; ++k) t += a[k] * b[k];
  return t;
}

}  // namespace

void gemm_skinny(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  std::vector<float> rows(size_t(M) * K);
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < K; ++k) rows[size_t(i) * K + k] = trans_a ? A[int64_t(k) * lda + i] : A[int64_t(i) * lda + k];
  const float* a = rows.data();
  const int64_t grain = std::max<int64_t>(8, (int64_t(1) << 16) / (int64_t(M) * K));

  if (!trans_b) {
    parallel_for(0, N, grain, [&](int64_t j0, int64_t j1) {
      alignas(64) float acc[kColBlock];
      for (int64_t jb = j0; jb < j1; jb += kColBlock) {
        const int w = int(std::min<int64_t>(kColBlock, j1 - jb));
        for (int i = 0; i < M; ++i) {
          std::fill(acc, acc + w, 0.0f);
          const float* ai = a + int64_t(i) * K;
          for (int k = 0; k < K; ++k) {
            const float aik = ai[k];
            const float* __restrict b = B + int64_t(k) * ldb + jb;
            for (int j = 0; j < w; ++j) acc[j] += aik * b[j];
          }
          float* c = C + int64_t(i) * ldc + jb;
          for (int j = 0; j < w; ++j) c[j] = store(acc[j], alpha, beta, c[j]);
        }
      }
    });
  } else {
    parallel_for(0, N, grain, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        const float* b = B + j * ldb;
        for (int i = 0; i < M; ++i) {
          float* c = C + int64_t(i) * ldc + j;
          *c = store(dot(a + int64_t(i) * K, b, K), alpha, beta, *c);
        }
      }
    });
  }
}

}  // namespace gemm_detail
}  // namespace evnn
