// Event-driven products for the sparse layers: the cost of each is proportional to the number of
// events (nonzeros) or of selected outputs, never to the dense size. Every output element is
// summed by one thread in a fixed order, so results do not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace evnn {

// The nonzeros of a row-major [rows, cols] matrix, row by row (CSR without a copy of the shape).
struct EventRows {
  int rows = 0;
  std::vector<int64_t> offsets;  // rows + 1
  std::vector<int> index;        // column of each nonzero
  std::vector<float> value;
  int64_t count() const { return offsets.empty() ? 0 : offsets.back(); }
};

// Collects the nonzeros of a (rows × cols, leading dimension ld). A null a gives no events.
void find_events(const float* a, int rows, int cols, int64_t ld, EventRows* out);

// c[m, :] = (accumulate ? c[m, :] : 0) + Σ_{k ∈ events(m)} a[m,k] · b[k, :], b is [K, G], c is [rows, G].
void event_rows_times(const EventRows& a, const float* b, int G, float* c, bool accumulate);

// db[k, :] = (accumulate ? db[k, :] : 0) + Σ_m Σ_{k ∈ events(m)} a[m,k] · d[m, :]; db is [K, G],
// d is [a.rows, G]. Only rows of db that receive an event are touched besides the zeroing.
void event_outer_add(const EventRows& a, int K, const float* d, int G, float* db, bool accumulate);

// out[m, k] = d[m, :] · b[k, :] (length G) where select[m, k] != 0 (select null: everywhere);
// elsewhere out[m, k] = 0. d is [rows, G], b is [K, G], out and select are [rows, K].
void selected_row_dots(int rows, int K, int G, const float* d, const float* b, const uint8_t* select,
                       float* out);

}  // namespace evnn
