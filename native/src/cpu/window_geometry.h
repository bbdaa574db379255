// Sliding-window geometry shared by Conv2d and MaxPool2d: PyTorch's output size (floor mode) and
// the checks of the fields both layers take, with errors naming the layer and the field.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace evnn {
namespace window {

// ⌊(in + 2·pad − k) / stride⌋ + 1, or 0 where the window does not fit.
inline int OutSize(int in, int k, int stride, int pad) {
  const int64_t span = int64_t(in) + 2 * int64_t(pad) - k;
  if (span < 0 || stride < 1) return 0;
  return int(span / stride + 1);
}

inline void RequireInt(const char* layer, int value, int at_least, const char* name) {
  if (value < at_least) {
    throw std::invalid_argument(std::string("evnn::") + layer + ": " + name + " must be >= " + std::to_string(at_least) +
                                ", got " + std::to_string(value));
  }
}

// N, C, H, W >= 1; KH, KW, SH, SW >= 1; PH, PW >= 0.
inline void RequireGeometry(const char* layer, int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW) {
  RequireInt(layer, N, 1, "N");
  RequireInt(layer, C, 1, "C");
  RequireInt(layer, H, 1, "H");
  RequireInt(layer, W, 1, "W");
  RequireInt(layer, KH, 1, "KH");
  RequireInt(layer, KW, 1, "KW");
  RequireInt(layer, SH, 1, "SH");
  RequireInt(layer, SW, 1, "SW");
  RequireInt(layer, PH, 0, "PH");
  RequireInt(layer, PW, 0, "PW");
}

}  // namespace window
}  // namespace evnn
