// The mean over time of a time-major sequence, and its backward: y[N,H] = (1/T) Σ_t x[t,N,H].
// EvNN's DVS128 model averages its classifier's logits over every step (--use-all-timesteps);
// the classifier is linear, so evnn averages the recurrent output first and classifies once.
#pragma once
#include "evnn/context.h"

namespace evnn {
namespace time_mean {

struct Dims {
  int T, N, H;
};

// x [T,N,H] → y [N,H] (written).
void Forward(const Context& ctx, const Dims& d, const float* x, float* y);

// dx[t,n,h] += dy[n,h] / T for every t (added, so a sequence read by several heads gets each).
void Backward(const Context& ctx, const Dims& d, const float* dy, float* dx);

}  // namespace time_mean
}  // namespace evnn
