// What the CPU delta layers (delta_gru.cc, delta_lstm.cc) share: the thresholded delta of one row
// with its event list, the blocked transpose of the weights, the forward's event product fused
// with the pointwise gates and the forward's time loop, and the pieces of the event-driven backward
// (each step's Δ lists rebuilt from the cached memories, the routing of dL/dx̂ and dL/dĥ to the last
// update through running sums, the chunk's event lists, the choice between the event and the dense
// backward).
//
// Event-driven backward (BPTT with the threshold masks held, as the dense one): M_t = b + W x̂_t +
// U ĥ_t with x̂_t = Σ_{s≤t} Δx_s, so with dA_t = dL/dM_t and G_t = Σ_{t'≥t} dA_{t'} (a running sum
// backward in time): dW = Σ_s G_s Δx_sᵀ over the nonzero Δx_s entries only (dU likewise with Δh),
// db = G_0; and the gradient reaching x_t[i] through x̂ at an update of entry i (mask 1) whose next
// update is at u (or T) is W[:, i]ᵀ (G_t − G_u) — kept per entry as S[i] = W[:, i]ᵀ G_u, the dot of
// its later update, so each update costs one dot (ĥ → h_{t−1} the same). Rows are independent and
// each one's recursion is sequential in t: per time chunk, phase 1 runs the rows in parallel (the
// pointwise gradients, G_t into the chunk's scratch, the step's Δ lists, the routed dots), phase 2
// accumulates the weight gradients over the chunk's events, split over weight columns
// (event_outer_accumulate).
// Rounding: a routed gradient is the difference of two float32 dots of running sums, so its error
// scales with |G_t| (the sum over the rest of the sequence) rather than with |G_t − G_u| — the
// same gradients as the dense path's to float32 rounding (the checks hold both to the float64
// reference at the same tolerance), a little less accurate for very long sequences.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "event_matmul.h"
#include "evnn/context.h"
#include "evnn/delta_gru.h"
#include "evnn/fixed_point.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace evnn {
namespace delta {

constexpr int64_t kPointGrain = 4096;
// A chunk of the forward's event product worth a thread, in multiply-accumulates (counting the
// pointwise gates of a unit as kGateCost). Measured at batch 1 on the 2-core development machine
// (bench/delta.mjs's streaming shapes, 2 threads): at 16384 a 256-unit DeltaGRU step (~29k MACs at
// Θ = 0.1) split in two and took 2.6 µs/frame against 1.2 on one thread; at 65536 it stays on one
// thread (1.2 µs) while a 1024-unit step (~370k MACs) still splits (14–15 µs against 19.8).
constexpr int64_t kEventMinWork = 65536;
constexpr int64_t kGateCost = 16;

// Δ of one row of width W against the memory `hat`, thresholded: passed on (an event) where
// |Δ| >= theta and nonzero; hat takes the new value where |Δ| >= theta_update, and the mask (1/0)
// says where it did. Appends the events to (idx, val) and returns their count. With kQuant the
// incoming values are first quantised to `q` (qa's x). The two thresholds are equal except under
// qa in the DeltaLSTM, whose reference zeroes with Q(Θ) but moves its memories with Θ
// (delta_lstm.cc): with Q(Θ) < Θ a Δ in [Q(Θ), Θ) is passed on while hat stays, so the next step
// takes its Δ against the unmoved memory again (without qa, or in the DeltaGRU, the two coincide).
// (Without kQuant and with AVX-512, 16 entries at a time, one compare per threshold, the events
// compressed in a register and stored whole — the store stays inside the W-long slot, nnz ≤ c;
// the same decisions and values.)
template <bool kQuant>
inline int delta_row(int W, float theta, float theta_update, const float* __restrict v, float* __restrict hat,
                     float* __restrict mask, int* __restrict idx, float* __restrict val, const fixed_point::Format& q) {
  int nnz = 0;
  int c = 0;
#if defined(__AVX512F__)
  if (!kQuant) {
    const __m512 th = _mm512_set1_ps(theta), thu = _mm512_set1_ps(theta_update), zero = _mm512_setzero_ps(),
                 one = _mm512_set1_ps(1.0f);
    __m512i cs = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; c + 16 <= W; c += 16) {
      const __m512 vc = _mm512_loadu_ps(v + c), hc = _mm512_loadu_ps(hat + c);
      const __m512 dlt = _mm512_sub_ps(vc, hc), mag = _mm512_abs_ps(dlt);
      // |Δ| >= θ, |Δ| >= θ_update (each false for a NaN, as std::fabs(dlt) >= theta)
      const __mmask16 keep = _mm512_cmp_ps_mask(mag, th, _CMP_GE_OQ);
      const __mmask16 upd = _mm512_cmp_ps_mask(mag, thu, _CMP_GE_OQ);
      _mm512_storeu_ps(mask + c, _mm512_maskz_mov_ps(upd, one));
      _mm512_storeu_ps(hat + c, _mm512_mask_mov_ps(hc, upd, vc));
      const __mmask16 ev = keep & _mm512_cmp_ps_mask(dlt, zero, _CMP_NEQ_UQ);
      _mm512_storeu_si512(idx + nnz, _mm512_maskz_compress_epi32(ev, cs));
      _mm512_storeu_ps(val + nnz, _mm512_maskz_compress_ps(ev, dlt));
      nnz += __builtin_popcount(unsigned(ev));
      cs = _mm512_add_epi32(cs, _mm512_set1_epi32(16));
    }
  }
#endif
  for (; c < W; ++c) {
    const float vc = kQuant ? fixed_point::Quantize(v[c], q, true) : v[c];
    const float dlt = vc - hat[c];
    const float mag = std::fabs(dlt);
    const bool upd = mag >= theta_update;
    mask[c] = upd ? 1.0f : 0.0f;
    if (upd) hat[c] = vc;
    if (mag >= theta && dlt != 0.0f) {
      idx[nnz] = c;
      val[nnz] = dlt;
      ++nnz;
    }
  }
  return nnz;
}

// dst [cols, rows] = src [rows, cols]^T (kAdd: +=), kRows source rows at a time: for each column
// those rows fill kRows consecutive floats of dst (a whole cache line), and the source is read as
// kRows sequential streams. (A plain transpose, or square tiles, writes or reads at a
// power-of-two stride — 4H floats — whose lines all map to the same few L1 sets: it cost more
// than a sparse forward's products.) Row blocks split over threads; each element written once.
template <bool kAdd = false>
inline void transpose(const float* __restrict src, int rows, int cols, float* __restrict dst) {
  constexpr int kRows = 16;
  const int64_t blocks = (rows + kRows - 1) / kRows;
  const int64_t grain = std::max<int64_t>(1, 65536 / (int64_t(kRows) * std::max(cols, 1)));
  parallel_for(0, blocks, grain, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const int r0 = int(blk) * kRows, r1 = std::min(rows, r0 + kRows);
      for (int c = 0; c < cols; ++c) {
        float* __restrict out = dst + size_t(c) * rows;
        for (int r = r0; r < r1; ++r) {
          if (kAdd) out[r] += src[size_t(r) * cols + c];
          else out[r] = src[size_t(r) * cols + c];
        }
      }
    }
  });
}

// ---- forward: the event product, fused with the gates ------------------------------------------

// One gate's slice of a row's memory: where it starts in the memory, and the first column of the
// transposed weights that feed it from the x side (wx) and the h side (wh); −1: no events.
struct GateTile {
  int mem, wx, wh;
};

// One step's event lists, per batch row n at n·ld: entries idx, values val, count nnz[n].
struct RowEvents {
  const int* idx;
  const float* val;
  const int* nnz;
  size_t ld;
};

// M[n, tile.mem + u] += Σ_x events val · Wt[idx, tile.wx + u] + Σ_h events val · Ut[idx, tile.wh + u]
// for the rows [n0, n1) and units [u0, u1) (at most one register tile wide), every gate tile, then
// gates(n, u0, u1) on the units just completed. Every memory element takes its x events, then its h
// events, in list order, whoever runs it.
template <int kTiles, class Gates>
inline void products_block(int n0, int n1, int u0, int u1, const GateTile (&tiles)[kTiles], const float* Wt,
                           const float* Ut, int ldw, const RowEvents& x, const RowEvents& h, float* mem, int ldm,
                           const Gates& gates) {
  for (int n = n0; n < n1; ++n) {
    float* m = mem + size_t(n) * ldm;
    const size_t xi = size_t(n) * x.ld, hi = size_t(n) * h.ld;
    for (const GateTile& g : tiles) {
      if (g.wx >= 0) event_tile_accumulate(x.idx + xi, x.val + xi, x.nnz[n], Wt, ldw, g.wx + u0, u1 - u0, m + g.mem + u0);
      if (g.wh >= 0) event_tile_accumulate(h.idx + hi, h.val + hi, h.nnz[n], Ut, ldw, g.wh + u0, u1 - u0, m + g.mem + u0);
    }
    gates(n, u0, u1);
  }
}

// Rows per forward chunk at or above which each thread runs the whole sequence for its own batch
// rows (rows are independent), with no synchronisation between steps, when the transposed weights
// (every thread streams all of them each step) are at most kRowModeWeightFloats (2 MiB: within a
// core's L2 on the development machine, so each thread's copy stays there). Otherwise, and at
// batch 1, each step is split over the threads by blocks of units (products_and_gates).
constexpr int64_t kRowModeWeightFloats = int64_t(1) << 19;

// One step's products for all rows, fused with the gates, split over the threads: work items are
// (block of units of one register tile's width, block of rows), unit-block-major, so a chunk sweeps
// its rows under one unit block and that block's weight columns stay in cache across the batch; at
// batch 1 the unit blocks themselves split over the threads when the step has enough events
// (kEventMinWork).
template <int kTiles, class Gates>
void products_and_gates(int N, int H, const GateTile (&tiles)[kTiles], const float* Wt, const float* Ut, int ldw,
                        const RowEvents& x, const RowEvents& h, float* mem, int ldm, const Gates& gates) {
  const int w = event_tile_columns();
  const int ublocks = (H + w - 1) / w;
  const int rblocks = std::min(N, std::max(1, (4 * num_threads() + ublocks - 1) / ublocks));
  const int rper = (N + rblocks - 1) / rblocks;
  const int64_t items = int64_t(ublocks) * rblocks;
  int x_tiles = 0, h_tiles = 0;
  for (const GateTile& g : tiles) x_tiles += g.wx >= 0, h_tiles += g.wh >= 0;
  int64_t per_unit = int64_t(N) * kGateCost;  // work per unit column over all rows
  for (int n = 0; n < N; ++n) per_unit += int64_t(x.nnz[n]) * x_tiles + int64_t(h.nnz[n]) * h_tiles;
  const int64_t per_item = std::max<int64_t>(1, per_unit * H / items);
  const int64_t grain = std::max<int64_t>(1, (kEventMinWork + per_item - 1) / per_item);
  parallel_for(0, items, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t it = i0; it < i1; ++it) {
      const int u0 = int(it / rblocks) * w;
      const int n0 = int(it % rblocks) * rper;
      products_block(n0, std::min(N, n0 + rper), u0, std::min(H, u0 + w), tiles, Wt, Ut, ldw, x, h, mem, ldm, gates);
    }
  });
}

// The forward's time loop. deltas(t, n): row n's thresholded deltas at step t (its event lists in
// x, h); gates(t, n, u0, u1): the pointwise step of row n's units [u0, u1) once their memories are
// complete. Either each thread runs every step for its own rows (N ≥ threads and small weights: one
// parallel region per call), or each step runs its deltas split by rows and its products split by
// unit blocks. Each element is computed the same way in both, so results do not depend on which.
template <int kTiles, class Deltas, class Gates>
void forward_steps(int T, int N, int H, const GateTile (&tiles)[kTiles], const float* Wt, const float* Ut, int ldw,
                   int64_t weight_floats, const RowEvents& x, const RowEvents& h, float* mem, int ldm,
                   const Deltas& deltas, const Gates& gates) {
  const int threads = num_threads();
  if (N >= threads && weight_floats <= kRowModeWeightFloats) {
    const int w = event_tile_columns();
    parallel_for(0, N, 1, [&](int64_t b0, int64_t b1) {
      const int n0 = int(b0), n1 = int(b1);
      for (int t = 0; t < T; ++t) {
        for (int n = n0; n < n1; ++n) deltas(t, n);
        auto g = [&](int n, int u0, int u1) { gates(t, n, u0, u1); };
        for (int u0 = 0; u0 < H; u0 += w) products_block(n0, n1, u0, std::min(H, u0 + w), tiles, Wt, Ut, ldw, x, h, mem, ldm, g);
      }
    });
    return;
  }
  for (int t = 0; t < T; ++t) {
    parallel_for(0, N, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = b0; n < b1; ++n) deltas(t, int(n));
    });
    products_and_gates(N, H, tiles, Wt, Ut, ldw, x, h, mem, ldm, [&](int n, int u0, int u1) { gates(t, n, u0, u1); });
  }
}

// ---- backward ------------------------------------------------------------------------------------

// Appends to (idx, val) from position n the k in [k0, W) with v(k) = cur[k] − prev[k] (prev
// null: cur[k]) nonzero; with kMask, the k with cur[k] != 0 (the values are then not stored).
// Branch-free; with AVX-512, 16 entries a time compressed in a register and stored whole (the
// store stays inside the W-long slot: n ≤ k). Returns the new n.
template <bool kMask>
inline int compact(int W, const float* __restrict cur, const float* __restrict prev, int* __restrict idx,
                   float* __restrict val, int n) {
  int k = 0;
#if defined(__AVX512F__)
  const __m512 zero = _mm512_setzero_ps();
  __m512i ks = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; k + 16 <= W; k += 16) {
    const __m512 c = _mm512_loadu_ps(cur + k);
    const __m512 v = prev ? _mm512_sub_ps(c, _mm512_loadu_ps(prev + k)) : c;
    const __mmask16 m = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);  // as v != 0.0f
    _mm512_storeu_si512(idx + n, _mm512_maskz_compress_epi32(m, ks));
    if (!kMask) _mm512_storeu_ps(val + n, _mm512_maskz_compress_ps(m, v));
    n += __builtin_popcount(unsigned(m));
    ks = _mm512_add_epi32(ks, _mm512_set1_epi32(16));
  }
#endif
  for (; k < W; ++k) {
    const float v = prev ? cur[k] - prev[k] : cur[k];
    idx[n] = k;
    if (!kMask) val[n] = v;
    n += v != 0.0f;
  }
  return n;
}

// One row's events at one step. The nonzero Δ = cur − prev (prev null: 0) go to (idx, val): x̂
// (ĥ) took the value its delta was taken against, so this is the forward's very subtraction,
// nonzero exactly where the forward had an event. With upd, the updated entries (mask 1) go
// there, *n_upd their count. W-long slots; returns the Δ count.
inline int row_events(int W, const float* __restrict cur, const float* __restrict prev, const float* __restrict mask,
                      int* __restrict idx, float* __restrict val, int* __restrict upd, int* n_upd) {
  if (upd) *n_upd = compact<true>(W, mask, nullptr, upd, nullptr, 0);
  return compact<false>(W, cur, prev, idx, val, 0);
}

// One row's routing at one step over its updated entries upd[0..n): v = bt[i, :] · g (length G),
// out[i] += v − S[i] (kWrite: out[i] = v − S[i], and 0 at the W − n entries not updated), S[i] = v.
// dots: n floats of scratch.
template <bool kWrite>
inline void route_updates(const int* __restrict upd, int n, int W, const float* g, int G, const float* bt,
                          float* __restrict S, float* __restrict dots, float* __restrict out) {
  if (kWrite) std::fill(out, out + W, 0.0f);
  if (n == 0) return;
  event_row_dots(g, G, bt, G, upd, n, dots);
  for (int p = 0; p < n; ++p) {
    const int i = upd[p];
    out[i] += dots[p] - S[i];
    S[i] = dots[p];
  }
}

// The event lists of a chunk's phase 2: row m = (t − t0)·N + n holds step t's events of batch
// row n, in W-long slots. Three [steps·N·W]-sized (at most) workspace arrays.
struct ChunkEvents {
  int* count;
  int* index;
  float* value;
  int W;
  ChunkEvents(Workspace& ws, int S, int N, int W)
      : count(reinterpret_cast<int*>(ws.Floats(size_t(S) * N))),
        index(reinterpret_cast<int*>(ws.Floats(std::max<size_t>(size_t(S) * N * W, 1)))),
        value(ws.Floats(std::max<size_t>(size_t(S) * N * W, 1))),
        W(W) {}
  EventLists lists(int rows) const { return EventLists{rows, count, index, value, W}; }
  int64_t total(int rows) const {
    int64_t n = 0;
    for (int m = 0; m < rows; ++m) n += count[m];
    return n;
  }
};

// Entries of a 0/1 mask that are 1 (the updates): an exact count, summed per block in order.
inline int64_t count_updates(const float* mask, int64_t n) {
  constexpr int64_t kBlock = int64_t(1) << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<int64_t> counts(size_t(std::max<int64_t>(blocks, 1)), 0);
  parallel_for(0, blocks, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* p = mask + b * kBlock;
      const int64_t len = std::min(kBlock, n - b * kBlock);
      int64_t c = 0;
      for (int64_t i = 0; i < len; ++i) c += p[i] != 0.0f;
      counts[size_t(b)] = c;
    }
  });
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  return total;
}

// Which backward a call runs. kAuto: the event backward when its multiply-accumulates, predicted
// from the update counts (every update costs one dot, and about one outer-product row of the
// weight gradient), are below a fraction of the dense backward's — a fraction that depends on the
// GEMM kernel the dense backward would run.
//
// Measured on the 2-core development machine (AMD EPYC, family 26, AVX-512; 2 threads) at
// bench/delta.mjs's training shapes (T = 61, C = 16, H ∈ {64, 256}, N ∈ {32, 64}, AR(1) features,
// random weights U(±1/√H), dy = 1, no dx), both paths forced and timed round-robin (11–15 rounds,
// medians), Θ from 0.005 to 0.1 (MAC ratios 0.06–0.93), in two runs. The event backward was the
// faster one below a MAC ratio of, with the built-in GEMM: 0.42 / 0.45 (GRU H=64), 0.27–0.30 /
// 0.41 (GRU H=256), 0.25–0.32 / 0.53–0.65 (LSTM H=64), 0.25 / 0.30 (LSTM H=256); at ratio 0.14 it
// took 0.45–0.7 of the dense time, at 0.06 0.36–0.42. With OpenBLAS, whose dense backward is slower
// at these shapes: 0.55–0.65 in the first run (GRU H=64: at every ratio), 0.3–0.6 in the second,
// noisier one (OpenBLAS's own threads, spinning after its GEMMs, compete with the event path's on
// two cores). 0.3 and 0.4 lie at the low end of each kernel's crossovers, so between shapes the
// choice errs towards the dense path; near a crossover either path is within ~20% of the other.
constexpr double kEventBackwardRatioBuiltin = 0.3;
constexpr double kEventBackwardRatioOpenBLAS = 0.4;

inline bool use_event_backward(delta_gru::BackwardPath path, double event_macs, double dense_macs) {
  switch (path) {
    case delta_gru::BackwardPath::kDense: return false;
    case delta_gru::BackwardPath::kEvents: return true;
    default: break;
  }
  const double ratio = gemm_kernel() == GemmKernel::Builtin ? kEventBackwardRatioBuiltin : kEventBackwardRatioOpenBLAS;
  return event_macs < ratio * dense_macs;
}

}  // namespace delta
}  // namespace evnn
