// Column sums of a row-major matrix, accumulated in float64: out[c] = Σ_i m[i, c]. Columns are
// split over threads and each column is summed in row order, so the result does not depend on
// the thread count.
#pragma once
#include <cstdint>

namespace evnn {

void column_sums(const float* m, int64_t rows, int64_t cols, float* out);

// acc[c − c0] += Σ_i m[i, c] for c in [c0, c1) of a row-major [rows, cols] matrix: a running
// float64 sum over several chunks of rows (same thread-count independence).
void add_column_sums(const float* m, int64_t rows, int64_t cols, int64_t c0, int64_t c1, double* acc);

}  // namespace evnn
