// LIF layer on the CPU (lif.h). Forward: per batch row (rows split over the threads), the input
// product runs over the nonzeros of x_t or the events of row (b,t) only (one axpy of w's row per
// event); the active set and the input events are collected per row and concatenated in row
// order. Dense backward: the dmem recursion per row, then two GEMMs (dW += Xᵀ·D, dx = D·wᵀ,
// D_t = dmem_{t+1}). S3GD backward: δ at the active entries per row; dx at the lower layer's
// active entries per row (dmem kept pre-scaled, so a step costs only its own entries); dW in the
// cheaper of two orders (lif.h DwOrder): over fixed groups of batch rows × ranges of input units,
// each walking its rows with its slice of the (pre-scaled) eligibility trace, or over ranges of
// hidden units, each walking every row backward with its slice of the masked dmem and adding it
// at the input events. Either way every dW element is summed in a fixed order, whatever the
// thread count.
#include "evnn/lif.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"

namespace evnn {
namespace lif {

namespace {

// batch-row groups of the S3GD dW by traces, each with its own accumulators (fixed, so that the
// sums do not depend on the thread count; 2 = the threads the bench and the model use)
constexpr int kGroups = 2;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("lif", fn, d.T, d.B, d.I, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("lif", p, fn, name); }

// a·b over n floats: four independent 16-wide FMA chains over the full 64s (a 16 after them in
// the second), the lanes then added as a tree: a fixed summation order with short dependency
// chains, since the dx dots are short (n = H) and one 16-lane chain plus a serial lane sum and
// a serial tail was latency-bound.
typedef float v16f __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
inline v16f load16(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The end of dot: s0 .. s3 hold the products of a·b up to j (j a multiple of 16).
inline float dot_finish(v16f s0, v16f s1, v16f s2, v16f s3, const float* a, const float* b, int j, int n) {
  const v16f v = (s0 + s1) + (s2 + s3);
  // halves added as vectors (not through a stack array, whose reloads stalled on the stores),
  // the tail joining at the widths it fills (8, 4, then single floats)
  v8f h8[2];
  std::memcpy(h8, &v, sizeof v);
  v8f u = h8[0] + h8[1];
  if (j + 8 <= n) {
    v8f x, y;
    std::memcpy(&x, a + j, sizeof x);
    std::memcpy(&y, b + j, sizeof y);
    u += x * y;
    j += 8;
  }
  v4f h4[2];
  std::memcpy(h4, &u, sizeof u);
  v4f q = h4[0] + h4[1];
  if (j + 4 <= n) {
    v4f x, y;
    std::memcpy(&x, a + j, sizeof x);
    std::memcpy(&y, b + j, sizeof y);
    q += x * y;
    j += 4;
  }
  float t = 0.0f;
  for (; j < n; ++j) t += a[j] * b[j];
  return ((q[0] + q[2]) + (q[1] + q[3])) + t;
}
inline float dot(const float* a, const float* b, int n) {
  v16f s0 = {}, s1 = {}, s2 = {}, s3 = {};
  int j = 0;
  for (; j + 64 <= n; j += 64) {
    s0 += load16(a + j) * load16(b + j);
    s1 += load16(a + j + 16) * load16(b + j + 16);
    s2 += load16(a + j + 32) * load16(b + j + 32);
    s3 += load16(a + j + 48) * load16(b + j + 48);
  }
  for (; j + 16 <= n; j += 16) s1 += load16(a + j) * load16(b + j);
  return dot_finish(s0, s1, s2, s3, a, b, j, n);
}
// dot(a0, b, n) and dot(a1, b, n) (the same sums) in one pass: b is loaded once for both.
inline void dot2(const float* a0, const float* a1, const float* b, int n, float* r0, float* r1) {
  v16f s0 = {}, s1 = {}, s2 = {}, s3 = {}, z0 = {}, z1 = {}, z2 = {}, z3 = {};
  int j = 0;
  for (; j + 64 <= n; j += 64) {
    const v16f b0 = load16(b + j), b1 = load16(b + j + 16), b2 = load16(b + j + 32), b3 = load16(b + j + 48);
    s0 += load16(a0 + j) * b0, z0 += load16(a1 + j) * b0;
    s1 += load16(a0 + j + 16) * b1, z1 += load16(a1 + j + 16) * b1;
    s2 += load16(a0 + j + 32) * b2, z2 += load16(a1 + j + 32) * b2;
    s3 += load16(a0 + j + 48) * b3, z3 += load16(a1 + j + 48) * b3;
  }
  for (; j + 16 <= n; j += 16) {
    const v16f bj = load16(b + j);
    s1 += load16(a0 + j) * bj, z1 += load16(a1 + j) * bj;
  }
  *r0 = dot_finish(s0, s1, s2, s3, a0, b, j, n);
  *r1 = dot_finish(z0, z1, z2, z3, a1, b, j, n);
}

inline float surrogate(float v, float th) {
  const float a = 100.0f * std::fabs(v - th) + 1.0f;
  return 1.0f / (a * a);
}

void check_set(const EventSet& s, const Dims& d, int cols, const char* fn, const char* name) {
  if (s.B != d.B || s.T != d.T || s.offsets.size() != size_t(d.B) * d.T + 1 ||
      s.index.size() != size_t(s.count()) || s.value.size() != size_t(s.count()))
    throw std::invalid_argument(std::string("evnn::lif::") + fn + ": " + name + " does not match the dims");
  for (int c : s.index)
    if (c < 0 || c >= cols) throw std::invalid_argument(std::string("evnn::lif::") + fn + ": " + name + " index out of range");
}

void check_input(const Dims& d, const Input& in, const char* fn) {
  if ((in.x == nullptr) == (in.offsets == nullptr))
    throw std::invalid_argument(std::string("evnn::lif::") + fn + ": give exactly one of x and events");
  if (in.offsets) {
    const int64_t rows = int64_t(d.B) * d.T;
    const std::string e = EventsError(rows, d.I, in.offsets, in.index, in.offsets[rows]);
    if (!e.empty()) throw std::invalid_argument(std::string("evnn::lif::") + fn + ": events: " + e);
  }
}

// Concatenates per-row lists (rows of T steps each) into one EventSet.
void concat(const Dims& d, const std::vector<std::vector<int64_t>>& counts, const std::vector<std::vector<int>>& idx,
            const std::vector<std::vector<float>>& val, EventSet* out) {
  out->B = d.B, out->T = d.T;
  out->offsets.assign(size_t(d.B) * d.T + 1, 0);
  int64_t total = 0;
  for (int b = 0; b < d.B; ++b)
    for (int t = 0; t < d.T; ++t) {
      out->offsets[size_t(b) * d.T + t] = total;
      total += counts[b][t];
    }
  out->offsets.back() = total;
  out->index.resize(size_t(total));
  out->value.resize(size_t(total));
  for (int b = 0; b < d.B; ++b) {
    const int64_t o = out->offsets[size_t(b) * d.T];
    std::copy(idx[b].begin(), idx[b].end(), out->index.begin() + o);
    std::copy(val[b].begin(), val[b].end(), out->value.begin() + o);
  }
}

}  // namespace

size_t CacheSize(const Dims& d) { return size_t(d.B) * d.T * d.H; }

std::string EventsError(int64_t rows, int cols, const int32_t* offsets, const int32_t* index, int64_t n_index) {
  if (rows < 0 || offsets == nullptr || (n_index > 0 && index == nullptr)) return "offsets/index are null";
  if (offsets[0] != 0) return "offsets[0] must be 0, got " + std::to_string(offsets[0]);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t a = offsets[r], e = offsets[r + 1];
    if (e < a)
      return "offsets must not decrease, got offsets[" + std::to_string(r) + "] = " + std::to_string(a) + " > offsets[" +
             std::to_string(r + 1) + "] = " + std::to_string(e);
    if (e > n_index)
      return "offsets[" + std::to_string(r + 1) + "] = " + std::to_string(e) + " exceeds the index length " +
             std::to_string(n_index);
    for (int64_t p = a; p < e; ++p) {
      const int32_t c = index[p];
      if (c < 0 || c >= cols)
        return "index[" + std::to_string(p) + "] = " + std::to_string(c) + " is outside [0, " + std::to_string(cols) + ")";
      if (p > a && c <= index[p - 1])
        return "index must rise strictly within a row, got index[" + std::to_string(p - 1) + "] = " +
               std::to_string(index[p - 1]) + ", index[" + std::to_string(p) + "] = " + std::to_string(c) + " in row " +
               std::to_string(r);
    }
  }
  if (offsets[rows] != n_index)
    return "offsets[" + std::to_string(rows) + "] = " + std::to_string(offsets[rows]) + " must equal the index length " +
           std::to_string(n_index);
  return "";
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Input& in, float* spk,
             float* mem, Saved* saved, Stats* stats) {
  check_dims(d, "Forward");
  require(w.w, "Forward", "w");
  require(spk, "Forward", "spk");
  check_input(d, in, "Forward");
  Workspace& ws = recurrent::workspace_of(ctx, "lif");
  Workspace::Scope scope(ws);
  const int B = d.B, T = d.T, I = d.I, H = d.H;
  float* state = ws.Floats(size_t(std::max(B, 1)) * 2 * std::max(H, 1));  // per row: mem, cur
  // per row: spikes, active, input events (int64 counters in float-sized scratch)
  int64_t* counts = reinterpret_cast<int64_t*>(ws.Zeros(size_t(std::max(B, 1)) * 3 * 2));
  const bool keep = saved != nullptr;
  // The compact sets grow with the activity, so they are vectors per row (concatenated after).
  std::vector<std::vector<int64_t>> in_n(keep ? B : 0), act_n(keep ? B : 0);
  std::vector<std::vector<int>> in_i(keep ? B : 0), act_i(keep ? B : 0);
  std::vector<std::vector<float>> in_v(keep ? B : 0), act_v(keep ? B : 0);
  const float beta = o.beta, th = o.threshold, lo = o.b_th, hi = 2.0f * o.threshold - o.b_th;
  parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* m = state + size_t(b) * 2 * H;
      float* cur = m + H;
      int64_t& n_spikes = counts[3 * b];
      int64_t& n_active = counts[3 * b + 1];
      int64_t& n_events = counts[3 * b + 2];
      std::fill(m, m + H, 0.0f);
      float* sp = spk + size_t(b) * T * H;
      if (keep) in_n[b].assign(T, 0), act_n[b].assign(T, 0);
      for (int t = 0; t < T; ++t) {
        float* st = sp + size_t(t) * H;
        if (t == 0) {
          std::fill(st, st + H, 0.0f);
        } else {
          std::fill(cur, cur + H, 0.0f);
          if (in.x) {
            const float* xp = in.x + (size_t(b) * T + (t - 1)) * I;
            for (int i = 0; i < I; ++i) {
              const float v = xp[i];
              if (v == 0.0f) continue;
              ++n_events;
              const float* wr = w.w + size_t(i) * H;
              for (int j = 0; j < H; ++j) cur[j] += v * wr[j];
            }
          } else {
            const size_t r = size_t(b) * T + (t - 1);
            for (int32_t p = in.offsets[r]; p < in.offsets[r + 1]; ++p) {
              ++n_events;
              const float* wr = w.w + size_t(in.index[p]) * H;
              for (int j = 0; j < H; ++j) cur[j] += wr[j];
            }
          }
          const float* prev = st - H;
          for (int j = 0; j < H; ++j) {
            const float v = beta * m[j] + cur[j] - prev[j];
            m[j] = v;
            st[j] = v > th ? 1.0f : 0.0f;
          }
        }
        if (mem) std::memcpy(mem + (size_t(b) * T + t) * H, m, sizeof(float) * H);
        for (int j = 0; j < H; ++j) {
          n_spikes += st[j] != 0.0f;
          if (m[j] > lo && m[j] < hi) {
            ++n_active;
            if (keep) act_i[b].push_back(j), act_v[b].push_back(surrogate(m[j], th)), ++act_n[b][t];
          }
        }
        if (keep) {
          if (in.x) {
            const float* xt = in.x + (size_t(b) * T + t) * I;
            for (int i = 0; i < I; ++i)
              if (xt[i] != 0.0f) in_i[b].push_back(i), in_v[b].push_back(xt[i]), ++in_n[b][t];
          } else {
            const size_t r = size_t(b) * T + t;
            for (int32_t p = in.offsets[r]; p < in.offsets[r + 1]; ++p) in_i[b].push_back(in.index[p]), in_v[b].push_back(1.0f);
            in_n[b][t] = in.offsets[r + 1] - in.offsets[r];
          }
        }
      }
    }
  });
  if (keep) {
    saved->dims = d;
    concat(d, in_n, in_i, in_v, &saved->input);
    concat(d, act_n, act_i, act_v, &saved->active);
  }
  if (stats) {
    *stats = Stats{};
    for (int b = 0; b < B; ++b)
      stats->spikes += counts[3 * b], stats->active += counts[3 * b + 1], stats->input_events += counts[3 * b + 2];
    stats->neuron_steps = int64_t(B) * T * H;
    stats->macs = double(stats->input_events) * H;
    stats->macs_dense = double(B) * std::max(T - 1, 0) * I * H;
  }
}

void BackwardDense(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Input& in,
                   const float* mem, const float* dspk, const float* dspk_row, float* dx, const Grads& g,
                   Stats* stats) {
  check_dims(d, "BackwardDense");
  require(w.w, "BackwardDense", "w");
  check_input(d, in, "BackwardDense");
  require(mem, "BackwardDense", "mem");
  if (!dspk && !dspk_row) throw std::invalid_argument("evnn::lif::BackwardDense: give dspk or dspk_row");
  require(g.dw, "BackwardDense", "g.dw");
  Workspace& ws = recurrent::workspace_of(ctx, "lif");
  Workspace::Scope scope(ws);
  const int B = d.B, T = d.T, I = d.I, H = d.H;
  const size_t BT = size_t(B) * T;
  float* D = ws.Floats(std::max<size_t>(BT * H, 1));  // D[b,t] = dmem_{t+1}, D[b,T−1] = 0
  size_t scratch = std::max<size_t>(BT * H, 1);
  const float* x = in.x;
  if (!x) {  // the dense baseline's GEMM reads a dense x: expand the events
    float* xd = ws.Zeros(std::max<size_t>(BT * I, 1));
    scratch += std::max<size_t>(BT * I, 1);
    for (size_t r = 0; r < BT; ++r)
      for (int32_t p = in.offsets[r]; p < in.offsets[r + 1]; ++p) xd[r * I + in.index[p]] = 1.0f;
    x = xd;
  }
  const float beta = o.beta, th = o.threshold;
  parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* Db = D + size_t(b) * T * H;
      if (T > 0) std::fill(Db + size_t(T - 1) * H, Db + size_t(T) * H, 0.0f);
      for (int t = T - 1; t >= 1; --t) {  // dmem_t into D[t−1]
        const float* mt = mem + (size_t(b) * T + t) * H;
        const float* gt = dspk ? dspk + (size_t(b) * T + t) * H : nullptr;
        const float* gr = dspk_row ? dspk_row + size_t(b) * H : nullptr;
        const float* next = Db + size_t(t) * H;  // dmem_{t+1}
        float* cur = Db + size_t(t - 1) * H;
        for (int j = 0; j < H; ++j) {
          const float gs = (gt ? gt[j] : 0.0f) + (gr ? gr[j] : 0.0f);
          cur[j] = gs * surrogate(mt[j], th) + beta * next[j];
        }
      }
    }
  });
  if (BT > 0 && I > 0 && H > 0) {
    gemm(Trans::Yes, Trans::No, I, H, int(BT), 1.0f, x, I, D, H, 1.0f, g.dw, H);
    if (dx) gemm(Trans::No, Trans::Yes, int(BT), I, H, 1.0f, D, H, w.w, H, 0.0f, dx, I);
  } else if (dx) {
    std::fill(dx, dx + BT * I, 0.0f);
  }
  if (stats) {
    *stats = Stats{};
    stats->macs_dense = double(BT) * I * H * (dx ? 2 : 1);
    stats->macs = stats->macs_dense;
    stats->scratch_bytes = double(scratch) * sizeof(float);
  }
}

void BackwardS3GD(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Saved& saved,
                  const float* dspk, const float* dspk_active, const float* dspk_row, const EventSet* lower,
                  float* dx_active, const Grads& g, Stats* stats) {
  const char* fn = "BackwardS3GD";
  check_dims(d, fn);
  require(w.w, fn, "w");
  require(g.dw, fn, "g.dw");
  if (dspk && dspk_active) throw std::invalid_argument("evnn::lif::BackwardS3GD: give dspk or dspk_active, not both");
  if (!dspk && !dspk_active && !dspk_row)
    throw std::invalid_argument("evnn::lif::BackwardS3GD: give one of dspk, dspk_active and dspk_row");
  if ((lower == nullptr) != (dx_active == nullptr))
    throw std::invalid_argument("evnn::lif::BackwardS3GD: lower and dx_active go together");
  const Dims& sd = saved.dims;
  if (sd.B != d.B || sd.T != d.T || sd.I != d.I || sd.H != d.H)
    throw std::invalid_argument("evnn::lif::BackwardS3GD: saved is not of these dims");
  check_set(saved.active, d, d.H, fn, "saved.active");
  check_set(saved.input, d, d.I, fn, "saved.input");
  if (lower) check_set(*lower, d, d.I, fn, "lower");
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
  // δ at the active entries (computed in the dx pass when there is one: one walk over the set).
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
  if (!lower)
    parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        for (int t = 0; t < T; ++t) {
          if (t + kAhead < T) prefetch(size_t(b) * T + t + kAhead);
          deltas(b, size_t(b) * T + t);
        }
    });
  // dx at the lower layer's active entries: dx[b,u,i] = w[i,:]·dmem_{u+1}.
  if (lower) {
    // one dmem row per chunk of batch rows (one chunk per thread), not one per batch row
    const int chunks = std::max(1, std::min(B, num_threads()));
    float* acc_all = ws.Floats(size_t(chunks) * std::max(H, 1));
    scratch += size_t(chunks) * std::max(H, 1);
    parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
      for (int64_t b = int64_t(B) * c / chunks; b < int64_t(B) * (c + 1) / chunks; ++b) {
        float* acc = acc_all + size_t(c) * H;
        bool live = false;
        int ref = T;  // dmem_t = β^{ref−t}·acc
        if (T > 0)
          for (int t = T - 1; t >= std::max(0, T - kAhead); --t) prefetch(size_t(b) * T + t);
        for (int t = T - 1; t >= 1; --t) {
          const size_t r = size_t(b) * T + t, rl = size_t(b) * T + (t - 1);
          if (t >= kAhead) prefetch(r - kAhead);
          const bool has_a = A.offsets[r + 1] > A.offsets[r], has_l = lower->offsets[rl + 1] > lower->offsets[rl];
          if (!has_a && !has_l) continue;
          if (has_a) {
            deltas(b, r);
            rebase_back(acc, H, live, ref, t);
            const float f = ipw[ref - t];
            for (int64_t p = A.offsets[r]; p < A.offsets[r + 1]; ++p) acc[A.index[p]] += f * delta[p];
          }
          if (!live) {
            for (int64_t q = lower->offsets[rl]; q < lower->offsets[rl + 1]; ++q) dx_active[q] = 0.0f;
            continue;
          }
          const float f = pw[ref - t];
          const int64_t q1 = lower->offsets[rl + 1];
          int64_t q = lower->offsets[rl];
          for (; q + 2 <= q1; q += 2) {  // in pairs: acc read once per two dots
            float d0, d1;
            dot2(w.w + size_t(lower->index[q]) * H, w.w + size_t(lower->index[q + 1]) * H, acc, H, &d0, &d1);
            dx_active[q] = f * d0, dx_active[q + 1] = f * d1;
          }
          if (q < q1) dx_active[q] = f * dot(w.w + size_t(lower->index[q]) * H, acc, H);
        }
        if (T > 0) deltas(b, size_t(b) * T);  // step 0 (no dmem step reads it)
        // entries at u = T−1 have no later step
        if (T > 0) {
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
    // β^{ref−t}·acc), and adds x·dmem_{s+1} at each input event (b, s). Which steps it visits,
    // when it rebases and whether dmem is live depend on the row only, not on the range, so
    // every dW element is summed in (b, t descending, event) order with the same values whatever
    // the cut and the thread count (fewer, wider ranges than fixed 64-unit blocks: the row walk,
    // branchy, is paid once per range).
    const int parts = int(std::max<int64_t>(1, std::min<int64_t>(std::max(1, num_threads()), (H + 15) / 16)));
    std::vector<int> cut(static_cast<size_t>(parts) + 1);
    for (int k = 0; k <= parts; ++k) cut[size_t(k)] = std::min(H, int((int64_t(H) * k / parts + 8) / 16 * 16));
    cut[size_t(parts)] = H;
    float* accs = ws.Floats(size_t(H) + size_t(parts) * 16);
    scratch += size_t(H) + size_t(parts) * 16;
    parallel_for(0, parts, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const int j0 = cut[size_t(k)], n = cut[size_t(k) + 1] - j0;
        if (n <= 0) continue;
        float* acc = accs + size_t(j0) + size_t(k) * 16;
        for (int b = 0; b < B; ++b) {
          bool live = false;  // an active entry (any unit) at a step ≥ t of row b
          int ref = T;
          for (int t = T - 1; t >= 1; --t) {
            const size_t r = size_t(b) * T + t, rx = r - 1;
            const bool has_a = A.offsets[r + 1] > A.offsets[r], has_x = X.offsets[rx + 1] > X.offsets[rx];
            if (!has_a && !(live && has_x)) continue;
            if (has_a) {
              rebase_back(acc, n, live, ref, t);
              const float f = ipw[ref - t];
              for (int64_t p = A.offsets[r]; p < A.offsets[r + 1]; ++p) {
                const int j = A.index[p] - j0;
                if (j >= 0 && j < n) acc[j] += f * delta[p];
              }
            }
            const float f = pw[ref - t];
            for (int64_t q = X.offsets[rx]; q < X.offsets[rx + 1]; ++q) {
              const float v = X.value[q] * f;
              float* dr = g.dw + size_t(X.index[q]) * H + j0;
              for (int j = 0; j < n; ++j) dr[j] += v * acc[j];
            }
          }
        }
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
    std::vector<int> cut(static_cast<size_t>(parts) + 1);
    for (int k = 0; k <= parts; ++k) cut[size_t(k)] = std::min(I, int((int64_t(I) * k / parts + 8) / 16 * 16));
    cut[size_t(parts)] = I;
    size_t per_group = 0;  // each range: acc [H, ld] then its trace [ld], ld = its width rounded to 16
    std::vector<size_t> base(static_cast<size_t>(parts));
    for (int k = 0; k < parts; ++k) {
      const size_t ld = size_t(cut[size_t(k) + 1] - cut[size_t(k)] + 15) / 16 * 16;
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
        const size_t ld = size_t(n + 15) / 16 * 16;
        float* acc = blocks + per_group * size_t(grp) + base[size_t(k)];  // [H, ld]
        float* tr = acc + size_t(H) * ld;                                  // [ld]
        if (n <= 0) continue;
        std::fill(acc, acc + size_t(H) * ld, 0.0f);
        for (int b = b0; b < b1; ++b) {
          std::fill(tr, tr + n, 0.0f);
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
            for (int64_t p = a0; p < a1; ++p) {
              const float dl = delta[p] * fa;
              float* ar = acc + size_t(A.index[p]) * ld;
              for (int i = 0; i < n; ++i) ar[i] += dl * tr[i];
            }
          }
        }
      }
    });
    // transpose-add in tiles of 16 input units: one acc line read per j, the tile's 16 dW rows
    // stay in L1 across j (a plain strided walk missed the cache per element); groups in order
    parallel_for(0, parts, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const int i0 = cut[size_t(k)], n = cut[size_t(k) + 1] - i0;
        const size_t ld = size_t(n + 15) / 16 * 16;
        for (int ib = 0; ib < n; ib += 16) {
          const int m = std::min(16, n - ib);
          float* dr = g.dw + size_t(i0 + ib) * H;
          for (int j = 0; j < H; ++j)
            for (int grp = 0; grp < kGroups; ++grp) {
              const float* ar = blocks + per_group * size_t(grp) + base[size_t(k)] + size_t(j) * ld + ib;
              for (int ii = 0; ii < m; ++ii) dr[size_t(ii) * H + j] += ar[ii];
            }
        }
      }
    });
  }
  if (stats) {
    *stats = Stats{};
    stats->active = nA;
    stats->lower_active = lower ? lower->count() : 0;
    stats->macs = (by_events ? double(nX) * H : double(nA) * I) + double(stats->lower_active) * H;
    stats->macs_dense = double(B) * T * I * H * (lower ? 2 : 1);
    stats->scratch_bytes = double(scratch) * sizeof(float);
  }
}

}  // namespace lif
}  // namespace evnn
