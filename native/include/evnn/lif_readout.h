// Leaky (non-spiking) readout of a LIF network (issue 9; the S3GD reference's SNNReadout); its
// input gradient dense as the reference's, or only at a LIF layer's active entries (S3GD).
// Batch-major: spk [B,T,H], w [H,O], logits [B,O].
//   out_0 = 0,   out_{t+1} = β_r·out_t + (1 − β_r)·(spk_t @ w)   for t = 0 .. T−2,
// so there are T readout values out_0 .. out_{T−1} (out_0 = 0 included; spk_{T−1} is never read),
// exactly as train_and_time.py:304-311 stacks them, and the reduction runs over all T of them:
//   max:  logits = max_t out_t (out_0 = 0 takes part, so a logit is never below 0, as in the
//         reference's torch.max over dim 1; the gradient goes to the FIRST t of the maximum)
//   sum:  Σ_t out_t    mean: Σ_t out_t / T    last: out_{T−1}.
// The product spk_t @ w runs over the nonzeros of spk only (forward, and dW in the backward).
#pragma once
#include <cstdint>

#include "evnn/context.h"
#include "evnn/lif.h"

namespace evnn {
namespace lif_readout {

struct Dims {
  int B, T, H, O;
};

enum class Reduce { kMax, kSum, kMean, kLast };

// logits [B,O] written; argmax [B,O] (the first t of the maximum, kMax only; may be null) written.
// spikes (may be null): the nonzeros of spk written as an EventSet (per (b,t) row, with values),
// for Backward's dW to read instead of the dense spk (8 bytes per spike, not 4·B·T·H).
void Forward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
             float* logits, int32_t* argmax, lif::EventSet* spikes = nullptr);

// dlogits [B,O] → dW [H,O] added into (+=); dspk [B,T,H] written when non-null (row T−1 is 0).
// argmax: Forward's (kMax only). Scratch, with O padded to Op (a multiple of 16): min(B, 32)·
// (T·Op + H·Op + 2·Op) floats (a row's dL/d(spk_t @ w), dW partial sums) and w padded, H·Op.
// at (may be null; then dspk_active must be null too): a LIF layer's active set over [B,T,H] (its
// B and T must be d's, its columns < H). dspk_active then gets dspk at each of its entries, in its
// order — the same O-long dot as the dense dspk, so bitwise equal to it gathered there — which is
// all that layer's S3GD backward reads (the surrogate is 0 elsewhere), at nA·O products, not B·T·H·O.
void Backward(const Context& ctx, const Dims& d, const float* w, float beta, Reduce reduce, const float* spk,
              const int32_t* argmax, const float* dlogits, float* dw, float* dspk,
              const lif::EventSet* at = nullptr, float* dspk_active = nullptr,
              const lif::EventSet* spikes = nullptr);
// spikes (may be null): Forward's; dW then reads it (the same sums, the same bits) instead of spk,
// and spk may be null (nothing else in the backward reads it).

}  // namespace lif_readout
}  // namespace evnn
