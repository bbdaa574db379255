// The built-in single-precision GEMM (used when OpenBLAS is absent or deselected, for the products
// with more rows than gemm_skinny takes: see use_skinny in gemm_builtin.h).
//
// Goto/BLIS structure: for each NC-wide column panel and KC-deep slice of K, op(B) is packed
// into NR-wide micro-panels (shared by all threads), then every thread packs its own MC-row
// blocks of op(A) into MR-tall micro-panels and sweeps the register-tiled micro-kernel over
// them. The packed B micro-panel (KC × NR) stays in L1 while the A block streams from L2.
//
// Threads split C into a tm × tn grid of rectangles. Each element of C is summed in the same
// order (K slices in sequence, k ascending inside the micro-kernel) whatever the grid, so the
// result does not depend on the thread count.
#include "gemm_builtin.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "evnn/parallel.h"
#include "gemm_microkernel.h"

namespace evnn {
namespace gemm_detail {
namespace {

constexpr int KC = 256;      // depth of a slice: B micro-panel (KC × NR) + A micro-panel in L1
constexpr int MC = 24 * MR;  // rows per packed A block (144 or 192 rows, ≤ 192 KiB: L2)
constexpr int NC = 4096;     // columns per packed B panel (4 MiB at KC = 256: L3)

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// A per-thread growable scratch buffer, 64-byte aligned (packing buffers are reused across
// calls: allocating megabytes per call would fault fresh pages in every time).
class Scratch {
 public:
  float* get(size_t n) {
    if (n > size_) {
      const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw std::bad_alloc();
      buf_.reset(p);
      size_ = n;
    }
    return buf_.get();
  }

 private:
  std::unique_ptr<float, AlignedFree> buf_;
  size_t size_ = 0;
};

thread_local Scratch t_pack_a;  // each thread's A block
thread_local Scratch t_pack_b;  // the calling thread's shared panel (B, or A on the few-rows path)
thread_local Scratch t_pack_sliver;  // one B micro-panel (few-rows path)

struct Operand {
  const float* p;
  int64_t ld;
  bool trans;
};

#ifdef EVNN_GEMM_AVX2
// dst[k*ldd + j] = src[j*lds + k] for an 8×8 block.
inline void transpose8x8(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * lds), r1 = _mm256_loadu_ps(src + 1 * lds);
  __m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
  __m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
  __m256 r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_store_ps(dst + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_store_ps(dst + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_store_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_store_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_store_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_store_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_store_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_store_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

// op(A) rows [i0, i0+mc) × cols [p0, p0+kc) → micro-panels of MR rows, each kc × MR (k-major),
// rows past mc zero-padded.
void pack_a(const Operand& a, int i0, int mc, int p0, int kc, float* dst) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int mr = std::min(MR, mc - ip);
    float* d = dst + int64_t(ip) * kc;
    if (!a.trans) {  // op(A)[i][k] = A[i*ld + k]: MR row streams interleaved
      const float* rows[MR];
      for (int r = 0; r < MR; ++r) rows[r] = a.p + int64_t(i0 + ip + std::min(r, mr - 1)) * a.ld + p0;
      if (mr == MR) {
        for (int k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) d[k * MR + r] = rows[r][k];
      } else {
        for (int k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) d[k * MR + r] = r < mr ? rows[r][k] : 0.0f;
      }
    } else {  // op(A)[i][k] = A[k*ld + i]: MR contiguous floats per k
      const float* src = a.p + int64_t(p0) * a.ld + i0 + ip;
      for (int k = 0; k < kc; ++k) {
        const float* s = src + int64_t(k) * a.ld;
        for (int r = 0; r < mr; ++r) d[k * MR + r] = s[r];
        for (int r = mr; r < MR; ++r) d[k * MR + r] = 0.0f;
      }
    }
  }
}

// op(B) rows [p0, p0+kc) × cols [j0, j0+nr) → one micro-panel kc × NR (row-major), columns past
// nr zero-padded.
void pack_b_panel(const Operand& b, int p0, int kc, int j0, int nr, float* d) {
  if (!b.trans) {  // op(B)[k][j] = B[k*ld + j]: copy NR contiguous floats per k
    const float* src = b.p + int64_t(p0) * b.ld + j0;
    if (nr == NR) {
      for (int k = 0; k < kc; ++k) std::memcpy(d + k * NR, src + int64_t(k) * b.ld, NR * sizeof(float));
    } else {
      for (int k = 0; k < kc; ++k) {
        const float* s = src + int64_t(k) * b.ld;
        for (int j = 0; j < nr; ++j) d[k * NR + j] = s[j];
        for (int j = nr; j < NR; ++j) d[k * NR + j] = 0.0f;
      }
    }
  } else {  // op(B)[k][j] = B[j*ld + k]: transpose NR row streams
    const float* src = b.p + int64_t(j0) * b.ld + p0;
    int k0 = 0;
#ifdef EVNN_GEMM_AVX2
    if (nr == NR) {
      for (; k0 + 8 <= kc; k0 += 8)
        for (int j = 0; j < NR; j += 8) transpose8x8(src + int64_t(j) * b.ld + k0, b.ld, d + k0 * NR + j, NR);
    }
#endif
    constexpr int KB = 16;  // scalar rest: short runs per row so the NR destination rows stay in L1
    for (; k0 < kc; k0 += KB) {
      const int kb = std::min(KB, kc - k0);
      for (int j = 0; j < NR; ++j) {
        if (j < nr) {
          const float* s = src + int64_t(j) * b.ld + k0;
          for (int k = 0; k < kb; ++k) d[(k0 + k) * NR + j] = s[k];
        } else {
          for (int k = 0; k < kb; ++k) d[(k0 + k) * NR + j] = 0.0f;
        }
      }
    }
  }
}

// Thread grid tm × tn over (row micro-panels, column micro-panels) minimising the data each
// thread touches (∝ rows/tm + cols/tn), with no more parts than micro-panels on either side.
void choose_grid(int threads, int m_panels, int n_panels, int64_t M, int64_t N, int* tm, int* tn) {
  int best_m = 1, best_n = 1;
  double best = -1.0;
  for (int a = 1; a <= threads; ++a) {
    if (threads % a != 0) continue;
    const int b = threads / a;
    if (a > m_panels || b > n_panels) continue;
    const double cost = double(M) / a + double(N) / b;
    if (best < 0 || cost <= best) {  // ties: split rows (threads then share B panels)
      best = cost;
      best_m = a;
      best_n = b;
    }
  }
  if (best < 0) {  // thread count with no fitting factorisation: use fewer threads
    best_m = std::min(threads, m_panels);
    best_n = std::max(1, std::min(threads / best_m, n_panels));
  }
  *tm = best_m;
  *tn = best_n;
}

inline int part_bound(int n, int parts, int p) { return (n / parts) * p + std::min(p, n % parts); }

// Few rows (M <= MC, one thread row): op(A) is packed once for all K slices (shared by the
// threads), then each thread packs each B micro-panel of its column range just before using it,
// so the panel is still in L1 and the threads need no shared B buffer.
void gemm_few_rows(const Operand& a, const Operand& b, int M, int N, int K, float alpha, float beta, float* C,
                   int ldc, int tn) {
  const int n_panels = (N + NR - 1) / NR;
  const int m_panels = (M + MR - 1) / MR;
  const int k_slices = (K + KC - 1) / KC;
  const int64_t m_pad = int64_t(m_panels) * MR;
  float* ap = t_pack_b.get(size_t(m_pad) * K);  // slice pc starts at m_pad * pc
  parallel_for(0, int64_t(k_slices) * m_panels, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int pc = int(t / m_panels) * KC, ip = int(t % m_panels) * MR;
      const int kc = std::min(KC, K - pc);
      pack_a(a, ip, std::min(MR, M - ip), pc, kc, ap + m_pad * pc + int64_t(ip) * kc);
    }
  });
  parallel_for(0, tn, 1, [&](int64_t t0, int64_t t1) {
    float* bs = t_pack_sliver.get(size_t(NR) * KC);
    for (int64_t t = t0; t < t1; ++t) {
      const int pn0 = part_bound(n_panels, tn, int(t)), pn1 = part_bound(n_panels, tn, int(t) + 1);
      for (int pc = 0; pc < K; pc += KC) {
        const int kc = std::min(KC, K - pc);
        const float beta_slice = pc == 0 ? beta : 1.0f;
        const float* as = ap + m_pad * pc;
        for (int s = pn0; s < pn1; ++s) {
          const int j = s * NR;
          const int nr = std::min(NR, N - j);
          pack_b_panel(b, pc, kc, j, nr, bs);
          for (int ip = 0; ip < M; ip += MR) {
            microkernel(kc, as + int64_t(ip) * kc, bs, C + int64_t(ip) * ldc + j, ldc, std::min(MR, M - ip), nr,
                        alpha, beta_slice);
          }
        }
      }
    }
  });
}

}  // namespace

void gemm_builtin(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                  const float* B, int ldb, float beta, float* C, int ldc) {
  const Operand a{A, lda, trans_a};
  const Operand b{B, ldb, trans_b};
  const int threads = num_threads();
  const int m_panels = (M + MR - 1) / MR;

  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int n_panels = (nc + NR - 1) / NR;
    int tm = 1, tn = 1;
    choose_grid(threads, m_panels, n_panels, M, nc, &tm, &tn);
    if (tm == 1 && M <= MC) {
      gemm_few_rows(a, Operand{B + (trans_b ? int64_t(jc) * ldb : jc), ldb, trans_b}, M, nc, K, alpha, beta, C + jc,
                    ldc, tn);
      continue;
    }
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      // The first K slice applies the caller's beta; later slices accumulate onto it.
      const float beta_slice = pc == 0 ? beta : 1.0f;
      float* bp = t_pack_b.get(size_t(n_panels) * NR * kc);

      parallel_for(0, n_panels, 4, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s) {
          const int j = int(s) * NR;
          pack_b_panel(b, pc, kc, jc + j, std::min(NR, nc - j), bp + s * int64_t(NR) * kc);
        }
      });

      parallel_for(0, int64_t(tm) * tn, 1, [&](int64_t t0, int64_t t1) {
        float* ap = t_pack_a.get(size_t(MC) * kc);
        for (int64_t t = t0; t < t1; ++t) {
          const int ti = int(t / tn), tj = int(t % tn);
          const int pm0 = part_bound(m_panels, tm, ti), pm1 = part_bound(m_panels, tm, ti + 1);
          const int pn0 = part_bound(n_panels, tn, tj), pn1 = part_bound(n_panels, tn, tj + 1);
          for (int ic = pm0 * MR; ic < std::min(M, pm1 * MR); ic += MC) {
            const int mc = std::min({MC, M - ic, pm1 * MR - ic});
            pack_a(a, ic, mc, pc, kc, ap);
            for (int s = pn0; s < pn1; ++s) {
              const int j = s * NR;
              const int nr = std::min(NR, nc - j);
              const float* bs = bp + int64_t(s) * NR * kc;
              for (int ip = 0; ip < mc; ip += MR) {
                microkernel(kc, ap + int64_t(ip) * kc, bs, C + int64_t(ic + ip) * ldc + jc + j, ldc,
                            std::min(MR, mc - ip), nr, alpha, beta_slice);
              }
            }
          }
        }
      });
    }
  }
}

}  // namespace gemm_detail
}  // namespace evnn
