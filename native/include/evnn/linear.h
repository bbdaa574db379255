// Fully connected layer, PyTorch nn.Linear layout: y[M,O] = x[M,I] · Wᵀ + b, W is [O,I], b [O].
// All tensors float32 row-major; the caller owns every buffer.
#pragma once
#include "evnn/context.h"

namespace evnn {
namespace linear {

struct Dims {
  int M;  // rows (batch, or time × batch)
  int I;  // input features
  int O;  // output features
};

// b may be null (no bias).
void Forward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* b, float* y);

// Given dy [M,O]: dx = dy · W [M,I] (skipped when dx is null), dW = dyᵀ · x [O,I],
// db = column sums of dy [O] (skipped when db is null). dx is written; dW and db are added into
// (+=), so a weight used twice (a tied embedding and decoder) gets both contributions.
void Backward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db);

}  // namespace linear
}  // namespace evnn
