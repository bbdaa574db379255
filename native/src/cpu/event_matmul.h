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

// ---- kernels of the delta layers (delta_gru.cc, delta_lstm.cc, through delta_common.h) ----------

// Columns of the register tile of event_tile_accumulate (128 where the build targets AVX-512,
// else 64).
int event_tile_columns();

// c[0, width) += Σ_p val[p] · b[idx[p] · ldb + j0 + (0 .. width)], p in order, for any width up to
// event_tile_columns(): whole vectors kept in registers while the events stream by (with the rows
// of later events prefetched), then the last width % lanes columns element-wise. Each element sums
// its events in list order.
void event_tile_accumulate(const int* idx, const float* val, int64_t n, const float* b, int64_t ldb, int j0,
                           int width, float* c);

// out[p] = d[0, G) · b[idx[p] · ldb + (0 .. G)] for p in [0, n): eight dots per pass share each
// load of d; each dot's lanes are summed in a fixed order, then its last G % lanes terms.
void event_row_dots(const float* d, int G, const float* b, int64_t ldb, const int* idx, int64_t n, float* out);

// Event lists of `rows` rows in fixed-size slots: row m has count[m] events, columns
// index[m·ld + p] with values value[m·ld + p] (p < count[m]).
struct EventLists {
  int rows = 0;
  const int* count = nullptr;
  const int* index = nullptr;
  const float* value = nullptr;
  int64_t ld = 0;
};

// db[k, :] += Σ_m Σ_{k ∈ events(m)} a[m,k] · d[m, :] (db [K, G], d [a.rows, G]): event_outer_add's
// sum with accumulate, for the delta layers' weight gradients over many rows of d. Each db element
// sums its terms in increasing m, whatever the thread count. The rows are taken in blocks whose
// slice of d under one column tile stays in L2 (every event of a block re-reads its row there),
// and the work is split over (column tile, block of k) pairs, so a narrow G still spreads over the
// threads.
void event_outer_accumulate(const EventLists& a, int K, const float* d, int G, float* db);

}  // namespace evnn
