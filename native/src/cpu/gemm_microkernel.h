// The register-tiled inner kernel of the built-in GEMM: C[MR,NR] (+)= alpha · Ã·B̃ over one
// packed A micro-panel (kc × MR, column by column) and one packed B micro-panel (kc × NR, row by
// row). Intrinsics for the widest SIMD the engine is built for (AVX-512: 8 × 32 tile in 16 zmm
// accumulators; AVX2+FMA: 6 × 16 in 12 ymm), otherwise plain loops that the compiler vectorises
// for whatever it targets. Internal to gemm_builtin.cc.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EVNN_GEMM_AVX512 1
#define EVNN_GEMM_AVX2 1  // the 8×8 transposes used for packing
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EVNN_GEMM_AVX2 1
#endif

namespace evnn {
namespace gemm_detail {

#ifdef EVNN_GEMM_AVX512
constexpr int MR = 8;   // rows of C per micro-tile
constexpr int NR = 32;  // columns of C per micro-tile (two 16-float AVX-512 registers)
#else
constexpr int MR = 6;   // rows of C per micro-tile
constexpr int NR = 16;  // columns of C per micro-tile (two 8-float AVX registers)
#endif

// Writes the micro-tile: C = alpha·acc when beta == 0 (C is not read, so NaN garbage in C
// disappears), else C = alpha·acc + beta·C. Only the top-left mr × nr part is in range.
inline void store_tile(const float* acc, int mr, int nr, float alpha, float beta, float* C, int64_t ldc) {
  for (int i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    const float* a = acc + i * NR;
    if (beta == 0.0f) {
      for (int j = 0; j < nr; ++j) c[j] = alpha * a[j];
    } else {
      for (int j = 0; j < nr; ++j) c[j] = alpha * a[j] + beta * c[j];
    }
  }
}

#if defined(EVNN_GEMM_AVX512)

inline void microkernel(int kc, const float* __restrict A, const float* __restrict B, float* C,
                        int64_t ldc, int mr, int nr, float alpha, float beta) {
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(B);
    const __m512 b1 = _mm512_load_ps(B + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {  // fully unrolled: acc stays in registers
      const __m512 a = _mm512_set1_ps(A[i]);
      acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
    }
    A += MR;
    B += NR;
  }
  if (mr == MR && nr == NR) {
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
      for (int i = 0; i < MR; ++i) {
        _mm512_storeu_ps(C + i * ldc, _mm512_mul_ps(va, acc[i][0]));
        _mm512_storeu_ps(C + i * ldc + 16, _mm512_mul_ps(va, acc[i][1]));
      }
    } else {
      const __m512 vb = _mm512_set1_ps(beta);
      for (int i = 0; i < MR; ++i) {
        float* c = C + i * ldc;
        _mm512_storeu_ps(c, _mm512_fmadd_ps(va, acc[i][0], _mm512_mul_ps(vb, _mm512_loadu_ps(c))));
        _mm512_storeu_ps(c + 16, _mm512_fmadd_ps(va, acc[i][1], _mm512_mul_ps(vb, _mm512_loadu_ps(c + 16))));
      }
    }
    return;
  }
  alignas(64) float buf[MR * NR];
  for (int i = 0; i < MR; ++i) {
    _mm512_store_ps(buf + i * NR, acc[i][0]);
    _mm512_store_ps(buf + i * NR + 16, acc[i][1]);
  }
  store_tile(buf, mr, nr, alpha, beta, C, ldc);
}

#elif defined(EVNN_GEMM_AVX2)

inline void microkernel(int kc, const float* __restrict A, const float* __restrict B, float* C,
                        int64_t ldc, int mr, int nr, float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < mr; ++i) _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(B);
    const __m256 b1 = _mm256_load_ps(B + 8);
    __m256 a = _mm256_broadcast_ss(A + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(A + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(A + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(A + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(A + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(A + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    A += MR;
    B += NR;
  }
  if (mr == MR && nr == NR) {
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (beta == 0.0f) {
      for (int i = 0; i < MR; ++i) {
        _mm256_storeu_ps(C + i * ldc, _mm256_mul_ps(va, acc[i][0]));
        _mm256_storeu_ps(C + i * ldc + 8, _mm256_mul_ps(va, acc[i][1]));
      }
    } else {
      const __m256 vb = _mm256_set1_ps(beta);
      for (int i = 0; i < MR; ++i) {
        float* c = C + i * ldc;
        _mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(c))));
        _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(c + 8))));
      }
    }
    return;
  }
  alignas(32) float buf[MR * NR];
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < MR; ++i) {
    _mm256_store_ps(buf + i * NR, acc[i][0]);
    _mm256_store_ps(buf + i * NR + 8, acc[i][1]);
  }
  store_tile(buf, mr, nr, alpha, beta, C, ldc);
}

#else  // portable: the j loops are plain enough for the auto-vectoriser

inline void microkernel(int kc, const float* __restrict A, const float* __restrict B, float* C,
                        int64_t ldc, int mr, int nr, float alpha, float beta) {
  alignas(64) float acc[MR * NR] = {};
  for (int k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const float a = A[i];
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += a * B[j];
    }
    A += MR;
    B += NR;
  }
  store_tile(acc, mr, nr, alpha, beta, C, ldc);
}

#endif

}  // namespace gemm_detail
}  // namespace evnn
