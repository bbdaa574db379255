// Spike-count regulariser of a LIF layer (issue 9), on spk [B,T,H]:
//   L = (1/B) Σ_b [ λ_up·max(0, Σ_{t,j} spk[b,t,j]/H − f_up)^p_up
//                   + (λ_low/H)·Σ_j max(0, f_low − Σ_t spk[b,t,j])² ].
// The same as the reference's loss_upper/loss_lower/loss_reg (train_and_time.py:195-214), batch
// size = B. Its gradient dL/dspk[b,t,j] does not depend on t, so it is returned as one row per
// (b,j): dspk_row [B,H]. The hinges are strict: at u ≤ 0 the gradient of max(0,u)^p is 0 (for
// p_up = 1 too, as torch.clamp's gradient at the clamp point).
#pragma once

#include "evnn/context.h"

namespace evnn {
namespace lif_regularizer {

struct Params {
  double lambda_up = 0.06, f_up = 1.0, p_up = 1.0, lambda_low = 100.0, f_low = 1e-3;
};

// Returns L; dspk_row [B,H] written (may be null).
double SpikeCount(const Context& ctx, int B, int T, int H, const float* spk, const Params& p, float* dspk_row);

}  // namespace lif_regularizer
}  // namespace evnn
