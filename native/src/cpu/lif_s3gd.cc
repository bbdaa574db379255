// The S3GD backward of the LIF layer on the CPU (lif.h BackwardS3GD): δ at the active entries per
// row; dx at the lower layer's active entries per row, from w·dmem held in vector registers and
// walked back in time (one axpy of a row of wᵀ per active entry, kept pre-scaled so a step costs
// only its own entries); dW in the cheaper of two orders (lif.h DwOrder): over fixed groups of
// batch rows × ranges of input units, each walking its rows with its slice of the (pre-scaled)
// eligibility trace, or over ranges of hidden units, each walking every row backward with its
// slice of the masked dmem and adding it at the input events. Either way every dW element is
// summed in a fixed order, whatever the thread count.
#include "evnn/lif.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec16.h"

namespace evnn {
namespace lif {

namespace {

// batch-row groups of the S3GD dW by traces, each with its own accumulators (fixed, so that the
// sums do not depend on the thread count; 2 = the threads the bench and the model use)
constexpr int kGroups = 2;

using vec16::load16;
using vec16::v16f;

// n rounded up to a multiple of 16 floats (one cache line): the padded row length of the blocks.
inline size_t round16(int64_t n) { return size_t(n + 15) / 16 * 16; }

// [0, n) cut into `parts` contiguous ranges at multiples of 16 (the last ends at n): range k is
// [cut[k], cut[k + 1]).
std::vector<int> cuts16(int n, int parts) {
  std::vector<int> cut(static_cast<size_t>(parts) + 1);
  for (int k = 0; k <= parts; ++k) cut[size_t(k)] = std::min(n, int((int64_t(n) * k / parts + 8) / 16 * 16));
  cut[size_t(parts)] = n;
  return cut;
}

// The shape of a saved set. Its contents are Forward's own (sorted, in range): the sets come only
// from Forward, through handles whose dims the binding checks, so they are not rescanned here (a
// pass over every index cost 10% of layer 2's S3GD backward).
void check_set(const EventSet& s, const Dims& d, const char* fn, const char* name) {
  if (s.B != d.B || s.T != d.T || s.offsets.size() != size_t(d.B) * d.T + 1 || s.offsets.front() != 0 ||
      s.index.size() != size_t(s.count()) || s.value.size() != size_t(s.count()))
    throw std::invalid_argument(std::string("evnn::lif::") + fn + ": " + name + " does not match the dims");
}

// What the dx pass of BackwardS3GD reads.
struct DxPass {
  int T = 0, ldI = 0;           // ldI: wT's row length, I rounded up to a multiple of 16
  const float* wT = nullptr;    // [H, ldI]: wᵀ padded with zeros, 64-byte aligned
  const EventSet* A = nullptr;  // this layer's active set, with δ at its entries:
  const float* delta = nullptr;
  const EventSet* lower = nullptr;  // the layer below's active set (its columns: this layer's inputs)
  const float* pw = nullptr;        // β^k, k = 0 .. T
  const float* ipw = nullptr;       // β^−k, k < K
  int K = 1;
  float* dx_active = nullptr;
};

// dx at the lower entries of row b whose input unit lies in [i0, i0 + 16·NV), from y = w·dmem
// held in NV vector registers and walked back in time like dmem itself:
//   y_t = β·y_{t+1} + Σ_{active (b,t,j)} δ[b,t,j]·w[:,j],   dx[b,u,i] = y_{u+1}[i],
// i.e. one axpy of a row of wᵀ per active entry, and a lookup per lower entry (not an H-long dot
// per lower entry: no reductions, no dmem copies, and y never leaves the registers). y is kept
// pre-scaled as dmem is (value = β^{ref−t}·y, terms added times β^{−(ref−t)}, rebased at K).
template <int NV>
void dx_row_block(const DxPass& P, int64_t b, int i0) {
  v16f y[NV];
  for (int v = 0; v < NV; ++v) y[v] = v16f{};
  alignas(64) float ybuf[NV * 16];
  bool live = false;  // an active entry at a step > u: y ≠ 0
  int ref = P.T;
  const int i1 = i0 + 16 * NV;
  const int64_t* ao = P.A->offsets.data();
  const int* ai = P.A->index.data();
  const int64_t* lo = P.lower->offsets.data();
  const int* li = P.lower->index.data();
  for (int t = P.T - 1; t >= 1; --t) {
    const size_t r = size_t(b) * P.T + t;  // this layer's step t; the lower entries of step t − 1
    const int64_t a0 = ao[r], a1 = ao[r + 1], l0 = lo[r - 1], l1 = lo[r];
    if (a1 > a0) {
      if (!live) {
        live = true, ref = t;
      } else if (ref - t >= P.K) {
        const float f = P.pw[ref - t];
        for (int v = 0; v < NV; ++v) y[v] *= f;
        ref = t;
      }
      const float f = P.ipw[ref - t];
      for (int64_t p = a0; p < a1; ++p) {
        const float c = f * P.delta[p];
        const float* wr = P.wT + size_t(ai[p]) * P.ldI + i0;
        for (int v = 0; v < NV; ++v) y[v] += c * load16(wr + 16 * v);
      }
    }
    if (l1 == l0) continue;
    int64_t q = l0;
    while (q < l1 && li[q] < i0) ++q;  // ascending within the step
    if (q == l1 || li[q] >= i1) continue;
    if (!live) {
      for (; q < l1 && li[q] < i1; ++q) P.dx_active[q] = 0.0f;
      continue;
    }
    std::memcpy(ybuf, y, sizeof ybuf);
    const float f = P.pw[ref - t];
    for (; q < l1 && li[q] < i1; ++q) P.dx_active[q] = f * ybuf[li[q] - i0];
  }
}

using DxRowBlock = void (*)(const DxPass&, int64_t, int);
template <int... N>
constexpr std::array<DxRowBlock, sizeof...(N)> dx_row_blocks(std::integer_sequence<int, N...>) {
  return {&dx_row_block<N + 1>...};
}
// blocks of up to 16 vectors (256 input units): y then fits in the 32 vector registers
constexpr int kDxBlockVectors = 16;
constexpr auto kDxRowBlock = dx_row_blocks(std::make_integer_sequence<int, kDxBlockVectors>{});

}  // namespace

void BackwardS3GD(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Saved& saved,
                  const float* dspk, const float* dspk_active, const float* dspk_row, const EventSet* lower,
                  float* dx_active, const Grads& g, Stats* stats) {
  const char* fn = "BackwardS3GD";
  recurrent::check_dims("lif", fn, d.T, d.B, d.I, d.H);
  recurrent::require("lif", w.w, fn, "w");
  recurrent::require("lif", g.dw, fn, "g.dw");
  if (dspk && dspk_active) throw std::invalid_argument("evnn::lif::BackwardS3GD: give dspk or dspk_active, not both");
  if (!dspk && !dspk_active && !dspk_row)
    throw std::invalid_argument("evnn::lif::BackwardS3GD: give one of dspk, dspk_active and dspk_row");
  if ((lower == nullptr) != (dx_active == nullptr))
    throw std::invalid_argument("evnn::lif::BackwardS3GD: lower and dx_active go together");
  const Dims& sd = saved.dims;
  if (sd.B != d.B || sd.T != d.T || sd.I != d.I || sd.H != d.H)
    throw std::invalid_argument("evnn::lif::BackwardS3GD: saved is not of these dims");
  check_set(saved.active, d, fn, "saved.active");
  check_set(saved.input, d, fn, "saved.input");
  if (lower) check_set(*lower, d, fn, "lower");
  Workspace& ws = recurrent::workspace_of(ctx, "lif");
  Workspace::Scope scope(ws);
  const int B = d.B, T = d.T, I = d.I, H = d.H;
  const EventSet& A = saved.active;
  const EventSet& X = saved.input;
  const int64_t nA = A.count();
  // pw[k] = β^k (k = 0 .. T), the decay over k steps, rounded once from double
  float* pw = ws.Floats(size_t(T) + 1);
  size_t scratch = size_t(T) + 1;
  for (int k = 0; k <= T; ++k) pw[k] = float(std::pow(double(o.beta), k));
  // Lazy decay without per-step rescaling: a state that decays by β per step is kept as
  // value = β^{±(t − ref)}·stored, with terms added pre-scaled by ipw[k] = β^{−k} (k < K), so a
  // step costs only its own entries instead of a pass over the whole state; the stored vector is
  // rebased (scaled once, ref moved) when k would reach K, which keeps the factors within 2^30
  // (for β ≥ 1 or β = 0 the bound is trivial: K = T + 1, or 1).
  int K = T + 1;
  if (o.beta <= 0.0f) {
    K = 1;
  } else if (o.beta < 1.0f) {
    const double k = 30.0 * std::log(2.0) / -std::log(double(o.beta));
    K = int(std::max(1.0, std::min(double(T) + 1, std::floor(k))));
  }
  float* ipw = ws.Floats(size_t(K));
  scratch += size_t(K);
  for (int k = 0; k < K; ++k) ipw[k] = float(std::pow(double(o.beta), -k));
  // A state walked back in time (value = β^{ref−t}·stored), before a term is added at step t:
  // zeroed at its first term, rebased when ipw[ref − t] would run past K.
  auto rebase_back = [&](float* acc, int n, bool& live, int& ref, int t) {
    if (!live) {
      std::fill(acc, acc + n, 0.0f);
      live = true;
      ref = t;
    } else if (ref - t >= K) {
      const float f = pw[ref - t];
      for (int j = 0; j < n; ++j) acc[j] *= f;
      ref = t;
    }
  };
  // δ at the active entries.
  float* delta = ws.Floats(size_t(std::max<int64_t>(nA, 1)));
  scratch += size_t(std::max<int64_t>(nA, 1));
  auto deltas = [&](int64_t b, size_t r) {
    for (int64_t p = A.offsets[r]; p < A.offsets[r + 1]; ++p) {
      const int j = A.index[p];
      float gs = dspk ? dspk[r * H + j] : dspk_active ? dspk_active[p] : 0.0f;
      if (dspk_row) gs += dspk_row[size_t(b) * H + j];
      delta[p] = gs * A.value[p];
    }
  };
  // A dense dspk [B,T,H] is read only at the active entries: scattered loads that miss the cache
  // (it is 4·B·T·H bytes, written just before by the layer above), so each walk prefetches the
  // entries kAhead rows ahead of the one it is at.
  constexpr int kAhead = 8;
  auto prefetch = [&](size_t r) {
    if (dspk)
      for (int64_t p = A.offsets[r]; p < A.offsets[r + 1]; ++p) __builtin_prefetch(dspk + r * H + A.index[p]);
  };
  parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for (int t = 0; t < T; ++t) {
        if (t + kAhead < T) prefetch(size_t(b) * T + t + kAhead);
        deltas(b, size_t(b) * T + t);
      }
  });
  // dx at the lower layer's active entries, dx[b,u,i] = w[i,:]·dmem_{u+1}: per batch row and block
  // of input units (dx_row_block), over a padded, aligned wᵀ made here (H·I floats, tiled).
  if (lower) {
    const int ldI = int(round16(I));
    float* wT = ws.Floats(std::max<size_t>(size_t(H) * ldI, 1));
    scratch += std::max<size_t>(size_t(H) * ldI, 1);
    parallel_for(0, (H + 15) / 16, 1, [&](int64_t jb0, int64_t jb1) {
      for (int64_t jb = jb0; jb < jb1; ++jb) {
        const int ja = int(jb) * 16, jz = std::min(H, ja + 16);
        for (int i = 0; i < I; ++i) {
          const float* src = w.w + size_t(i) * H;
          for (int j = ja; j < jz; ++j) wT[size_t(j) * ldI + i] = src[j];
        }
        for (int j = ja; j < jz; ++j) std::fill(wT + size_t(j) * ldI + I, wT + size_t(j + 1) * ldI, 0.0f);
      }
    });
    DxPass P;
    P.T = T, P.ldI = ldI, P.wT = wT, P.A = &A, P.delta = delta, P.lower = lower, P.pw = pw, P.ipw = ipw, P.K = K;
    P.dx_active = dx_active;
    const int vectors = ldI / 16;
    parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        for (int v0 = 0; v0 < vectors; v0 += kDxBlockVectors)
          kDxRowBlock[size_t(std::min(kDxBlockVectors, vectors - v0) - 1)](P, b, v0 * 16);
        if (T > 0) {  // entries at u = T−1 have no later step
          const size_t rl = size_t(b) * T + (T - 1);
          for (int64_t q = lower->offsets[rl]; q < lower->offsets[rl + 1]; ++q) dx_active[q] = 0.0f;
        }
      }
    });
  }
  // Which order: products plus per-step upkeep (trace or dmem slices, the event scans per block).
  int64_t nX = 0;  // input events that feed a later step (rows t ≤ T−2)
  for (int b = 0; b < B; ++b)
    if (T > 1) nX += X.offsets[size_t(b) * T + T - 1] - X.offsets[size_t(b) * T];
  const double rows = double(B) * std::max(T - 1, 0);
  const double cost_traces = double(nA) * I + rows * I + double(X.count());
  const double cost_events = double(nX) * H + rows * H + double(nA);
  const bool by_events = o.s3gd_dw == DwOrder::kEvents || (o.s3gd_dw == DwOrder::kAuto && cost_events < cost_traces);
  if (by_events) {
    // dW over ranges of hidden units (one per thread, cut at multiples of 16): each walks every
    // row b backward in t with its slice of the masked dmem, kept pre-scaled (dmem_t =
    // β^{ref−t}·dm), and adds x·dmem_{s+1} at each input event (b, s) into its own block of dW
    // columns, [I, ld] (ld: its width rounded up to 16, 64-byte aligned rows), added into dW at the
    // end: adding straight into dW's rows, two ranges shared the cache line at their boundary on
    // every other row, and the lines bounced between the cores. Which steps a range visits, when it
    // rebases and whether dmem is live depend on the row only, not on the range, so every dW
    // element is summed in (b, t descending, event) order with the same values whatever the cut
    // and the thread count.
    const int parts = int(std::max<int64_t>(1, std::min<int64_t>(std::max(1, num_threads()), (H + 15) / 16)));
    const std::vector<int> cut = cuts16(H, parts);
    std::vector<size_t> base(static_cast<size_t>(parts) + 1, 0);  // part k: dm [ld], then its dW block [I, ld]
    for (int k = 0; k < parts; ++k) base[size_t(k) + 1] = base[size_t(k)] + round16(cut[size_t(k) + 1] - cut[size_t(k)]) * (size_t(I) + 1);
    float* blocks = ws.Floats(std::max<size_t>(base.back(), 1));
    scratch += std::max<size_t>(base.back(), 1);
    parallel_for(0, parts, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const int j0 = cut[size_t(k)], n = cut[size_t(k) + 1] - j0;
        if (n <= 0) continue;
        const size_t ld = round16(n);
        float* dm = blocks + base[size_t(k)];
        float* dwb = dm + ld;
        std::fill(dm, dm + ld * (size_t(I) + 1), 0.0f);  // the padding of dm stays 0
        for (int b = 0; b < B; ++b) {
          bool live = false;  // an active entry (any unit) at a step ≥ t of row b
          int ref = T;
          for (int t = T - 1; t >= 1; --t) {
            const size_t r = size_t(b) * T + t, rx = r - 1;
            const bool has_a = A.offsets[r + 1] > A.offsets[r], has_x = X.offsets[rx + 1] > X.offsets[rx];
            if (!has_a && !(live && has_x)) continue;
            if (has_a) {
              rebase_back(dm, n, live, ref, t);
              const float f = ipw[ref - t];
              for (int64_t p = A.offsets[r]; p < A.offsets[r + 1]; ++p) {
                const int j = A.index[p] - j0;
                if (j >= 0 && j < n) dm[j] += f * delta[p];
              }
            }
            const float f = pw[ref - t];
            const float* __restrict dmr = dm;
            for (int64_t q = X.offsets[rx]; q < X.offsets[rx + 1]; ++q) {
              const float v = X.value[q] * f;
              float* __restrict dr = dwb + size_t(X.index[q]) * ld;
              for (size_t j = 0; j < ld; ++j) dr[j] += v * dmr[j];  // over the padding too: no tail loop
            }
          }
        }
      }
    });
    parallel_for(0, I, 16, [&](int64_t i0, int64_t i1) {
      for (int k = 0; k < parts; ++k) {
        const int j0 = cut[size_t(k)], n = cut[size_t(k) + 1] - j0;
        const size_t ld = round16(n);
        const float* dwb = blocks + base[size_t(k)] + ld;
        for (int64_t i = i0; i < i1; ++i)
          for (int j = 0; j < n; ++j) g.dw[size_t(i) * H + j0 + j] += dwb[size_t(i) * ld + j];
      }
    });
  } else {
    // dW by traces into transposed accumulators [H, n] over contiguous ranges of n input units
    // (cut at multiples of 16), so each active entry's update is one contiguous axpy of the
    // range's trace slice (not strided column writes, nor many short block slices), then one
    // transpose-add into dW. The batch rows are split into kGroups fixed groups, each with its
    // own accumulators, added into dW in group order: a thread then walks only its group's rows
    // (the walk over the rows and events, branchy, cost as much as the axpys, and splitting only
    // the input units made every thread walk all of them). The trace is elementwise in i and its
    // rebases depend on the row only, so neither the input-unit cut nor the thread count changes
    // any sum: the result is the same bitwise for any thread count.
    const int64_t nt = std::max(1, num_threads());
    const int parts = int(std::max<int64_t>(1, std::min<int64_t>((nt + kGroups - 1) / kGroups, (I + 15) / 16)));
    const std::vector<int> cut = cuts16(I, parts);
    size_t per_group = 0;  // each range: acc [H, ld] then its trace [ld], ld = its width rounded to 16
    std::vector<size_t> base(static_cast<size_t>(parts));
    for (int k = 0; k < parts; ++k) {
      const size_t ld = round16(cut[size_t(k) + 1] - cut[size_t(k)]);
      base[size_t(k)] = per_group;
      per_group += ld * (size_t(H) + 1);
    }
    float* blocks = ws.Floats(std::max<size_t>(per_group * kGroups, 1));
    scratch += std::max<size_t>(per_group * kGroups, 1);
    parallel_for(0, int64_t(kGroups) * parts, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t task = k0; task < k1; ++task) {
        const int grp = int(task / parts), k = int(task % parts);
        const int i0 = cut[size_t(k)], i1 = cut[size_t(k) + 1], n = i1 - i0;
        const int b0 = int(int64_t(B) * grp / kGroups), b1 = int(int64_t(B) * (grp + 1) / kGroups);
        const size_t ld = round16(n);
        float* acc = blocks + per_group * size_t(grp) + base[size_t(k)];  // [H, ld]
        float* tr = acc + size_t(H) * ld;                                  // [ld]
        if (n <= 0) continue;
        std::fill(acc, acc + size_t(H) * ld, 0.0f);
        for (int b = b0; b < b1; ++b) {
          std::fill(tr, tr + ld, 0.0f);  // the padding stays 0
          int ref = 0;  // trace_t = β^{t−1−ref}·tr on [i0, i1)
          for (int t = 1; t < T; ++t) {
            const size_t rs = size_t(b) * T + (t - 1);
            const int64_t e0 = X.offsets[rs], e1 = X.offsets[rs + 1];
            if (e1 > e0) {  // add x_{t−1}; the rebase depends on the row, not on [i0, i1)
              const int s = t - 1;
              if (s - ref >= K) {
                const float f = pw[s - ref];
                for (int i = 0; i < n; ++i) tr[i] *= f;
                ref = s;
              }
              const float fs = ipw[s - ref];
              int64_t p = e0;
              while (p < e1 && X.index[p] < i0) ++p;  // ascending within the row
              for (; p < e1 && X.index[p] < i1; ++p) tr[X.index[p] - i0] += fs * X.value[p];
            }
            const size_t r = size_t(b) * T + t;
            const int64_t a0 = A.offsets[r], a1 = A.offsets[r + 1];
            if (a1 == a0) continue;
            const float fa = pw[t - 1 - ref];
            const float* __restrict trr = tr;
            for (int64_t p = a0; p < a1; ++p) {
              const float dl = delta[p] * fa;
              float* __restrict ar = acc + size_t(A.index[p]) * ld;
              for (size_t i = 0; i < ld; ++i) ar[i] += dl * trr[i];  // over the padding too: no tail loop
            }
          }
        }
      }
    });
    // transpose-add in tiles of 16 input units (the tiles split over the threads): one acc line
    // read per j, the tile's 16 dW rows stay in L1 across j (a plain strided walk missed the cache
    // per element); groups in order
    std::vector<std::pair<int, int>> tiles;  // (range k, first unit of the tile within it)
    for (int k = 0; k < parts; ++k)
      for (int ib = 0; ib < cut[size_t(k) + 1] - cut[size_t(k)]; ib += 16) tiles.emplace_back(k, ib);
    parallel_for(0, int64_t(tiles.size()), 1, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) {
        const int k = tiles[size_t(e)].first, ib = tiles[size_t(e)].second;
        const int i0 = cut[size_t(k)], n = cut[size_t(k) + 1] - i0;
        const size_t ld = round16(n);
        const int m = std::min(16, n - ib);
        float* dr = g.dw + size_t(i0 + ib) * H;
        for (int j = 0; j < H; ++j)
          for (int grp = 0; grp < kGroups; ++grp) {
            const float* ar = blocks + per_group * size_t(grp) + base[size_t(k)] + size_t(j) * ld + ib;
            for (int ii = 0; ii < m; ++ii) dr[size_t(ii) * H + j] += ar[ii];
          }
      }
    });
  }
  if (stats) {
    *stats = Stats{};
    stats->active = nA;
    stats->lower_active = lower ? lower->count() : 0;
    stats->macs = (by_events ? double(nX) * H : double(nA) * I) + (lower ? double(nA) * I : 0.0);
    stats->macs_dense = double(B) * T * I * H * (lower ? 2 : 1);
    stats->scratch_bytes = double(scratch) * sizeof(float);
  }
}


}  // namespace lif
}  // namespace evnn
