// 2-D convolution, PyTorch nn.Conv2d layout and semantics (dilation 1, groups 1):
//   y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, i·SH − PH + u, j·SW − PW + v]
// with x zero outside the image. x is NCHW [N, C, H, W], w [O, C, KH, KW], b [O], y NCHW
// [N, O, OH, OW], OH = ⌊(H + 2·PH − KH) / SH⌋ + 1 (likewise OW). All float32, row-major; the
// caller owns every buffer.
//
// CPU: im2col + the engine's GEMM over blocks of frames. A block's patches are the rows of one
// matrix [frames·OH·OW, C·KH·KW], so one GEMM covers many frames: the late layers of a small
// network (3×3 or 1×1 outputs) would be matrix-vector products frame by frame. Scratch comes
// from ctx.workspace; the block size bounds it and depends on the shapes only, never on the
// thread count.
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"

namespace evnn {
namespace conv2d {

struct Dims {
  int N;   // frames (batch)
  int C;   // input channels
  int H;   // input height
  int W;   // input width
  int O;   // output channels
  int KH;  // kernel height
  int KW;  // kernel width
  int SH = 1, SW = 1;  // strides (>= 1)
  int PH = 0, PW = 0;  // zero padding on each side (>= 0)
};

// ⌊(in + 2·pad − k) / stride⌋ + 1, or 0 when the padded input is smaller than the kernel.
int OutSize(int in, int k, int stride, int pad);

// Throws std::invalid_argument naming the bad field (sizes < 1, pad < 0, an empty output).
void Validate(const Dims& d);

struct Options {
  // Scratch floats per block (0: the default, 4 Mi floats). Smaller values split the work into
  // more GEMMs, which changes dw and db only by rounding (the order of their sums); the C++ check
  // uses it to cross block boundaries.
  size_t block_floats = 0;
  // A ReLU fused after the convolution (y = max(0, conv + b); NaN kept), as cuDNN fuses an
  // activation: no separate pass and no second output array. The backward then reads the
  // forward's output y and takes dy through the ReLU (dy where y > 0, else 0).
  bool relu = false;
};

// b may be null (no bias).
void Forward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* b, float* y,
             const Options& opt = {});

// Given dy [N, O, OH, OW]: dw += ∂L/∂w, db += ∂L/∂b (skipped when db is null), and dx = ∂L/∂x
// written (skipped when dx is null). x is the forward's input; the patches are rebuilt from it
// rather than kept, so the forward saves nothing. y: the forward's output, read only with
// opt.relu (required then).
void Backward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* y, const float* dy,
              float* dx, float* dw, float* db, const Options& opt = {});

}  // namespace conv2d
}  // namespace evnn
