#include "column_sums.h"

#include <algorithm>
#include <vector>

#include "evnn/parallel.h"

namespace evnn {

void column_sums(const float* m, int64_t rows, int64_t cols, float* out) {
  // Blocks of 64 columns: a float64 accumulator row that stays in L1 while rows stream by.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  parallel_for(0, blocks, std::max<int64_t>(1, 65536 / std::max<int64_t>(rows, 1) / kBlock), [&](int64_t b0, int64_t b1) {
    double acc[kBlock];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t c0 = blk * kBlock, len = std::min(kBlock, cols - c0);
      std::fill(acc, acc + len, 0.0);
      for (int64_t i = 0; i < rows; ++i) {
        const float* row = m + i * cols + c0;
        for (int64_t k = 0; k < len; ++k) acc[k] += row[k];
      }
      for (int64_t k = 0; k < len; ++k) out[c0 + k] = float(acc[k]);
    }
  });
}

void add_column_sums(const float* m, int64_t rows, int64_t cols, int64_t c0, int64_t c1, double* acc) {
  parallel_for(c0, c1, 256, [&](int64_t b, int64_t e) {
    std::vector<double> s(size_t(e - b), 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = m + i * cols + b;
      for (int64_t k = 0; k < e - b; ++k) s[size_t(k)] += row[k];
    }
    for (int64_t k = 0; k < e - b; ++k) acc[b - c0 + k] += s[size_t(k)];
  });
}

}  // namespace evnn
