// GEMM for a handful of rows (batch-1 to batch-4 steps; evnn::gemm sends M <= kSkinnyMaxRows here
// whichever kernel is selected): op(B) is streamed once, straight from the caller's layout, instead
// of being packed for a register tile mostly left empty. Rows of a transposed A (strided) are
// gathered into a contiguous scratch first.
//   op(B) = B (row-major K×N), the axpy form: up to 4 rows of C at a time; 4 (AVX2: 2) rows of B
//     at a time stream through a panel of up to 4096 columns, the panel's running sums in L1:
//     C[i, j] = Σ_k A[i,k]·B[k,j] as one fma chain, k ascending.
//   op(B) = Bᵀ (B is N×K), the dot form: 8 columns (rows of B) × 1–2 rows at a time, vector
//     partial sums over k (a masked last vector for the K tail), then one transposed reduction
//     of the 8 sums.
// Without AVX2+FMA, plain loops the compiler vectorises. Each element of C is summed in a fixed
// order (per build) that does not depend on which panel, group or thread computes it, so columns
// can be split over threads freely and results do not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "evnn/parallel.h"
#include "gemm_builtin.h"

namespace evnn {
namespace gemm_detail {
namespace {

inline float store(float acc, float alpha, float beta, float c) {
  return beta == 0.0f ? alpha * acc : alpha * acc + beta * c;  // beta = 0: the old C (even NaN) is ignored
}

// Rows of op(A) as (pointer, row stride): A itself when not transposed, else a gathered copy.
const float* rows_of(bool trans_a, int M, int K, const float* A, int lda, int64_t* stride) {
  if (!trans_a) {
    *stride = lda;
    return A;
  }
  thread_local std::vector<float> rows;
  if (rows.size() < size_t(M) * K) rows.resize(size_t(M) * K);
  for (int k = 0; k < K; ++k) {
    const float* a = A + int64_t(k) * lda;
    for (int i = 0; i < M; ++i) rows[size_t(i) * K + k] = a[i];
  }
  *stride = K;
  return rows.data();
}

#if defined(__AVX2__) && defined(__FMA__)

#if defined(__AVX512F__)
using vf = __m512;
constexpr int V = 16;
template <int R>
constexpr int kNnRowsOfB = 4;  // nn: rows of B per pass (R·4 broadcasts + R sums ≤ 20 zmm)
constexpr int kTbRows = 2;     // tb: 2 rows × 8 columns = 16 zmm accumulators
using vmask = __mmask16;
inline vf vzero() { return _mm512_setzero_ps(); }
inline vf vset1(float x) { return _mm512_set1_ps(x); }
inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline void vstore(float* p, vf x) { _mm512_storeu_ps(p, x); }
inline vmask mask_first(int n) { return vmask(n >= V ? 0xFFFFu : (1u << std::max(n, 0)) - 1u); }
inline vf vload_m(const float* p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void vstore_m(float* p, vf x, vmask m) { _mm512_mask_storeu_ps(p, m, x); }
#else
using vf = __m256;
constexpr int V = 8;
template <int R>
constexpr int kNnRowsOfB = R <= 2 ? 4 : 2;  // nn: R·U broadcasts + R sums ≤ 12 of the 16 ymm
constexpr int kTbRows = 1;                  // tb: 1 row × 8 columns = 8 ymm accumulators
using vmask = __m256i;
inline vf vzero() { return _mm256_setzero_ps(); }
inline vf vset1(float x) { return _mm256_set1_ps(x); }
inline vf vload(const float* p) { return _mm256_loadu_ps(p); }
inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
inline void vstore(float* p, vf x) { _mm256_storeu_ps(p, x); }
inline vmask mask_first(int n) {
  alignas(32) static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones_then_zeros + 8 - std::min(std::max(n, 0), V)));
}
inline vf vload_m(const float* p, vmask m) { return _mm256_maskload_ps(p, m); }
inline void vstore_m(float* p, vf x, vmask m) { _mm256_maskstore_ps(p, m, x); }
#endif

// alpha·acc, or alpha·acc + beta·C (C not read when beta = 0).
inline vf scaled(vf acc, vf alpha, float beta, vf c_old) {
  return beta == 0.0f ? vmul(alpha, acc) : vfma(alpha, acc, vmul(vset1(beta), c_old));
}

// op(B) = B, the axpy form: C[R rows, a panel of columns] from R rows of A (stride lda_r) and B,
// both at the panel's first column. U rows of B at a time stream through the whole panel (rows
// of B are read contiguously, so the prefetchers keep up; a register tile walking down a column
// block instead touches a new page per row and ran up to 1.6× slower at N = 4096); the panel's
// running sums live in acc (kNnPanel floats, in L1) between blocks of U. Each element is one fma
// chain over k ascending, started from zero, whatever the panel or U.
constexpr int kNnPanel = 4096;  // floats of running sums: R rows × ⌊4096/R⌋ columns (16 KiB)

// kFirst: the sums start at zero; kLast: they are final and go to C (else back to acc).
template <int R, int U, bool kFirst, bool kLast, bool kMasked>
inline void nn_vector(const vf ak[R][U], const float* const b[U], int off, vmask m, float* acc, int P, float alpha,
                      float beta, float* C, int64_t ldc) {
  vf s[R];
  for (int r = 0; r < R; ++r) s[r] = kFirst ? vzero() : vload(acc + r * P + off);
  for (int u = 0; u < U; ++u) {
    const vf bv = kMasked ? vload_m(b[u] + off, m) : vload(b[u] + off);
    for (int r = 0; r < R; ++r) s[r] = vfma(ak[r][u], bv, s[r]);
  }
  if (!kLast) {
    for (int r = 0; r < R; ++r) vstore(acc + r * P + off, s[r]);
    return;
  }
  const vf va = vset1(alpha);
  for (int r = 0; r < R; ++r) {
    float* c = C + r * ldc + off;
    if (kMasked) {
      const vf old = beta == 0.0f ? vzero() : vload_m(c, m);
      vstore_m(c, scaled(s[r], va, beta, old), m);
    } else {
      const vf old = beta == 0.0f ? vzero() : vload(c);
      vstore(c, scaled(s[r], va, beta, old));
    }
  }
}

// Rows k0 .. k0+U-1 of B over the panel's w columns.
template <int R, int U, bool kFirst, bool kLast>
void nn_rows_of_b(const float* a, int64_t lda_r, int k0, const float* B, int64_t ldb, int w, float* acc, int P,
                  float alpha, float beta, float* C, int64_t ldc) {
  vf ak[R][U];
  const float* b[U];
  for (int u = 0; u < U; ++u) {
    b[u] = B + int64_t(k0 + u) * ldb;
    for (int r = 0; r < R; ++r) ak[r][u] = vset1(a[r * lda_r + k0 + u]);
  }
  int off = 0;
  for (; off + V <= w; off += V)
    nn_vector<R, U, kFirst, kLast, false>(ak, b, off, vmask(), acc, P, alpha, beta, C, ldc);
  if (off < w) nn_vector<R, U, kFirst, kLast, true>(ak, b, off, mask_first(w - off), acc, P, alpha, beta, C, ldc);
}

template <int R, int U>
void nn_rows_of_b(const float* a, int64_t lda_r, int k0, const float* B, int64_t ldb, int w, bool first, bool last,
                  float* acc, int P, float alpha, float beta, float* C, int64_t ldc) {
  if (first && last) nn_rows_of_b<R, U, true, true>(a, lda_r, k0, B, ldb, w, acc, P, alpha, beta, C, ldc);
  else if (first) nn_rows_of_b<R, U, true, false>(a, lda_r, k0, B, ldb, w, acc, P, alpha, beta, C, ldc);
  else if (last) nn_rows_of_b<R, U, false, true>(a, lda_r, k0, B, ldb, w, acc, P, alpha, beta, C, ldc);
  else nn_rows_of_b<R, U, false, false>(a, lda_r, k0, B, ldb, w, acc, P, alpha, beta, C, ldc);
}

template <int R>
void nn_rows(const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int64_t j0, int64_t j1, float alpha,
             float beta, float* C, int64_t ldc) {
  constexpr int U = kNnRowsOfB<R>;
  constexpr int P = kNnPanel / R / V * V;
  thread_local std::vector<float> acc_buf(kNnPanel + 16);
  float* acc = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(acc_buf.data()) + 63) & ~uintptr_t(63));
  for (int64_t j = j0; j < j1; j += P) {
    const int w = int(std::min<int64_t>(P, j1 - j));
    int k = 0;
    for (; k + U <= K; k += U)
      nn_rows_of_b<R, U>(a, lda_r, k, B + j, ldb, w, k == 0, k + U == K, acc, P, alpha, beta, C + j, ldc);
    for (; k < K; ++k)
      nn_rows_of_b<R, 1>(a, lda_r, k, B + j, ldb, w, k == 0, k + 1 == K, acc, P, alpha, beta, C + j, ldc);
  }
}

void nn_block(int rows, const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int64_t j0, int64_t j1,
              float alpha, float beta, float* C, int64_t ldc) {
  switch (rows) {
    case 1: nn_rows<1>(a, lda_r, K, B, ldb, j0, j1, alpha, beta, C, ldc); break;
    case 2: nn_rows<2>(a, lda_r, K, B, ldb, j0, j1, alpha, beta, C, ldc); break;
    case 3: nn_rows<3>(a, lda_r, K, B, ldb, j0, j1, alpha, beta, C, ldc); break;
    default: nn_rows<4>(a, lda_r, K, B, ldb, j0, j1, alpha, beta, C, ldc); break;
  }
}

// The sums of the lanes of s[0..7], in lanes 0..7 of one vector: per input the tree
// ((t0+t1)+(t2+t3)) + ((t4+t5)+(t6+t7)) over t_l = s[l] + s[l+8] (AVX-512) or t_l = s[l] (AVX2),
// the same for every slot. (No 512 → 256 casts: GCC 12 warns on them too.)
#if defined(__AVX512F__)
// _mm512_shuffle_f32x4, written masked: GCC 12's unmasked form warns (-Wuninitialized).
template <int kImm>
inline __m512 shuffle128(__m512 a, __m512 b) { return _mm512_maskz_shuffle_f32x4(0xFFFF, a, b, kImm); }
inline __m512 hadd512(__m512 a, __m512 b) {  // _mm256_hadd_ps per 128-bit lane
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}
inline __m512 sum8(const __m512 s[8]) {
  // [fold(s_a) | fold(s_b)], fold(x)_l = x[l] + x[l + 8]
  const auto pair = [](__m512 a, __m512 b) {
    return _mm512_add_ps(shuffle128<_MM_SHUFFLE(1, 0, 1, 0)>(a, b), shuffle128<_MM_SHUFFLE(3, 2, 3, 2)>(a, b));
  };
  const __m512 t0 = hadd512(pair(s[0], s[4]), pair(s[1], s[5]));
  const __m512 t1 = hadd512(pair(s[2], s[6]), pair(s[3], s[7]));
  const __m512 u = hadd512(t0, t1);  // 128-bit quarters: [0..3 lo], [0..3 hi], [4..7 lo], [4..7 hi]
  return _mm512_add_ps(shuffle128<_MM_SHUFFLE(2, 0, 2, 0)>(u, u), shuffle128<_MM_SHUFFLE(3, 1, 3, 1)>(u, u));
}
// C[0..w) = alpha·sums (+ beta·C), w <= 8.
inline void store8(float* c, __m512 sums, int w, float alpha, float beta) {
  const __mmask16 m = mask_first(std::min(w, 8));
  const __m512 old = beta == 0.0f ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, c);
  _mm512_mask_storeu_ps(c, m, scaled(sums, vset1(alpha), beta, old));
}
#else
inline __m256 sum8(const __m256 s[8]) {
  const __m256 t0 = _mm256_hadd_ps(s[0], s[1]), t1 = _mm256_hadd_ps(s[2], s[3]);
  const __m256 t2 = _mm256_hadd_ps(s[4], s[5]), t3 = _mm256_hadd_ps(s[6], s[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}
inline void store8(float* c, __m256 sums, int w, float alpha, float beta) {
  if (w == 8) {
    const __m256 old = beta == 0.0f ? _mm256_setzero_ps() : _mm256_loadu_ps(c);
    _mm256_storeu_ps(c, scaled(sums, vset1(alpha), beta, old));
    return;
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sums);
  for (int j = 0; j < w; ++j) c[j] = store(lanes[j], alpha, beta, c[j]);
}
#endif

// op(B) = Bᵀ: C[R rows, 8 columns] = dots of R rows of A with the 8 rows of B from B (B + c·ldb).
// kTail: only the first w < 8 columns exist (the missing rows of B repeat the first; dropped).
template <int R, bool kTail>
void tb_group(const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int w, float alpha, float beta,
              float* C, int64_t ldc) {
  const float* b[8];
  for (int c = 0; c < 8; ++c) b[c] = B + (kTail && c >= w ? 0 : c) * ldb;
  vf acc[R][8];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 8; ++c) acc[r][c] = vzero();
  int k = 0;
  for (; k + V <= K; k += V) {
    vf av[R];
    for (int r = 0; r < R; ++r) av[r] = vload(a + r * lda_r + k);
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      const vf bv = vload(b[c] + k);
      for (int r = 0; r < R; ++r) acc[r][c] = vfma(av[r], bv, acc[r][c]);
    }
  }
  if (k < K) {
    const vmask m = mask_first(K - k);
    vf av[R];
    for (int r = 0; r < R; ++r) av[r] = vload_m(a + r * lda_r + k, m);
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      const vf bv = vload_m(b[c] + k, m);
      for (int r = 0; r < R; ++r) acc[r][c] = vfma(av[r], bv, acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) store8(C + r * ldc, sum8(acc[r]), w, alpha, beta);
}

// Columns [j0, j1) of all M rows: groups of 8 columns outside, rows inside, so a group's rows of
// B are still in L1 (8·K floats) for the next rows of A.
template <bool kTail>
void tb_columns(int M, const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int w, float alpha,
                float beta, float* C, int64_t ldc) {
  int i = 0;
  for (; i + kTbRows <= M; i += kTbRows)
    tb_group<kTbRows, kTail>(a + i * lda_r, lda_r, K, B, ldb, w, alpha, beta, C + i * ldc, ldc);
  for (; i < M; ++i) tb_group<1, kTail>(a + i * lda_r, lda_r, K, B, ldb, w, alpha, beta, C + i * ldc, ldc);
}

void tb_block(int M, const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int64_t j0, int64_t j1,
              float alpha, float beta, float* C, int64_t ldc) {
  int64_t j = j0;
  for (; j + 8 <= j1; j += 8) tb_columns<false>(M, a, lda_r, K, B + j * ldb, ldb, 8, alpha, beta, C + j, ldc);
  if (j < j1) tb_columns<true>(M, a, lda_r, K, B + j * ldb, ldb, int(j1 - j), alpha, beta, C + j, ldc);
}

#else  // no AVX2+FMA: loops for the compiler

constexpr int kColBlock = 256;  // accumulator row of the axpy form: 1 KiB, stays in L1

// Σ a[k]·b[k] in a fixed order: 8 partial sums, their reduction, then the scalar tail.
inline float dot(const float* __restrict a, const float* __restrict b, int K) {
  int k = 0;
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (; k + 8 <= K; k += 8)
    for (int l = 0; l < 8; ++l) s[l] += a[k + l] * b[k + l];
  float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; k < K; ++k) t += a[k] * b[k];
  return t;
}

void nn_block(int rows, const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int64_t j0, int64_t j1,
              float alpha, float beta, float* C, int64_t ldc) {
  alignas(64) float acc[kColBlock];
  for (int64_t jb = j0; jb < j1; jb += kColBlock) {
    const int w = int(std::min<int64_t>(kColBlock, j1 - jb));
    for (int i = 0; i < rows; ++i) {
      std::fill(acc, acc + w, 0.0f);
      const float* ai = a + i * lda_r;
      for (int k = 0; k < K; ++k) {
        const float aik = ai[k];
        const float* __restrict b = B + int64_t(k) * ldb + jb;
        for (int j = 0; j < w; ++j) acc[j] += aik * b[j];
      }
      float* c = C + i * ldc + jb;
      for (int j = 0; j < w; ++j) c[j] = store(acc[j], alpha, beta, c[j]);
    }
  }
}

void tb_block(int M, const float* a, int64_t lda_r, int K, const float* B, int64_t ldb, int64_t j0, int64_t j1,
              float alpha, float beta, float* C, int64_t ldc) {
  for (int64_t j = j0; j < j1; ++j)
    for (int i = 0; i < M; ++i) {
      float* c = C + i * ldc + j;
      *c = store(dot(a + i * lda_r, B + j * ldb, K), alpha, beta, *c);
    }
}

#endif

constexpr int kNnRowGroup = 4;  // rows per nn pass over B (nn_block's widest)

}  // namespace

void gemm_skinny(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  int64_t lda_r = 0;
  const float* a = rows_of(trans_a, M, K, A, lda, &lda_r);
  // Chunks of at least 2^16 multiply-adds, in whole 64-column units.
  constexpr int64_t kUnit = 64;
  const int64_t units = (int64_t(N) + kUnit - 1) / kUnit;
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / (int64_t(M) * K * kUnit));
  parallel_for(0, units, grain, [&](int64_t u0, int64_t u1) {
    const int64_t j0 = u0 * kUnit, j1 = std::min<int64_t>(N, u1 * kUnit);
    if (trans_b) {
      tb_block(M, a, lda_r, K, B, ldb, j0, j1, alpha, beta, C, ldc);
      return;
    }
    for (int i = 0; i < M; i += kNnRowGroup) {
      const int rows = std::min(kNnRowGroup, M - i);
      nn_block(rows, a + i * lda_r, lda_r, K, B, ldb, j0, j1, alpha, beta, C + int64_t(i) * ldc, ldc);
    }
  });
}

}  // namespace gemm_detail
}  // namespace evnn
