// EGRU on the CPU. Forward: the input projections of a time chunk in one GEMM (or one
// event-driven product for an event input), then per step an event-driven recurrent product
// over the units that fired at t−1 and one fused pointwise kernel. Backward: per step one fused
// pointwise kernel and dL/dy_{t−1} for the backward-active units only; weight gradients per
// time chunk, dR over event rows only.
#include "evnn/egru.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "column_sums.h"
#include "event_matmul.h"
#include "evnn/gemm.h"
#include "evnn/optim.h"
#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec_math.h"

namespace evnn {
namespace egru {
namespace {

// Cache row per (t, n): z, r, g, (R y + br)_g — H floats each. o is the active map's fired bit,
// and c' and v are recovered exactly from y, c and thr (see backward_segment), so none of them
// needs storage.
constexpr int kCacheGates = 4;
constexpr int64_t kPointwiseGrain = 4096;

void check_dims(const Dims& d, const char* fn) { recurrent::check_dims("egru", fn, d.T, d.N, d.C, d.H); }
void require(const void* p, const char* fn, const char* name) { recurrent::require("egru", p, fn, name); }
int steps_per_chunk(const Dims& d, const Options& o) {
  return recurrent::steps_per_chunk(d.T, d.N, d.H, recurrent::chunk_budget(o.chunk_floats));
}
// The pointwise passes over [N, H], split over threads in flat pieces.
template <typename Fn>
void for_each_segment(int rows, int H, const Fn& fn) { recurrent::for_each_segment(rows, H, kPointwiseGrain, fn); }

enum class Zoneout { Off, TrainMask, EvalMix };

Zoneout zoneout_mode(const Options& o) {
  if (!(o.zoneout > 0.0f)) return Zoneout::Off;
  return o.training ? Zoneout::TrainMask : Zoneout::EvalMix;
}

// One step's pointwise forward for row segment [j0, j1). gx, gh: raw products (no biases).
// Branch-free (vmath::select) and specialised on the zoneout mode and on whether backward state
// is kept, so the loop vectorises like the GRU's.
template <Zoneout ZO, bool kKeep>
inline void forward_segment(int H, int j0, int j1, const Options& opt, const float* __restrict gx,
                            const float* __restrict gh, const Weights& w,
                            const float* __restrict c_prev, const float* __restrict tr_prev,
                            const uint8_t* __restrict mask, float* __restrict y,
                            float* __restrict c, float* __restrict o_out, float* __restrict tr,
                            float* __restrict cache, uint8_t* __restrict active) {
  const float* __restrict b = w.bias;
  const float* __restrict br = w.recurrent_bias;
  const float* __restrict thr = w.thr;
  const float p = opt.zoneout, eps = opt.support;
  for (int j = j0; j < j1; ++j) {
    const float z = vmath::sigmoid(gx[j] + b[j] + gh[j] + br[j]);
    const float r = vmath::sigmoid(gx[H + j] + b[H + j] + gh[H + j] + br[H + j]);
    const float qg = gh[2 * H + j] + br[2 * H + j];
    const float g = vmath::tanh(gx[2 * H + j] + b[2 * H + j] + r * qg);
    const float cp = c_prev[j];
    const float u = z * cp + (1.0f - z) * g;
    float cn = u;
    if (ZO == Zoneout::TrainMask) cn = vmath::select(mask[j] != 0, u, cp);
    if (ZO == Zoneout::EvalMix) cn = p * cp + (1.0f - p) * u;
    const float v = cn - thr[j];
    const bool fired = v > 0.0f;
    const float o = vmath::select(fired, 1.0f, 0.0f);
    y[j] = o * cn;
    c[j] = vmath::select(fired, v, cn);  // c' − o·ϑ, computed as v so backward recovers v bit for bit
    o_out[j] = o;
    tr[j] = 0.9f * tr_prev[j] + 0.1f * (o * cn);
    if (kKeep) {
      const bool in_support = 1.0f - eps * std::fabs(v) > 0.0f;
      active[j] = uint8_t(uint8_t(fired) * kFired + uint8_t(in_support) * kInSupport);
      cache[j] = z;
      cache[H + j] = r;
      cache[2 * H + j] = g;
      cache[3 * H + j] = qg;
    }
  }
}

// The forward_segment instance for (mode, keep), chosen once per call.
using ForwardSegmentFn = void (*)(int, int, int, const Options&, const float*, const float*,
                                  const Weights&, const float*, const float*, const uint8_t*,
                                  float*, float*, float*, float*, float*, uint8_t*);
template <bool kKeep>
ForwardSegmentFn forward_segment_for(Zoneout zo) {
  switch (zo) {
    case Zoneout::TrainMask: return &forward_segment<Zoneout::TrainMask, kKeep>;
    case Zoneout::EvalMix: return &forward_segment<Zoneout::EvalMix, kKeep>;
    default: return &forward_segment<Zoneout::Off, kKeep>;
  }
}

}  // namespace

size_t CacheSize(const Dims& d) {
  check_dims(d, "CacheSize");
  return size_t(d.T) * d.N * kCacheGates * d.H;
}

void ClampThresholds(const Context&, float* thr, int H) {
  for (int j = 0; j < H; ++j) thr[j] = std::min(1.0f, std::max(0.0f, thr[j]));
}

void DropConnect(const Context&, const float* recurrent_kernel, const uint8_t* keep, float p, size_t n, float* out) {
  const float scale = 1.0f / (1.0f - p);
  parallel_for(0, int64_t(n), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = keep[i] ? recurrent_kernel[i] * scale : 0.0f;
  });
}

void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& opt, const float* x, const float* y0,
             const uint8_t* zoneout_mask, float* y, float* c, float* out_o, float* trace,
             float* cache, uint8_t* active, Stats* stats) {
  check_dims(d, "Forward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  if (stats) *stats = Stats{};
  if (T == 0 || N == 0 || H == 0) return;
  require(w.kernel, "Forward", "kernel");
  require(w.recurrent_kernel, "Forward", "recurrent_kernel");
  require(w.bias, "Forward", "bias");
  require(w.recurrent_bias, "Forward", "recurrent_bias");
  require(w.thr, "Forward", "thr");
  require(y, "Forward", "y");
  require(c, "Forward", "c");
  if (C > 0) require(x, "Forward", "x");
  const Zoneout zo = zoneout_mode(opt);
  if (zo == Zoneout::TrainMask) require(zoneout_mask, "Forward", "zoneout_mask (training with zoneout > 0)");
  if ((cache == nullptr) != (active == nullptr)) {
    throw std::invalid_argument("evnn::egru::Forward: cache and active are kept together (both or neither)");
  }
  const ForwardSegmentFn segment = cache ? forward_segment_for<true>(zo) : forward_segment_for<false>(zo);

  const int S = steps_per_chunk(d, opt);
  const size_t NH = size_t(N) * H;
  Workspace& ws = recurrent::workspace_of(ctx, "egru");
  Workspace::Scope scope(ws);
  float* gx = ws.Floats(size_t(S) * N * G);
  float* gh = ws.Floats(size_t(N) * G);
  const float* zeros = ws.Zeros(NH);  // c_{−1} and trace_{−1}
  // Where the caller keeps no o or trace sequence, steps write to scratch: o of this step, and
  // the trace of this and the previous step (the recurrence needs it).
  float* o_step = out_o ? nullptr : ws.Floats(NH);
  float* tr_steps = trace ? nullptr : ws.Floats(2 * NH);
  EventRows x_events, y_events;
  double macs = 0, events = 0, backward_active = 0;
  double macs_dense = 0;

  for (int t0 = 0; t0 < T; t0 += S) {
    const int t1 = std::min(T, t0 + S);
    const int rows = (t1 - t0) * N;
    const float* x_chunk = x ? x + size_t(t0) * N * C : nullptr;
    macs_dense += double(rows) * C * G;
    if (C == 0) {
      std::fill(gx, gx + size_t(rows) * G, 0.0f);
    } else if (opt.sparse_input) {
      find_events(x_chunk, rows, C, C, &x_events);
      event_rows_times(x_events, w.kernel, G, gx, false);
      macs += double(x_events.count()) * G;
    } else {
      gemm(Trans::No, Trans::No, rows, G, C, 1.0f, x_chunk, C, w.kernel, G, 0.0f, gx, G);
      macs += double(rows) * C * G;
    }
    for (int t = t0; t < t1; ++t) {
      const float* y_prev = t > 0 ? y + (t - 1) * NH : y0;
      if (y_prev) {
        find_events(y_prev, N, H, H, &y_events);
        event_rows_times(y_events, w.recurrent_kernel, G, gh, false);
        macs += double(y_events.count()) * G;
        macs_dense += double(N) * H * G;
      } else {
        std::fill(gh, gh + size_t(N) * G, 0.0f);
      }
      const size_t at = size_t(t) * NH;
      const float* c_prev = t > 0 ? c + at - NH : zeros;
      float* tr_t = trace ? trace + at : tr_steps + size_t(t % 2) * NH;
      const float* tr_prev = t == 0 ? zeros : trace ? trace + at - NH : tr_steps + size_t((t + 1) % 2) * NH;
      float* o_t = out_o ? out_o + at : o_step;
      const float* gx_t = gx + size_t(t - t0) * N * G;
      float* cache_t = cache ? cache + size_t(t) * N * kCacheGates * H : nullptr;
      for_each_segment(N, H, [&](int n, int j0, int j1) {
        const size_t gi = size_t(n) * G, hi = size_t(n) * H;
        segment(H, j0, j1, opt, gx_t + gi, gh + gi, w, c_prev + hi, tr_prev + hi,
                zoneout_mask ? zoneout_mask + at + hi : nullptr, y + at + hi, c + at + hi,
                o_t + hi, tr_t + hi, cache_t ? cache_t + size_t(n) * kCacheGates * H : nullptr,
                active ? active + at + hi : nullptr);
      });
      if (stats) {  // exact integer counts, the same for any thread count
        int64_t fired = 0, kept = 0;
        for (size_t i = 0; i < NH; ++i) fired += o_t[i] > 0.0f;
        if (active) {
          for (size_t i = at; i < at + NH; ++i) kept += active[i] != 0;
        }
        events += double(fired);
        backward_active += double(kept);
      }
    }
  }

  if (stats) {
    stats->events = events;
    stats->backward_active = backward_active;
    stats->macs = macs;
    stats->macs_dense = macs_dense;
  }
}

namespace {

struct StepGrads {  // pointwise backward outputs of one step, per row segment
  float* dp;         // [G] input-side gate pre-activation gradients (z, r, g)
  float* dq;         // [G] recurrent-side (z, r, r ⊙ dg)
  float* dthr;       // [H] this (t, n)'s contribution to dϑ
};

// One step's pointwise backward for row segment [j0, j1). Carried gradients from step t+1 come
// in and the ones for step t−1 go out in the same arrays: dy_next (dL/dy_t via the recurrence,
// read only), dc (dL/dc_t → dL/dc_{t−1}), dtr (dL/dtr_t from later steps → for t−1). Absent
// upstream gradients point at zeros, so the loop has no branches and vectorises.
template <bool kMask>
inline void backward_segment(int H, int j0, int j1, const Options& opt,
                             const float* __restrict thr, const float* __restrict y,
                             const float* __restrict c, const float* __restrict c_prev,
                             const float* __restrict cache, const uint8_t* __restrict active,
                             const uint8_t* __restrict mask, const float* __restrict dy_ext,
                             const float* __restrict dc_ext, const float* __restrict do_ext,
                             const float* __restrict dtr_ext, const float* __restrict dy_next,
                             float* __restrict dc, float* __restrict dtr, const StepGrads& out) {
  const float gamma = opt.dampening, eps = opt.support;
  float* __restrict dp = out.dp;
  float* __restrict dq = out.dq;
  float* __restrict dthr = out.dthr;
  for (int j = j0; j < j1; ++j) {
    const float dtr_total = dtr_ext[j] + dtr[j];
    dtr[j] = 0.9f * dtr_total;
    const float gy = dy_ext[j] + dy_next[j] + 0.1f * dtr_total;
    const float gc = dc_ext[j] + dc[j];
    const bool fired = (active[j] & kFired) != 0;
    const float o = vmath::select(fired, 1.0f, 0.0f);
    // Exact recovery: fired → y = c', c = v; not fired → c = c', v = c' − ϑ (as in forward).
    const float cn = vmath::select(fired, y[j], c[j]);
    const float v = vmath::select(fired, c[j], cn - thr[j]);
    const float go = do_ext[j] + gy * cn - gc * thr[j];
    const float dv = go * gamma * std::max(0.0f, 1.0f - eps * std::fabs(v));
    const float dcn = gy * o + gc + dv;
    dthr[j] = -dv - gc * o;
    float du = dcn, dc_direct = 0.0f;
    if (kMask) {
      const bool keep = mask[j] != 0;
      du = vmath::select(keep, dcn, 0.0f);
      dc_direct = vmath::select(keep, 0.0f, dcn);
    }
    const float z = cache[j], r = cache[H + j], g = cache[2 * H + j], qg = cache[3 * H + j];
    const float dz = du * (c_prev[j] - g);
    const float dg = du * (1.0f - z);
    dc[j] = dc_direct + du * z;
    const float dag = dg * (1.0f - g * g);
    const float dar = dag * qg * r * (1.0f - r);
    const float daz = dz * z * (1.0f - z);
    dp[j] = daz;
    dp[H + j] = dar;
    dp[2 * H + j] = dag;
    dq[j] = daz;
    dq[H + j] = dar;
    dq[2 * H + j] = dag * r;
  }
}

// out[m, k] = d[m, :] · b[k, :] where select[m, k] != 0, else 0 (select null: everywhere);
// n_selected counts the selected pairs. When every pair is selected the product is a plain dense
// one and goes to the GEMM (nothing to skip, and no result is thrown away); otherwise only the
// selected pairs are computed.
void product_at_selected(int rows, int K, int G, const float* d, const float* b, const uint8_t* select,
                         int64_t n_selected, float* out) {
  if (n_selected == int64_t(rows) * K) {
    gemm(Trans::No, Trans::Yes, rows, K, G, 1.0f, d, G, b, G, 0.0f, out, K);
  } else {
    selected_row_dots(rows, K, G, d, b, select, out);
  }
}

}  // namespace

void Backward(const Context& ctx, const Dims& d, const Weights& w, const Options& opt, const float* x,
              const float* y0, const uint8_t* zoneout_mask, const uint8_t* dropconnect_keep,
              const float* y, const float* c, const float* cache, const uint8_t* active,
              const float* dy, const float* dyN, const float* dc, const float* d_o,
              const float* dtrace, float* dx, const uint8_t* dx_active, float* dy0_out,
              const Grads& g, Stats* stats) {
  check_dims(d, "Backward");
  const int T = d.T, N = d.N, C = d.C, H = d.H, G = 3 * H;
  require(g.dkernel, "Backward", "dkernel");
  require(g.drecurrent_kernel, "Backward", "drecurrent_kernel");
  require(g.dbias, "Backward", "dbias");
  require(g.drecurrent_bias, "Backward", "drecurrent_bias");
  require(g.dthr, "Backward", "dthr");
  if (!opt.training) throw std::invalid_argument("evnn::egru::Backward: needs a forward pass in training mode");
  if (stats) *stats = Stats{};
  const size_t NH = size_t(N) * H;
  if (dx) std::fill(dx, dx + size_t(T) * N * C, 0.0f);
  if (dy0_out) std::fill(dy0_out, dy0_out + NH, 0.0f);
  if (T == 0 || N == 0 || H == 0) return;  // nothing depends on the weights: nothing to add
  require(w.kernel, "Backward", "kernel");
  require(w.recurrent_kernel, "Backward", "recurrent_kernel");
  require(w.thr, "Backward", "thr");
  require(y, "Backward", "y");
  require(c, "Backward", "c");
  require(cache, "Backward", "cache");
  require(active, "Backward", "active");
  if (C > 0) require(x, "Backward", "x");
  const Zoneout zo = zoneout_mode(opt);
  if (zo == Zoneout::TrainMask) require(zoneout_mask, "Backward", "zoneout_mask (training with zoneout > 0)");
  const bool drop = opt.dropconnect > 0.0f;
  if (drop) require(dropconnect_keep, "Backward", "dropconnect_keep (dropconnect > 0)");

  const int S = steps_per_chunk(d, opt);
  Workspace& ws = recurrent::workspace_of(ctx, "egru");
  Workspace::Scope scope(ws);
  float* dp = ws.Floats(size_t(S) * N * G);
  float* dq = ws.Floats(size_t(S) * N * G);
  float* dthr_rows = ws.Floats(size_t(S) * NH);
  float* dy_next = ws.Zeros(NH);
  float* dc_carry = ws.Zeros(NH);
  float* dtr_carry = ws.Zeros(NH);
  const float* zeros = ws.Zeros(NH);
  // This call's gradients of the weights (of the kernel as used, after DropConnect) and of y_0
  // are formed apart and added into g at the end, after EvNN's per-layer clipping and the
  // DropConnect mask; dy0 is needed for the clipping norm even when the caller does not want it.
  const bool clip = opt.grad_clip > 0.0f;
  float* local_k = ws.Zeros(size_t(C) * G);
  float* local_rk = ws.Zeros(size_t(H) * G);
  float* dy0 = dy0_out ? dy0_out : clip ? ws.Zeros(NH) : nullptr;
  // The hN gradient (dL/dy at the last step) joins dy there.
  float* dy_last = nullptr;
  if (dyN) {
    dy_last = ws.Floats(NH);
    for (size_t i = 0; i < NH; ++i) dy_last[i] = (dy ? dy[size_t(T - 1) * NH + i] : 0.0f) + dyN[i];
  }
  std::vector<double> sum_dp(G, 0.0), sum_dqg(H, 0.0), sum_dthr(H, 0.0);
  EventRows events;
  double macs = 0, macs_dense = 0;

  for (int t1 = T; t1 > 0;) {
    const int t0 = std::max(0, t1 - S);
    for (int t = t1 - 1; t >= t0; --t) {
      const size_t at = size_t(t) * NH;
      float* dp_t = dp + size_t(t - t0) * N * G;
      float* dq_t = dq + size_t(t - t0) * N * G;
      float* dthr_t = dthr_rows + size_t(t - t0) * NH;
      const float* cache_t = cache + size_t(t) * N * kCacheGates * H;
      const float* c_prev = t > 0 ? c + at - NH : zeros;
      const auto ext = [&](const float* a) { return a ? a + at : zeros; };
      const float *dy_t = dy_last && t == T - 1 ? dy_last : ext(dy), *dc_t = ext(dc), *do_t = ext(d_o), *dtr_t = ext(dtrace);
      for_each_segment(N, H, [&](int n, int j0, int j1) {
        const size_t hi = size_t(n) * H, gi = size_t(n) * G;
        const StepGrads out{dp_t + gi, dq_t + gi, dthr_t + hi};
        const uint8_t* mask_t = zoneout_mask ? zoneout_mask + at + hi : nullptr;
        (zo == Zoneout::TrainMask ? backward_segment<true> : backward_segment<false>)(
            H, j0, j1, opt, w.thr, y + at + hi, c + at + hi, c_prev + hi,
            cache_t + size_t(n) * kCacheGates * H, active + at + hi, mask_t, dy_t + hi, dc_t + hi,
            do_t + hi, dtr_t + hi, dy_next + hi, dc_carry + hi, dtr_carry + hi, out);
      });
      // dL/dy_{t−1} = dq_t Rᵀ, only where y_{t−1} depends on c_{t−1} (backward-active units).
      if (t > 0) {
        const uint8_t* sel = active + at - NH;
        int64_t n_sel = 0;
        for (size_t i = 0; i < NH; ++i) n_sel += sel[i] != 0;
        product_at_selected(N, H, G, dq_t, w.recurrent_kernel, sel, n_sel, dy_next);
        macs += double(n_sel) * G;
        macs_dense += double(NH) * G;
      } else if (dy0) {
        product_at_selected(N, H, G, dq_t, w.recurrent_kernel, nullptr, int64_t(NH), dy0);
        macs += double(NH) * G;
        macs_dense += double(NH) * G;
      }
    }

    const int rows = (t1 - t0) * N;
    const float* x_chunk = x ? x + size_t(t0) * N * C : nullptr;
    // Input side: dW += xᵀ dp and dx = dp Wᵀ (event-driven for an event input).
    if (C > 0) {
      macs_dense += double(rows) * C * G;
      if (opt.sparse_input) {
        find_events(x_chunk, rows, C, C, &events);
        event_outer_add(events, C, dp, G, local_k, true);
        macs += double(events.count()) * G;
      } else {
        gemm(Trans::Yes, Trans::No, C, G, rows, 1.0f, x_chunk, C, dp, G, 1.0f, local_k, G);
        macs += double(rows) * C * G;
      }
      if (dx) {
        macs_dense += double(rows) * C * G;
        float* dx_chunk = dx + size_t(t0) * N * C;
        const uint8_t* sel = dx_active ? dx_active + size_t(t0) * N * C : nullptr;
        int64_t n_sel = int64_t(rows) * C;
        if (sel) {
          n_sel = 0;
          for (size_t i = 0; i < size_t(rows) * C; ++i) n_sel += sel[i] != 0;
        }
        product_at_selected(rows, C, G, dp, w.kernel, sel, n_sel, dx_chunk);
        macs += double(n_sel) * G;
      }
    }
    // Recurrent side: dR += y_{t−1}ᵀ dq_t over the events of y_{t−1} (y0 for t = 0).
    if (t0 == 0 && y0) {
      find_events(y0, N, H, H, &events);
      event_outer_add(events, H, dq, G, local_rk, true);
      macs += double(events.count()) * G;
      macs_dense += double(NH) * G;
    }
    const int first = std::max(t0, 1);
    if (first < t1) {
      find_events(y + size_t(first - 1) * NH, (t1 - first) * N, H, H, &events);
      event_outer_add(events, H, dq + size_t(first - t0) * N * G, G, local_rk, true);
      macs += double(events.count()) * G;
      macs_dense += double(t1 - first) * NH * G;
    }
    // Biases and thresholds; dq's z and r blocks equal dp's, so only its g block is summed.
    add_column_sums(dp, rows, G, 0, G, sum_dp.data());
    add_column_sums(dq, rows, G, 2 * H, G, sum_dqg.data());
    add_column_sums(dthr_rows, rows, H, 0, H, sum_dthr.data());
    t1 = t0;
  }

  float* local_b = ws.Floats(G);
  float* local_rb = ws.Floats(G);
  float* local_thr = ws.Floats(H);
  for (int k = 0; k < G; ++k) {
    local_b[k] = float(sum_dp[size_t(k)]);
    local_rb[k] = k < 2 * H ? float(sum_dp[size_t(k)]) : float(sum_dqg[size_t(k - 2 * H)]);
  }
  for (int k = 0; k < H; ++k) local_thr[k] = float(sum_dthr[size_t(k)]);
  // DropConnect: the kernel used was R ⊙ m / (1 − p), so dR = dR_used ⊙ m / (1 − p).
  if (drop) DropConnect(ctx, local_rk, dropconnect_keep, opt.dropconnect, size_t(H) * G, local_rk);
  const size_t sizes[] = {size_t(C) * G, size_t(H) * G, size_t(G), size_t(G), size_t(H)};
  float* locals[] = {local_k, local_rk, local_b, local_rb, local_thr};
  float* targets[] = {g.dkernel, g.drecurrent_kernel, g.dbias, g.drecurrent_bias, g.dthr};
  if (clip) {  // EvNN: one norm over this layer's initial-state and parameter gradients (not dx)
    std::vector<optim::Span> spans{{dy0, NH}};
    for (int i = 0; i < 5; ++i) spans.push_back({locals[i], sizes[i]});
    optim::ClipGlobalNorm(spans.data(), spans.size(), opt.grad_clip);
  }
  for (int i = 0; i < 5; ++i) {
    float* acc = targets[i];
    const float* add = locals[i];
    parallel_for(0, int64_t(sizes[i]), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) acc[k] += add[k];
    });
  }
  if (stats) {
    stats->macs = macs;
    stats->macs_dense = macs_dense;
  }
}

}  // namespace egru
}  // namespace evnn
