// LIF layer on the CPU (lif.h): the forward and the dense BPTT backward; the S3GD backward is in
// lif_s3gd.cc. Forward: per batch row (rows split over the threads), the input product runs over
// the nonzeros of x_t or the events of row (b,t) only (one axpy of w's row per event); the active
// set and the input events are collected per row and concatenated in row order. Dense backward:
// the dmem recursion per row, then two GEMMs (dW += Xᵀ·D, dx = D·wᵀ, D_t = dmem_{t+1}).
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

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("lif", fn, d.T, d.B, d.I, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("lif", p, fn, name); }

inline float surrogate(float v, float th) {
  const float a = 100.0f * std::fabs(v - th) + 1.0f;
  return 1.0f / (a * a);
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

}  // namespace lif
}  // namespace evnn
