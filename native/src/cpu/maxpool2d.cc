// MaxPool2d forward/backward over (frame, channel) planes (see evnn/maxpool2d.h).
#include "evnn/maxpool2d.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "evnn/parallel.h"
#include "window_geometry.h"

namespace evnn {
namespace maxpool2d {

int OutSize(int in, int k, int stride, int pad) { return window::OutSize(in, k, stride, pad); }

void Validate(const Dims& d) {
  window::RequireGeometry("maxpool2d", d.N, d.C, d.H, d.W, d.KH, d.KW, d.SH, d.SW, d.PH, d.PW);
  // PyTorch's rule; it also guarantees every window holds at least one real input.
  if (2 * d.PH > d.KH || 2 * d.PW > d.KW) {
    throw std::invalid_argument("evnn::maxpool2d: padding must be at most half the window, got PH=" + std::to_string(d.PH) +
                                " PW=" + std::to_string(d.PW) + " for a " + std::to_string(d.KH) + "×" +
                                std::to_string(d.KW) + " window");
  }
  if (OutSize(d.H, d.KH, d.SH, d.PH) < 1 || OutSize(d.W, d.KW, d.SW, d.PW) < 1) {
    throw std::invalid_argument("evnn::maxpool2d: the window " + std::to_string(d.KH) + "×" + std::to_string(d.KW) +
                                " is larger than the padded input " + std::to_string(d.H + 2 * d.PH) + "×" +
                                std::to_string(d.W + 2 * d.PW));
  }
}

void Forward(const Context&, const Dims& d, const float* x, float* y, int32_t* argmax) {
  Validate(d);
  const int OH = OutSize(d.H, d.KH, d.SH, d.PH), OW = OutSize(d.W, d.KW, d.SW, d.PW);
  const int64_t plane = int64_t(d.H) * d.W, out_plane = int64_t(OH) * OW;
  const int64_t work = std::max<int64_t>(1, out_plane * d.KH * d.KW);
  // Without padding every window lies inside the plane (floor mode), so a tile of outputs along a
  // row can be updated together, window position by window position: independent chains instead
  // of one dependent compare per input. The positions are visited in the same row-major order
  // for every output, so ties resolve exactly as in the scalar scan.
  const bool inside = d.PH == 0 && d.PW == 0;
  constexpr int kTile = 64;
  parallel_for(0, int64_t(d.N) * d.C, std::max<int64_t>(1, 32768 / work), [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      const float* xp = x + pl * plane;
      float* yp = y + pl * out_plane;
      int32_t* ap = argmax ? argmax + pl * out_plane : nullptr;
      for (int i = 0; i < OH; ++i) {
        if (inside) {
          for (int j0 = 0; j0 < OW; j0 += kTile) {
            const int nj = std::min(kTile, OW - j0);
            float m[kTile];
            int32_t best[kTile];
            for (int t = 0; t < nj; ++t) {
              m[t] = -std::numeric_limits<float>::infinity();
              best[t] = int32_t(i * d.SH * d.W + (j0 + t) * d.SW);
            }
            for (int u = 0; u < d.KH; ++u) {
              const int iy = i * d.SH + u;
              const float* row = xp + int64_t(iy) * d.W + int64_t(j0) * d.SW;
              for (int v = 0; v < d.KW; ++v) {
                const int32_t base = int32_t(iy * d.W + j0 * d.SW + v);
                for (int t = 0; t < nj; ++t) {
                  const float val = row[t * d.SW + v];
                  const bool take = (val > m[t]) | std::isnan(val);
                  m[t] = take ? val : m[t];
                  best[t] = take ? base + t * d.SW : best[t];
                }
              }
            }
            std::copy(m, m + nj, yp + int64_t(i) * OW + j0);
            if (ap) std::copy(best, best + nj, ap + int64_t(i) * OW + j0);
          }
          continue;
        }
        const int ys = std::max(i * d.SH - d.PH, 0), ye = std::min(i * d.SH - d.PH + d.KH, d.H);
        for (int j = 0; j < OW; ++j) {
          const int xs = std::max(j * d.SW - d.PW, 0), xe = std::min(j * d.SW - d.PW + d.KW, d.W);
          // PyTorch's scan: the first real position until something beats −∞, then strictly
          // greater values or NaN.
          int32_t best = int32_t(ys * d.W + xs);
          float m = -std::numeric_limits<float>::infinity();
          for (int iy = ys; iy < ye; ++iy) {
            const float* row = xp + int64_t(iy) * d.W;
            for (int ix = xs; ix < xe; ++ix) {
              const float v = row[ix];
              if (v > m || std::isnan(v)) {
                m = v;
                best = int32_t(iy * d.W + ix);
              }
            }
          }
          yp[int64_t(i) * OW + j] = m;
          if (ap) ap[int64_t(i) * OW + j] = best;
        }
      }
    }
  });
}

void Backward(const Context&, const Dims& d, const int32_t* argmax, const float* dy, float* dx) {
  Validate(d);
  const int OH = OutSize(d.H, d.KH, d.SH, d.PH), OW = OutSize(d.W, d.KW, d.SW, d.PW);
  const int64_t plane = int64_t(d.H) * d.W, out_plane = int64_t(OH) * OW;
  parallel_for(0, int64_t(d.N) * d.C, std::max<int64_t>(1, 32768 / std::max(plane, out_plane)), [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* dxp = dx + pl * plane;
      const float* dyp = dy + pl * out_plane;
      const int32_t* ap = argmax + pl * out_plane;
      std::fill(dxp, dxp + plane, 0.0f);
      for (int64_t k = 0; k < out_plane; ++k) {
        if (ap[k] < 0 || ap[k] >= plane) {
          throw std::invalid_argument("evnn::maxpool2d::Backward: argmax " + std::to_string(ap[k]) + " at plane " +
                                      std::to_string(pl) + " is outside [0, H·W) = [0, " + std::to_string(plane) + ")");
        }
        dxp[ap[k]] += dyp[k];
      }
    }
  });
}

}  // namespace maxpool2d
}  // namespace evnn
