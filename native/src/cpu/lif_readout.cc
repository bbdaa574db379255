// The LIF readout on the CPU (lif_readout.h). Forward: per batch row, the readout state advanced
// over the nonzeros of spk_t. Backward, with the O outputs padded to whole vectors: per row,
// g_t = dL/d(spk_t @ w) by the reverse recursion into a per-chunk scratch [T,Op]; dspk = g·wᵀ per
// row (or only at a given active set's entries); dW over the row's spikes into its chunk's
// partial sum, the chunks (fixed by B) then added in order, so the result is the same bitwise
// whatever the thread count.
#include "evnn/lif_readout.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "evnn/parallel.h"
#include "recurrent_common.h"
#include "vec16.h"

namespace evnn {
namespace lif_readout {

namespace {

constexpr int kChunks = 32;  // the most batch-row chunks of dW partial sums
constexpr int kSkip = 16;    // spk values tested for all-zero at once in the dW pass

using vec16::load16;
using vec16::store16;
using vec16::v16f;
using vec16::v16i;
typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
// a·b over nv·16 floats (rows padded with zeros): lanes summed per vector, then as a tree.
inline float dot_padded(const float* a, const float* b, int nv) {
  v16f s = load16(a) * load16(b);
  for (int v = 1; v < nv; ++v) s += load16(a + 16 * v) * load16(b + 16 * v);
  v8f h[2];
  std::memcpy(h, &s, sizeof s);
  const v8f u = h[0] + h[1];
  v4f q[2];
  std::memcpy(q, &u, sizeof u);
  const v4f x = q[0] + q[1];
  return (x[0] + x[2]) + (x[1] + x[3]);
}
// y += c·x over nv·16 floats.
inline void axpy_padded(float c, const float* x, float* y, int nv) {
  for (int v = 0; v < nv; ++v) {
    store16(y + 16 * v, load16(y + 16 * v) + c * load16(x + 16 * v));
  }
}

void check(const Dims& d, const void* w, const void* spk, Reduce reduce, const void* argmax, const char* fn) {
  if (d.B < 0 || d.T < 0 || d.H < 0 || d.O < 0)
    throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": dims must be >= 0");
  if (!w || !spk) throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": w and spk must not be null");
  if (reduce == Reduce::kMax && !argmax)
    throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": the max reduction needs argmax");
}

}  // namespace

void Forward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
             float* logits, int32_t* argmax, lif::EventSet* spikes) {
  check(d, w, spk, Reduce::kSum, nullptr, "Forward");
  if (!logits) throw std::invalid_argument("evnn::lif_readout::Forward: logits must not be null");
  Workspace& ws = recurrent::workspace_of(ctx, "lif_readout");
  Workspace::Scope scope(ws);
  const int T = d.T, H = d.H, O = d.O;
  float* state = ws.Floats(size_t(std::max(d.B, 1)) * 2 * std::max(O, 1));  // per row: out, h
  const float a = 1.0f - beta;
  // per batch row: its spikes' columns and values, and the count per step (joined below)
  std::vector<std::vector<int>> sp_idx(spikes ? d.B : 0);
  std::vector<std::vector<float>> sp_val(spikes ? d.B : 0);
  if (spikes) {
    spikes->B = d.B, spikes->T = T;
    spikes->offsets.assign(size_t(d.B) * T + 1, 0);
  }
  parallel_for(0, d.B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (spikes) {
        const float* sb = spk + size_t(b) * T * H;
        for (int t = 0; t < T; ++t) {
          for (int j = 0; j < H; ++j)
            if (sb[size_t(t) * H + j] != 0.0f) sp_idx[b].push_back(j), sp_val[b].push_back(sb[size_t(t) * H + j]);
          spikes->offsets[size_t(b) * T + t + 1] = int64_t(sp_idx[b].size());  // per-row count for now
        }
      }
      float* out = state + size_t(b) * 2 * O;
      float* h = out + O;
      float* lg = logits + size_t(b) * O;
      int32_t* am = argmax ? argmax + size_t(b) * O : nullptr;
      std::fill(out, out + O, 0.0f);  // out_0
      std::fill(lg, lg + O, 0.0f);    // max, sum and last all start from out_0 = 0
      if (am) std::fill(am, am + O, 0);
      for (int t = 0; t + 1 < T; ++t) {  // out_{t+1} from spk_t
        std::fill(h, h + O, 0.0f);
        const float* st = spk + (size_t(b) * T + t) * H;
        for (int j = 0; j < H; ++j) {
          const float v = st[j];
          if (v == 0.0f) continue;
          const float* wr = w + size_t(j) * O;
          for (int k = 0; k < O; ++k) h[k] += v * wr[k];
        }
        for (int k = 0; k < O; ++k) out[k] = beta * out[k] + a * h[k];
        switch (reduce) {
          case Reduce::kMax:
            for (int k = 0; k < O; ++k)
              if (out[k] > lg[k]) {  // strict: the first maximum
                lg[k] = out[k];
                if (am) am[k] = t + 1;  // null in evaluation (no backward)
              }
            break;
          case Reduce::kSum:
          case Reduce::kMean:
            for (int k = 0; k < O; ++k) lg[k] += out[k];
            break;
          case Reduce::kLast:
            std::copy(out, out + O, lg);
            break;
        }
      }
      if (reduce == Reduce::kMean && T > 0)
        for (int k = 0; k < O; ++k) lg[k] /= float(T);
    }
  });
  if (spikes) {  // per-row counts → global offsets; join the rows' lists
    spikes->index.clear(), spikes->value.clear();
    int64_t base = 0;
    for (int b = 0; b < d.B; ++b) {
      for (int t = 0; t < T; ++t) spikes->offsets[size_t(b) * T + t + 1] += base;
      spikes->index.insert(spikes->index.end(), sp_idx[b].begin(), sp_idx[b].end());
      spikes->value.insert(spikes->value.end(), sp_val[b].begin(), sp_val[b].end());
      base += int64_t(sp_idx[b].size());
    }
  }
}

void Backward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
              const int32_t* argmax, const float* dlogits, float* dw, float* dspk, const lif::EventSet* at,
              float* dspk_active, const lif::EventSet* spikes) {
  check(d, w, spk ? spk : static_cast<const void*>(spikes), reduce, argmax, "Backward");  // spikes stand for spk
  if (!dlogits || !dw) throw std::invalid_argument("evnn::lif_readout::Backward: dlogits and dw must not be null");
  if (bool(at) != bool(dspk_active))
    throw std::invalid_argument("evnn::lif_readout::Backward: give at and dspk_active together (or neither)");
  if (at && (at->B != d.B || at->T != d.T || at->offsets.size() != size_t(d.B) * d.T + 1))
    throw std::invalid_argument("evnn::lif_readout::Backward: at must be an active set over the same B and T");
  if (spikes && (spikes->B != d.B || spikes->T != d.T || spikes->offsets.size() != size_t(d.B) * d.T + 1))
    throw std::invalid_argument("evnn::lif_readout::Backward: spikes must be Forward's, over the same B and T");
  Workspace& ws = recurrent::workspace_of(ctx, "lif_readout");
  Workspace::Scope scope(ws);
  const int B = d.B, T = d.T, H = d.H, O = d.O;
  // The O outputs padded with zeros to Op, a multiple of 16, so that every per-output loop below
  // is a few whole vectors (O = 10 or 20 in the configs: scalar loops of 10 were most of the time).
  const int Op = (std::max(O, 1) + 15) / 16 * 16, NV = Op / 16;
  float* wp = ws.Floats(size_t(H) * Op + 1);  // w padded: [H, Op]
  for (int j = 0; j < H; ++j) {
    std::copy(w + size_t(j) * O, w + size_t(j + 1) * O, wp + size_t(j) * Op);
    std::fill(wp + size_t(j) * Op + O, wp + size_t(j + 1) * Op, 0.0f);
  }
  // G[b,t] = dL/d(spk_t @ w) = (1 − β)·A_{t+1}, A_s = dL/dout_s (all paths) = g_s + β·A_{s+1}.
  // One row's G at a time per chunk (T·Op floats, kept in cache; not B·T·O of fresh memory).
  const int nchunks = std::max(1, std::min(B, kChunks));
  float* G = ws.Floats(size_t(nchunks) * std::max(T, 1) * Op);
  // dW per fixed chunk of batch rows (their count depends on B only, not on the threads), summed
  // while the row's G is in cache (over the nonzeros of spk only), then the chunks added in order:
  // the same bits whatever the thread count, and G and spk each read once.
  const int rows_per = B > 0 ? (B + nchunks - 1) / nchunks : 0;
  const size_t HO = size_t(H) * Op;
  float* P = ws.Floats(std::max<size_t>(size_t(nchunks) * HO, 1));
  const float a = 1.0f - beta;
  std::vector<float> dl_all(size_t(nchunks) * Op);
  std::vector<int32_t> am_all(size_t(nchunks) * Op);
  parallel_for(0, nchunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* Pc = P + size_t(c) * HO;
      std::fill(Pc, Pc + HO, 0.0f);
      float* Gb = G + size_t(c) * std::max(T, 1) * Op;
      const int64_t bend = std::min<int64_t>(B, (c + 1) * rows_per);
      for (int64_t b = c * rows_per; b < bend; ++b) {
        // the reduction's dL/dout_s per output, padded: dl (0 beyond O) and, for max, the step of
        // the maximum (−1 beyond O: never a step)
        float* dl = dl_all.data() + size_t(c) * Op;
        int32_t* am = am_all.data() + size_t(c) * Op;
        for (int k = 0; k < Op; ++k) {
          dl[k] = k < O ? dlogits[size_t(b) * O + k] : 0.0f;
          am[k] = k < O && argmax ? argmax[size_t(b) * O + k] : -1;
        }
        if (reduce == Reduce::kMean)
          for (int k = 0; k < O; ++k) dl[k] /= float(T);
        if (T > 0) std::fill(Gb + size_t(T - 1) * Op, Gb + size_t(T) * Op, 0.0f);
        for (int v = 0; v < NV; ++v) {
          v16f A = {};
          const v16f dv = load16(dl + 16 * v);
          v16i av;
          std::memcpy(&av, am + 16 * v, sizeof av);
          for (int s = T - 1; s >= 1; --s) {  // Gb[s − 1] = (1 − β)·A_s
            v16f g = dv;  // kSum, kMean
            if (reduce == Reduce::kMax) {
              g = reinterpret_cast<v16f>(reinterpret_cast<v16i>(dv) & (av == s));
            } else if (reduce == Reduce::kLast && s != T - 1) {
              g = v16f{};
            }
            A = g + beta * A;
            const v16f gs = a * A;
            store16(Gb + size_t(s - 1) * Op + 16 * v, gs);
          }
        }
        if (at) {  // only at the active entries: the same dot as the dense dspk below
          const int64_t* off = at->offsets.data();
          const int* idx = at->index.data();
          for (int t = 0; t < T; ++t) {
            const float* gt = Gb + size_t(t) * Op;
            const size_t r = size_t(b) * T + t;
            for (int64_t e = off[r]; e < off[r + 1]; ++e) dspk_active[e] = dot_padded(wp + size_t(idx[e]) * Op, gt, NV);
          }
        }
        if (dspk) {
          for (int t = 0; t < T; ++t) {
            const float* gt = Gb + size_t(t) * Op;
            float* dt = dspk + (size_t(b) * T + t) * H;
            for (int j = 0; j < H; ++j) dt[j] = dot_padded(wp + size_t(j) * Op, gt, NV);
          }
        }
        if (spikes) {  // dW over the saved spikes of row b, in (b, t) and column order, as below
          const int64_t* off = spikes->offsets.data();
          for (int t = 0; t < T; ++t) {
            const float* gt = Gb + size_t(t) * Op;
            const size_t r = size_t(b) * T + t;
            for (int64_t e = off[r]; e < off[r + 1]; ++e) axpy_padded(spikes->value[e], gt, Pc + size_t(spikes->index[e]) * Op, NV);
          }
          continue;
        }
        for (int t = 0; t < T; ++t) {  // dW over the spikes of row b, in (b, t) order
          const float* st = spk + (size_t(b) * T + t) * H;
          const float* gt = Gb + size_t(t) * Op;
          for (int j0 = 0; j0 < H; j0 += kSkip) {
            const int j1 = std::min(H, j0 + kSkip);
            uint32_t any = 0;  // skip kSkip zeros at once (a vector OR; -0.0 is caught below)
            for (int j = j0; j < j1; ++j) {
              uint32_t u;
              std::memcpy(&u, st + j, 4);
              any |= u;
            }
            if (!any) continue;
            for (int j = j0; j < j1; ++j) {
              const float v = st[j];
              if (v == 0.0f) continue;
              axpy_padded(v, gt, Pc + size_t(j) * Op, NV);
            }
          }
        }
      }
    }
  });
  parallel_for(0, H, 16, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      for (int k = 0; k < O; ++k) {
        float s = 0.0f;
        for (int c = 0; c < nchunks; ++c) s += P[size_t(c) * HO + size_t(j) * Op + k];
        dw[size_t(j) * O + k] += s;
      }
  });
}

}  // namespace lif_readout
}  // namespace evnn
