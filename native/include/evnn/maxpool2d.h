// 2-D max pooling, PyTorch nn.MaxPool2d semantics (dilation 1, floor mode): over each window of
// KH×KW at stride (SH, SW) with PH/PW implicit padding (padded positions never win),
//   y[n, c, i, j] = max x[n, c, i·SH − PH + u, j·SW − PW + v],  OH = ⌊(H + 2·PH − KH) / SH⌋ + 1.
// The index of the winner within its H×W plane is recorded as PyTorch's CPU kernel picks it: the
// window is scanned row by row and a value wins when it is greater than the best so far or NaN,
// so among equal values the first wins (after a ReLU, ties of zeros are common and the gradient
// goes to exactly one of them).
#pragma once
#include <cstdint>

#include "evnn/context.h"

namespace evnn {
namespace maxpool2d {

struct Dims {
  int N;   // frames
  int C;   // channels
  int H;   // input height
  int W;   // input width
  int KH;  // window height
  int KW;  // window width
  int SH, SW;  // strides (>= 1; PyTorch's default is the kernel size)
  int PH = 0, PW = 0;  // padding, at most half the window (PyTorch's rule)
};

int OutSize(int in, int k, int stride, int pad);

// Throws std::invalid_argument naming the bad field.
void Validate(const Dims& d);

// x [N, C, H, W] → y [N, C, OH, OW]; argmax [N, C, OH, OW] (may be null) receives the winner's
// index h·W + w within its plane, as PyTorch's return_indices gives.
void Forward(const Context& ctx, const Dims& d, const float* x, float* y, int32_t* argmax);

// dx [N, C, H, W] = Σ over the outputs whose winner is that input of dy (written, not added):
// overlapping windows (3 at stride 2) can route several outputs to one input.
void Backward(const Context& ctx, const Dims& d, const int32_t* argmax, const float* dy, float* dx);

}  // namespace maxpool2d
}  // namespace evnn
