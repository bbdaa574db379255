// The LIF readout on the CPU (lif_readout.h). Forward: per batch row, the readout state advanced
// over the nonzeros of spk_t. Backward: per row, g_t = dL/d(spk_t @ w) by the reverse recursion
// into scratch [B,T,O]; dspk = g·wᵀ per row; dW over blocks of hidden units, each summing its
// rows in (b, t) order, so the result is the same bitwise whatever the thread count.
#include "evnn/lif_readout.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "evnn/parallel.h"
#include "recurrent_common.h"

namespace evnn {
namespace lif_readout {

namespace {

constexpr int kHBlock = 32;  // hidden units per dW block

void check(const Dims& d, const void* w, const void* spk, Reduce reduce, const void* argmax, const char* fn) {
  if (d.B < 0 || d.T < 0 || d.H < 0 || d.O < 0)
    throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": dims must be >= 0");
  if (!w || !spk) throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": w and spk must not be null");
  if (reduce == Reduce::kMax && !argmax)
    throw std::invalid_argument(std::string("evnn::lif_readout::") + fn + ": the max reduction needs argmax");
}

}  // namespace

void Forward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
             float* logits, int32_t* argmax) {
  check(d, w, spk, Reduce::kSum, nullptr, "Forward");
  if (!logits) throw std::invalid_argument("evnn::lif_readout::Forward: logits must not be null");
  Workspace& ws = recurrent::workspace_of(ctx, "lif_readout");
  Workspace::Scope scope(ws);
  const int T = d.T, H = d.H, O = d.O;
  float* state = ws.Floats(size_t(std::max(d.B, 1)) * 2 * std::max(O, 1));  // per row: out, h
  const float a = 1.0f - beta;
  parallel_for(0, d.B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
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
}

void Backward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
              const int32_t* argmax, const float* dlogits, float* dw, float* dspk) {
  check(d, w, spk, reduce, argmax, "Backward");
  if (!dlogits || !dw) throw std::invalid_argument("evnn::lif_readout::Backward: dlogits and dw must not be null");
  Workspace& ws = recurrent::workspace_of(ctx, "lif_readout");
  Workspace::Scope scope(ws);
  const int B = d.B, T = d.T, H = d.H, O = d.O;
  // G[b,t] = dL/d(spk_t @ w) = (1 − β)·A_{t+1}, A_s = dL/dout_s (all paths) = g_s + β·A_{s+1}.
  float* G = ws.Floats(std::max<size_t>(size_t(B) * T * O, 1));
  const float a = 1.0f - beta;
  parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* Gb = G + size_t(b) * T * O;
      const float* dl = dlogits + size_t(b) * O;
      const int32_t* am = argmax ? argmax + size_t(b) * O : nullptr;
      if (T > 0) std::fill(Gb + size_t(T - 1) * O, Gb + size_t(T) * O, 0.0f);
      for (int k = 0; k < O; ++k) {
        float A = 0.0f;  // A_{s+1}
        for (int s = T - 1; s >= 1; --s) {
          float g = 0.0f;  // the reduction's dL/dout_s
          switch (reduce) {
            case Reduce::kMax: g = am[k] == s ? dl[k] : 0.0f; break;
            case Reduce::kSum: g = dl[k]; break;
            case Reduce::kMean: g = dl[k] / float(T); break;
            case Reduce::kLast: g = s == T - 1 ? dl[k] : 0.0f; break;
          }
          A = g + beta * A;
          Gb[size_t(s - 1) * O + k] = a * A;
        }
      }
      if (dspk) {
        for (int t = 0; t < T; ++t) {
          const float* gt = Gb + size_t(t) * O;
          float* dt = dspk + (size_t(b) * T + t) * H;
          for (int j = 0; j < H; ++j) {
            const float* wr = w + size_t(j) * O;
            float s = 0.0f;
            for (int k = 0; k < O; ++k) s += wr[k] * gt[k];
            dt[j] = s;
          }
        }
      }
    }
  });
  const int nblocks = (H + kHBlock - 1) / kHBlock;
  parallel_for(0, nblocks, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t blk = k0; blk < k1; ++blk) {
      const int j0 = int(blk) * kHBlock, j1 = std::min(H, j0 + kHBlock);
      for (size_t r = 0; r < size_t(B) * T; ++r) {
        const float* st = spk + r * H;
        const float* gt = G + r * O;
        for (int j = j0; j < j1; ++j) {
          const float v = st[j];
          if (v == 0.0f) continue;
          float* dr = dw + size_t(j) * O;
          for (int k = 0; k < O; ++k) dr[k] += v * gt[k];
        }
      }
    }
  });
}

}  // namespace lif_readout
}  // namespace evnn
