// Event-driven products (see event_matmul.h). Columns of the dense operand are processed in
// blocks so the block of b (or db) that all events read stays in cache while rows stream by.
#include "event_matmul.h"

#include <algorithm>
#include <cstring>

#include "evnn/parallel.h"

namespace evnn {
namespace {

// Columns per cache block: 256 floats = 1 KiB per row of b; a [512, 256] block is 512 KiB (L2).
constexpr int kColumnBlock = 256;

// Dot product with 16 independent partial sums, so the compiler vectorises it without
// reassociating a single sum (-ffast-math is not used anywhere in the engine).
inline float dot(const float* __restrict a, const float* __restrict b, int n) {
  float acc[16] = {0};
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    for (int l = 0; l < 16; ++l) acc[l] += a[j + l] * b[j + l];
  }
  float s = 0.0f;
  for (; j < n; ++j) s += a[j] * b[j];
  for (int l = 0; l < 16; ++l) s += acc[l];
  return s;
}

inline void axpy(float alpha, const float* __restrict x, float* __restrict y, int n) {
  for (int j = 0; j < n; ++j) y[j] += alpha * x[j];
}

// Grain for splitting G columns over threads: whole blocks unless G is small.
int64_t column_grain(int G) { return std::max<int64_t>(16, std::min<int64_t>(kColumnBlock, G / 4)); }

}  // namespace

void find_events(const float* a, int rows, int cols, int64_t ld, EventRows* out) {
  out->rows = rows;
  out->offsets.assign(size_t(rows) + 1, 0);
  if (a == nullptr || rows == 0 || cols == 0) {
    out->index.clear();
    out->value.clear();
    return;
  }
  // Two passes (count, then fill) so rows are scanned in parallel into their final places.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max(cols, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = a + r * ld;
      int64_t n = 0;
      for (int k = 0; k < cols; ++k) n += row[k] != 0.0f;
      out->offsets[size_t(r) + 1] = n;
    }
  });
  for (int r = 0; r < rows; ++r) out->offsets[size_t(r) + 1] += out->offsets[size_t(r)];
  out->index.resize(size_t(out->count()));
  out->value.resize(size_t(out->count()));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = a + r * ld;
      int64_t p = out->offsets[size_t(r)];
      for (int k = 0; k < cols; ++k) {
        if (row[k] != 0.0f) {
          out->index[size_t(p)] = k;
          out->value[size_t(p)] = row[k];
          ++p;
        }
      }
    }
  });
}

void event_rows_times(const EventRows& a, const float* b, int G, float* c, bool accumulate) {
  const int rows = a.rows;
  if (rows == 0 || G == 0) return;
  parallel_for(0, G, column_grain(G), [&](int64_t j0, int64_t j1) {
    for (int64_t jb = j0; jb < j1; jb += kColumnBlock) {
      const int len = int(std::min<int64_t>(kColumnBlock, j1 - jb));
      for (int m = 0; m < rows; ++m) {
        float* cm = c + int64_t(m) * G + jb;
        if (!accumulate) std::memset(cm, 0, sizeof(float) * size_t(len));
        for (int64_t p = a.offsets[size_t(m)]; p < a.offsets[size_t(m) + 1]; ++p) {
          axpy(a.value[size_t(p)], b + int64_t(a.index[size_t(p)]) * G + jb, cm, len);
        }
      }
    }
  });
}

void event_outer_add(const EventRows& a, int K, const float* d, int G, float* db, bool accumulate) {
  if (G == 0 || K == 0) return;
  parallel_for(0, G, column_grain(G), [&](int64_t j0, int64_t j1) {
    for (int64_t jb = j0; jb < j1; jb += kColumnBlock) {
      const int len = int(std::min<int64_t>(kColumnBlock, j1 - jb));
      if (!accumulate) {
        for (int k = 0; k < K; ++k) std::memset(db + int64_t(k) * G + jb, 0, sizeof(float) * size_t(len));
      }
      for (int m = 0; m < a.rows; ++m) {
        const float* dm = d + int64_t(m) * G + jb;
        for (int64_t p = a.offsets[size_t(m)]; p < a.offsets[size_t(m) + 1]; ++p) {
          axpy(a.value[size_t(p)], dm, db + int64_t(a.index[size_t(p)]) * G + jb, len);
        }
      }
    }
  });
}

void selected_row_dots(int rows, int K, int G, const float* d, const float* b, const uint8_t* select,
                       float* out) {
  if (rows == 0 || K == 0) return;
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, int64_t(K) * G / 64));
  parallel_for(0, rows, grain, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* dm = d + m * G;
      const uint8_t* sm = select ? select + m * K : nullptr;
      float* om = out + m * K;
      for (int k = 0; k < K; ++k) {
        om[k] = (sm == nullptr || sm[k]) ? dot(dm, b + int64_t(k) * G, G) : 0.0f;
      }
    }
  });
}

}  // namespace evnn
