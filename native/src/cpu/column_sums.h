// Column sums of a row-major matrix, accumulated in float64: out[c] = Σ_i m[i, c]. Columns are
// split over threads and each column is summed in row order, so the result does not depend on
// the thread count.
#pragma once
#include <cstdint>

namespace evnn {

void column_sums(const float* m, int64_t rows, int64_t cols, float* out);

}  // namespace evnn
