// Event-driven products (see event_matmul.h), register-tiled so that a sparse product runs close
// to a dense GEMM's speed per multiply-accumulate:
//  - accumulators of a 64-column tile live in registers while the events stream by;
//  - column tiles are the outer loop, so the tile of the dense operand that every event reads
//    (e.g. R[:, tile], 128 KiB for H = 512) stays in L2 across rows.
// GCC/Clang vector extensions give AVX2/AVX-512 code where the build enables it and SSE2 code
// elsewhere, from one source.
#include "event_matmul.h"

#include <algorithm>
#include <cstring>

#include "evnn/parallel.h"

namespace evnn {
namespace {

// A vector of floats with unaligned loads and stores allowed (aligned(4)): 16 lanes where the
// build targets AVX-512, else 8 (AVX2, or two SSE registers).
#if defined(__AVX512F__)
constexpr int kLanes = 16;
typedef float vf __attribute__((vector_size(64), aligned(4)));
#else
constexpr int kLanes = 8;
typedef float vf __attribute__((vector_size(32), aligned(4)));
#endif
constexpr int kTileVectors = 8;
constexpr int kTile = kLanes * kTileVectors;  // columns per register tile
constexpr int kPrefetchAhead = 4;              // events

inline vf load(const float* p) { return *reinterpret_cast<const vf*>(p); }
inline void store(float* p, vf v) { *reinterpret_cast<vf*>(p) = v; }
inline vf splat(float x) { return vf{} + x; }
// Lane sum in a fixed order (pairwise halves), so a dot's rounding does not depend on the caller.
inline float hsum(vf v) {
  float t[kLanes];
  std::memcpy(t, &v, sizeof t);
  for (int w = kLanes / 2; w > 0; w /= 2) {
    for (int i = 0; i < w; ++i) t[i] += t[i + w];
  }
  return t[0];
}

int64_t tiles_of(int G) { return (int64_t(G) + kTile - 1) / kTile; }

// acc[0..width) over one tile: c_row = (init ? c_row : 0) + Σ val_p · b[k_p, j0 .. j0+width).
// Full tiles keep the eight accumulators in registers; a narrower last tile goes element-wise.
inline void tile_axpys(const int* idx, const float* val, int64_t n, const float* b, int64_t ldb,
                       int j0, int width, float* c_row, bool init_from_c) {
  if (width == kTile) {
    vf acc[kTileVectors];
    for (int i = 0; i < kTileVectors; ++i) acc[i] = init_from_c ? load(c_row + i * kLanes) : splat(0.0f);
    for (int64_t p = 0; p < n; ++p) {
      // Events hit rows of b in no predictable order: fetch a later event's tile row now, or
      // every event waits out an L2 round trip.
      if (p + kPrefetchAhead < n) {
        const char* ahead = reinterpret_cast<const char*>(b + int64_t(idx[p + kPrefetchAhead]) * ldb + j0);
        for (int line = 0; line < kTile * 4; line += 64) __builtin_prefetch(ahead + line);
      }
      const vf s = splat(val[p]);
      const float* bp = b + int64_t(idx[p]) * ldb + j0;
      for (int i = 0; i < kTileVectors; ++i) acc[i] += s * load(bp + i * kLanes);
    }
    for (int i = 0; i < kTileVectors; ++i) store(c_row + i * kLanes, acc[i]);
    return;
  }
  float acc[kTile];
  for (int i = 0; i < width; ++i) acc[i] = init_from_c ? c_row[i] : 0.0f;
  for (int64_t p = 0; p < n; ++p) {
    const float s = val[p];
    const float* bp = b + int64_t(idx[p]) * ldb + j0;
    for (int i = 0; i < width; ++i) acc[i] += s * bp[i];
  }
  std::memcpy(c_row, acc, sizeof(float) * size_t(width));
}

// c rows [0, rows) of one tile: the rows' event lists (CSR offsets/idx/val) times b's tile.
inline void tile_rows(int rows, const int64_t* off, const int* idx, const float* val, const float* b,
                      int64_t ldb, int j0, int width, float* c, int64_t ldc, bool init_from_c) {
  for (int m = 0; m < rows; ++m) {
    const int64_t p0 = off[m], n = off[m + 1] - p0;
    if (n == 0 && init_from_c) continue;  // nothing to add
    tile_axpys(idx + p0, val + p0, n, b, ldb, j0, width, c + int64_t(m) * ldc + j0, init_from_c);
  }
}

}  // namespace

void find_events(const float* a, int rows, int cols, int64_t ld, EventRows* out) {
  out->rows = rows;
  out->offsets.assign(size_t(rows) + 1, 0);
  if (a == nullptr || rows == 0 || cols == 0) {
    out->index.clear();
    out->value.clear();
    return;
  }
  // Two passes (count, then fill) so rows are scanned in parallel into their final places; a
  // small matrix (one step's [N, H]) stays on one thread, where waking others costs more.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 17) / std::max(cols, 1));
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
  parallel_for(0, tiles_of(G), 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int j0 = int(t * kTile);
      const int width = std::min(kTile, G - j0);
      tile_rows(rows, a.offsets.data(), a.index.data(), a.value.data(), b, G, j0, width, c, G, accumulate);
    }
  });
}

void event_outer_add(const EventRows& a, int K, const float* d, int G, float* db, bool accumulate) {
  if (G == 0 || K == 0) return;
  // Transpose the events to columns (counting sort keeps each column's rows in increasing order,
  // so every db element sums its terms in a fixed order); then db[k, tile] is a register tile
  // fed by the rows of d that have an event in column k.
  const int64_t nnz = a.count();
  std::vector<int64_t> col_off(size_t(K) + 1, 0);
  for (int64_t p = 0; p < nnz; ++p) ++col_off[size_t(a.index[size_t(p)]) + 1];
  for (int k = 0; k < K; ++k) col_off[size_t(k) + 1] += col_off[size_t(k)];
  std::vector<int> col_row(static_cast<size_t>(nnz));
  std::vector<float> col_val(static_cast<size_t>(nnz));
  {
    std::vector<int64_t> fill(col_off.begin(), col_off.end() - 1);
    for (int m = 0; m < a.rows; ++m) {
      for (int64_t p = a.offsets[size_t(m)]; p < a.offsets[size_t(m) + 1]; ++p) {
        const int64_t q = fill[size_t(a.index[size_t(p)])]++;
        col_row[size_t(q)] = m;
        col_val[size_t(q)] = a.value[size_t(p)];
      }
    }
  }
  parallel_for(0, tiles_of(G), 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int j0 = int(t * kTile);
      const int width = std::min(kTile, G - j0);
      tile_rows(K, col_off.data(), col_row.data(), col_val.data(), d, G, j0, width, db, G, accumulate);
    }
  });
}

namespace {

constexpr int kDotChunk = 1024;  // columns of b per pass (and per lane sum of each dot)
constexpr int kBlockRows = 4;   // register block of the dense-enough path: 4 rows × 4 columns
constexpr int kBlockCols = 4;
constexpr int kGroup = 8;       // columns per pass of the per-row path: eight FMA chains
// The block kernel does a dot about 2.2x faster than the per-row path (measured, AVX-512), so a
// block with at least 7 of its 16 pairs selected is cheaper done whole.
constexpr int kBlockMinSelected = 7;

// Partial dots over columns [c0, c1) of one row of d against kGroup rows of b; adds to out.
inline void row_dots(const float* dm, const float* const* bk, int g, int c0, int vec_end, int c1,
                     float* const* outs) {
  vf acc[kGroup];
  for (int i = 0; i < kGroup; ++i) acc[i] = splat(0.0f);
  for (int j = c0; j < vec_end; j += kLanes) {
    const vf dv = load(dm + j);
    for (int i = 0; i < kGroup; ++i) acc[i] += dv * load(bk[i] + j);
  }
  for (int i = 0; i < g; ++i) {
    float sum = hsum(acc[i]);
    for (int j = vec_end; j < c1; ++j) sum += dm[j] * bk[i][j];
    *outs[i] += sum;
  }
}

// The same partial dots for a kBlockRows × kBlockCols block: each load of d serves four columns
// and each load of b four rows. Writes only the selected pairs (sel[r][k]).
inline void block_dots(const float* const* dr, const float* const* bk, const bool (*sel)[kBlockCols],
                       int c0, int vec_end, int c1, float* const* orow, const int* kcol) {
  vf acc[kBlockRows][kBlockCols];
  for (int r = 0; r < kBlockRows; ++r) {
    for (int k = 0; k < kBlockCols; ++k) acc[r][k] = splat(0.0f);
  }
  for (int j = c0; j < vec_end; j += kLanes) {
    vf dv[kBlockRows];
    for (int r = 0; r < kBlockRows; ++r) dv[r] = load(dr[r] + j);
    for (int k = 0; k < kBlockCols; ++k) {
      const vf bv = load(bk[k] + j);
      for (int r = 0; r < kBlockRows; ++r) acc[r][k] += dv[r] * bv;
    }
  }
  for (int r = 0; r < kBlockRows; ++r) {
    for (int k = 0; k < kBlockCols; ++k) {
      if (!sel[r][k]) continue;
      float sum = hsum(acc[r][k]);
      for (int j = vec_end; j < c1; ++j) sum += dr[r][j] * bk[k][j];
      orow[r][kcol[k]] += sum;
    }
  }
}

}  // namespace

void selected_row_dots(int rows, int K, int G, const float* d, const float* b, const uint8_t* select,
                       float* out) {
  if (rows == 0 || K == 0) return;
  // Groups of kBlockRows rows are split over threads (each output belongs to one thread), and
  // the dots run over column chunks of b, chunk-major, so the chunk every row reads stays in L2.
  // Within a chunk, a 4×4 block of (row, column) pairs with at least kBlockMinSelected selected
  // goes through the register-blocked kernel (a GEMM-like reuse of every load); the pairs of
  // sparser blocks go row by row, eight columns at a time. Work is thus at most 16/7 of the
  // selected pairs, and a block with no selected pair costs nothing. Each output sums its chunks
  // in order and its lanes in a fixed order, whichever path computed it.
  const int groups = (rows + kBlockRows - 1) / kBlockRows;
  const int64_t grain = std::max<int64_t>(1, 16384 / (int64_t(K) * std::max(G, 1)));
  parallel_for(0, groups, grain, [&](int64_t g0, int64_t g1) {
    const int m_begin = int(g0) * kBlockRows, m_end = std::min(rows, int(g1) * kBlockRows);
    for (int m = m_begin; m < m_end; ++m) std::fill(out + int64_t(m) * K, out + int64_t(m + 1) * K, 0.0f);
    // Per row of the group: the selected columns left to the per-row path in this group.
    std::vector<int> sparse_ks[kBlockRows];
    for (int c0 = 0; c0 < G; c0 += kDotChunk) {
      const int c1 = std::min(G, c0 + kDotChunk);
      const int vec_end = c0 + (c1 - c0) / kLanes * kLanes;
      for (int64_t grp = g0; grp < g1; ++grp) {
        const int r0 = int(grp) * kBlockRows;
        const int nr = std::min(kBlockRows, rows - r0);
        const float* dr[kBlockRows];
        float* orow[kBlockRows];
        for (int r = 0; r < kBlockRows; ++r) {
          const int m = r0 + std::min(r, nr - 1);  // a short group repeats its last row, unselected
          dr[r] = d + int64_t(m) * G;
          orow[r] = out + int64_t(m) * K;
          sparse_ks[r].clear();
        }
        for (int k0 = 0; k0 < K; k0 += kBlockCols) {
          bool sel[kBlockRows][kBlockCols];
          int kcol[kBlockCols];
          const float* bk[kBlockCols];
          int count = 0;
          for (int k = 0; k < kBlockCols; ++k) {
            kcol[k] = std::min(k0 + k, K - 1);
            bk[k] = b + int64_t(kcol[k]) * G;
            for (int r = 0; r < kBlockRows; ++r) {
              sel[r][k] = k0 + k < K && r < nr &&
                          (select == nullptr || select[int64_t(r0 + r) * K + k0 + k] != 0);
              count += sel[r][k];
            }
          }
          if (count >= kBlockMinSelected) {
            block_dots(dr, bk, sel, c0, vec_end, c1, orow, kcol);
          } else if (count > 0) {
            for (int r = 0; r < kBlockRows; ++r) {
              for (int k = 0; k < kBlockCols; ++k) {
                if (sel[r][k]) sparse_ks[r].push_back(k0 + k);
              }
            }
          }
        }
        for (int r = 0; r < nr; ++r) {
          const std::vector<int>& ks = sparse_ks[r];
          const int n = int(ks.size());
          for (int q = 0; q < n; q += kGroup) {
            const int g = std::min(kGroup, n - q);
            const float* bk[kGroup];
            float* outs[kGroup];
            for (int i = 0; i < kGroup; ++i) {
              const int k = ks[size_t(q + (i < g ? i : 0))];
              bk[i] = b + int64_t(k) * G;
              outs[i] = orow[r] + k;
            }
            row_dots(dr[r], bk, g, c0, vec_end, c1, outs);
          }
        }
      }
    }
  });
}

}  // namespace evnn

// ---- kernels of the delta layers ---------------------------------------------------------------

namespace evnn {
namespace {

// c[0, V·kLanes + tail) += Σ_p val[p] · b[idx[p], j0 + ...]: V whole vectors in registers, then
// the tail columns element-wise in a second pass over the events (kept apart so the vector loop
// stays a plain register tile; it is only ever < kLanes columns).
template <int V>
inline void tile_accumulate(const int* idx, const float* val, int64_t n, const float* b, int64_t ldb, int j0,
                            int tail, float* c) {
  if (V > 0) {
    vf acc[V > 0 ? V : 1];
    for (int i = 0; i < V; ++i) acc[i] = load(c + i * kLanes);
    for (int64_t p = 0; p < n; ++p) {
      if (p + kPrefetchAhead < n) {
        const char* ahead = reinterpret_cast<const char*>(b + int64_t(idx[p + kPrefetchAhead]) * ldb + j0);
        for (int line = 0; line < V * kLanes * 4; line += 64) __builtin_prefetch(ahead + line);
      }
      const vf s = splat(val[p]);
      const float* bp = b + int64_t(idx[p]) * ldb + j0;
      for (int i = 0; i < V; ++i) acc[i] += s * load(bp + i * kLanes);
    }
    for (int i = 0; i < V; ++i) store(c + i * kLanes, acc[i]);
  }
  if (tail > 0) {
    float acc[kLanes];
    float* ct = c + V * kLanes;
    for (int i = 0; i < tail; ++i) acc[i] = ct[i];
    for (int64_t p = 0; p < n; ++p) {
      const float s = val[p];
      const float* bp = b + int64_t(idx[p]) * ldb + j0 + V * kLanes;
      for (int i = 0; i < tail; ++i) acc[i] += s * bp[i];
    }
    for (int i = 0; i < tail; ++i) ct[i] = acc[i];
  }
}

// kG dots of d against rows bk[0..kG) over G columns, written to out[0..kG).
template <int kG>
inline void row_dots_group(const float* d, int G, const float* const* bk, float* out) {
  const int vec_end = G / kLanes * kLanes;
  vf acc[kG];
  for (int i = 0; i < kG; ++i) acc[i] = splat(0.0f);
  for (int j = 0; j < vec_end; j += kLanes) {
    const vf dv = load(d + j);
    for (int i = 0; i < kG; ++i) acc[i] += dv * load(bk[i] + j);
  }
  for (int i = 0; i < kG; ++i) {
    float sum = hsum(acc[i]);
    for (int j = vec_end; j < G; ++j) sum += d[j] * bk[i][j];
    out[i] = sum;
  }
}

template <int kG>
inline void dots_of(const float* d, int G, const float* b, int64_t ldb, const int* idx, float* out) {
  const float* bk[kG];
  for (int i = 0; i < kG; ++i) bk[i] = b + int64_t(idx[i]) * ldb;
  row_dots_group<kG>(d, G, bk, out);
}

constexpr int64_t kOuterBlockFloats = int64_t(1) << 17;  // 512 KiB of d per column tile and row block
constexpr int64_t kOuterMinWork = int64_t(1) << 15;      // multiply-accumulates worth a thread

}  // namespace

int event_tile_columns() { return kTile; }

void event_tile_accumulate(const int* idx, const float* val, int64_t n, const float* b, int64_t ldb, int j0,
                           int width, float* c) {
  if (n == 0 || width <= 0) return;
  const int tail = width % kLanes;
  switch (width / kLanes) {
    case 0: tile_accumulate<0>(idx, val, n, b, ldb, j0, tail, c); break;
    case 1: tile_accumulate<1>(idx, val, n, b, ldb, j0, tail, c); break;
    case 2: tile_accumulate<2>(idx, val, n, b, ldb, j0, tail, c); break;
    case 3: tile_accumulate<3>(idx, val, n, b, ldb, j0, tail, c); break;
    case 4: tile_accumulate<4>(idx, val, n, b, ldb, j0, tail, c); break;
    case 5: tile_accumulate<5>(idx, val, n, b, ldb, j0, tail, c); break;
    case 6: tile_accumulate<6>(idx, val, n, b, ldb, j0, tail, c); break;
    case 7: tile_accumulate<7>(idx, val, n, b, ldb, j0, tail, c); break;
    default: tile_accumulate<8>(idx, val, n, b, ldb, j0, tail, c); break;  // width == kTile
  }
}

void event_row_dots(const float* d, int G, const float* b, int64_t ldb, const int* idx, int64_t n, float* out) {
  int64_t p = 0;
  for (; p + 8 <= n; p += 8) dots_of<8>(d, G, b, ldb, idx + p, out + p);
  if (p + 4 <= n) dots_of<4>(d, G, b, ldb, idx + p, out + p), p += 4;
  if (p + 2 <= n) dots_of<2>(d, G, b, ldb, idx + p, out + p), p += 2;
  if (p < n) dots_of<1>(d, G, b, ldb, idx + p, out + p);
}

void event_outer_accumulate(const EventLists& a, int K, const float* d, int G, float* db) {
  if (G == 0 || K == 0 || a.rows == 0) return;
  // Bucket the events by (row block, column k), rows increasing within each bucket: a counting
  // sort, stable in m, each row block's counting and filling done by one thread (the blocks' buckets
  // are disjoint).
  const int64_t block_rows = std::max<int64_t>(1, kOuterBlockFloats / std::min(G, kTile));
  const int64_t blocks = (a.rows + block_rows - 1) / block_rows;
  const int64_t buckets = blocks * K;
  std::vector<int64_t> off(size_t(buckets) + 1, 0);
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      int64_t* cnt = off.data() + blk * K + 1;
      const int m1 = int(std::min<int64_t>(a.rows, (blk + 1) * block_rows));
      for (int m = int(blk * block_rows); m < m1; ++m) {
        const int* ix = a.index + m * a.ld;
        for (int p = 0; p < a.count[m]; ++p) ++cnt[ix[p]];
      }
    }
  });
  for (int64_t q = 0; q < buckets; ++q) off[size_t(q) + 1] += off[size_t(q)];
  const int64_t nnz = off[size_t(buckets)];
  if (nnz == 0) return;
  std::vector<int> rows(static_cast<size_t>(nnz));
  std::vector<float> vals(static_cast<size_t>(nnz));
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<int64_t> fill(static_cast<size_t>(K));
    for (int64_t blk = b0; blk < b1; ++blk) {
      std::copy(off.begin() + blk * K, off.begin() + (blk + 1) * K, fill.begin());
      const int m1 = int(std::min<int64_t>(a.rows, (blk + 1) * block_rows));
      for (int m = int(blk * block_rows); m < m1; ++m) {
        const int* ix = a.index + m * a.ld;
        const float* vx = a.value + m * a.ld;
        for (int p = 0; p < a.count[m]; ++p) {
          const int64_t q = fill[size_t(ix[p])]++;
          rows[size_t(q)] = m;
          vals[size_t(q)] = vx[p];
        }
      }
    }
  });
  // Work items: (column tile, block of k), tile-major; a thread's items sweep the row blocks in
  // order, so every db element takes its events in increasing m.
  const int64_t tiles = tiles_of(G);
  const int64_t kblocks = std::min<int64_t>(K, std::max<int64_t>(1, (4 * num_threads() + tiles - 1) / tiles));
  const int64_t kper = (K + kblocks - 1) / kblocks;
  const int64_t items = tiles * kblocks;
  const int64_t work_per_item = std::max<int64_t>(1, nnz * G / items);
  const int64_t grain = std::max<int64_t>(1, kOuterMinWork / work_per_item);
  parallel_for(0, items, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t it = i0; it < i1; ++it) {
      const int j0 = int((it / kblocks) * kTile);
      const int width = std::min(kTile, G - j0);
      const int k0 = int((it % kblocks) * kper), k1 = int(std::min<int64_t>(K, k0 + kper));
      for (int64_t blk = 0; blk < blocks; ++blk) {
        for (int k = k0; k < k1; ++k) {
          const int64_t q = blk * K + k, p0 = off[size_t(q)], n = off[size_t(q) + 1] - p0;
          if (n > 0) event_tile_accumulate(rows.data() + p0, vals.data() + p0, n, d, G, j0, width, db + int64_t(k) * G + j0);
        }
      }
    }
  });
}

}  // namespace evnn
