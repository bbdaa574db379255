// Rectified linear unit, y = max(x, 0) elementwise (NaN passes through, as in PyTorch).
#pragma once
#include <cstddef>

#include "evnn/context.h"

namespace evnn {
namespace relu {

// y may alias x (PyTorch's ReLU(inplace=True)).
void Forward(const Context& ctx, size_t n, const float* x, float* y);

// dx = dy where y > 0, else 0, from the forward's output y (so the input need not be kept, as
// with an in-place ReLU). dx may alias dy.
void Backward(const Context& ctx, size_t n, const float* y, const float* dy, float* dx);

}  // namespace relu
}  // namespace evnn
