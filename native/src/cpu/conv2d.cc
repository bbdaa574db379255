// Conv2d forward/backward as im2col + GEMM over blocks of frames (see evnn/conv2d.h).
//
// Per block of frames [f0, f1):
//   col [R, K]  R = frames·OH·OW patch rows, K = C·KH·KW (the weight's row layout)
//   forward:  t = col · wᵀ [R, O], then y[f, o, p] = t[f·P + p, o] + b[o] (or its ReLU)
//   backward: g[R, O] = dy laid out like t (through the ReLU when it is fused); db += column sums
//             of g; dw += gᵀ · col;
//             dcol = g · w [R, K] (into col's buffer), then col2im scatters it into dx.
// The data movement (im2col, col2im, the layout changes) is split over frames with parallel_for;
// the GEMMs are the engine's (threaded inside). The builtin GEMM splits only rows and columns,
// never K, and every other loop keeps a fixed order, so results do not depend on the thread count.
#include "evnn/conv2d.h"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "column_sums.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "window_geometry.h"

namespace evnn {
namespace conv2d {
namespace {

constexpr size_t kDefaultBlockFloats = size_t(1) << 22;  // 16 MiB of scratch per block
constexpr int kTransposeTile = 16;                       // channels per unit of the layout change

struct Geometry {
  int OH, OW;
  int u0, kh, v0, kw;  // the kernel rows [u0, u0 + kh) and columns [v0, v0 + kw) that ever meet the input
  int64_t P;       // patches per frame, OH·OW
  int64_t K;       // patch length, C·kh·kw
  int64_t plane;   // H·W
  int64_t frames;  // frames per block
};

// The kernel taps along one axis to keep, [*lo, *lo + *len): the smallest range holding every tap
// that meets a real input at some output. The others only ever see padding (a 3×3 kernel on a
// padded 1×1 map uses its centre alone), so they are left out of the patches and the GEMMs. The
// windows start at i·s − p (i < out) and reach input rows [0, in) with taps p − i·s ≤ u <
// p − i·s + in; a tap inside the range that meets no input (possible when s > in) reads zeros.
void TapRange(int in, int k, int s, int p, int out, int* lo, int* len) {
  const int64_t first = std::max<int64_t>(0, int64_t(p) - int64_t(out - 1) * s);
  const int64_t last = std::min<int64_t>(k - 1, int64_t(p) + in - 1);
  *lo = int(std::min<int64_t>(first, k));
  *len = int(std::max<int64_t>(0, last - first + 1));  // 0: every window is all padding
}

Geometry GeometryOf(const Dims& d, const Options& opt) {
  Geometry g;
  g.OH = OutSize(d.H, d.KH, d.SH, d.PH);
  g.OW = OutSize(d.W, d.KW, d.SW, d.PW);
  g.P = int64_t(g.OH) * g.OW;
  TapRange(d.H, d.KH, d.SH, d.PH, g.OH, &g.u0, &g.kh);
  TapRange(d.W, d.KW, d.SW, d.PW, g.OW, &g.v0, &g.kw);
  g.K = int64_t(d.C) * g.kh * g.kw;
  g.plane = int64_t(d.H) * d.W;
  if (g.K > INT_MAX) throw std::invalid_argument("evnn::conv2d: C·KH·KW = " + std::to_string(g.K) + " exceeds the GEMM's int range");
  if (g.P > INT_MAX) throw std::invalid_argument("evnn::conv2d: OH·OW = " + std::to_string(g.P) + " exceeds the GEMM's int range");
  const size_t budget = opt.block_floats ? opt.block_floats : kDefaultBlockFloats;
  const int64_t per_frame = g.P * (g.K + d.O);  // col + the [P, O] layout buffer
  g.frames = std::clamp<int64_t>(int64_t(budget) / per_frame, 1, d.N);
  g.frames = std::min<int64_t>(g.frames, INT_MAX / g.P);  // GEMM rows must fit an int
  return g;
}

// The valid kernel columns [v0, v1) of a window starting at column x0 of a row of width W.
inline void ValidSpan(int x0, int KW, int W, int* v0, int* v1) {
  *v0 = std::clamp(-x0, 0, KW);
  *v1 = std::clamp(W - x0, *v0, KW);
}

// col row r = (f − f0)·P + i·OW + j holds the window of output (i, j) of frame f over the kept
// taps, zero where it overhangs the padding; element k = (c·kh + u)·kw + v for tap (u0 + u, v0 + v).
void Im2Col(const Dims& d, const Geometry& g, const float* x, int64_t f0, int64_t f1, float* col) {
  const int64_t rows = (f1 - f0) * g.OH;  // (frame, output row) units
  parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.OW * g.K)), [&](int64_t r0, int64_t r1) {
    for (int64_t fr = r0; fr < r1; ++fr) {
      const int64_t f = f0 + fr / g.OH;
      const int i = int(fr % g.OH);
      const float* xf = x + f * d.C * g.plane;
      const int y0 = i * d.SH - d.PH + g.u0;  // input row of the first kept tap
      for (int j = 0; j < g.OW; ++j) {
        float* row = col + (fr * g.OW + j) * g.K;
        const int x0 = j * d.SW - d.PW + g.v0;
        int v0, v1;
        ValidSpan(x0, g.kw, d.W, &v0, &v1);
        for (int c = 0; c < d.C; ++c) {
          const float* xc = xf + c * g.plane;
          for (int u = 0; u < g.kh; ++u) {
            float* dst = row + (int64_t(c) * g.kh + u) * g.kw;
            const int iy = y0 + u;
            if (iy < 0 || iy >= d.H) {
              std::fill(dst, dst + g.kw, 0.0f);
              continue;
            }
            const float* src = xc + int64_t(iy) * d.W;  // the input row; column x0 + v
            // Plain loops, not std::fill/copy calls: kernel rows are short (3 to 11 floats here).
            if (v0 == 0 && v1 == g.kw) {
              for (int v = 0; v < g.kw; ++v) dst[v] = src[x0 + v];
              continue;
            }
            for (int v = 0; v < v0; ++v) dst[v] = 0.0f;
            for (int v = v0; v < v1; ++v) dst[v] = src[x0 + v];
            for (int v = v1; v < g.kw; ++v) dst[v] = 0.0f;
          }
        }
      }
    }
  });
}

// dx of frames [f0, f1) from dcol (Im2Col's layout): each input element receives the sum over
// the windows that cover it, in window order. A unit is one frame's range of channels: it reads
// each of its frame's dcol rows front to back and writes only its own channels' planes, so no two
// threads write alike; a frame is split into channel ranges only when there are too few frames
// to keep the threads busy. Every element's sum has the same order however the units fall.
void Col2Im(const Dims& d, const Geometry& g, const float* dcol, int64_t f0, int64_t f1, float* dx) {
  const int64_t frames = f1 - f0;
  const int64_t groups = std::min<int64_t>(d.C, (4 * num_threads() + frames - 1) / frames);
  const int64_t kk = int64_t(g.kh) * g.kw;
  parallel_for(0, frames * groups, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t unit = u0; unit < u1; ++unit) {
      const int64_t fl = unit / groups, grp = unit % groups;  // frame within the block, channel range
      const int c0 = int(d.C * grp / groups), c1 = int(d.C * (grp + 1) / groups);
      float* dxf = dx + (f0 + fl) * d.C * g.plane;
      std::fill(dxf + c0 * g.plane, dxf + c1 * g.plane, 0.0f);
      for (int i = 0; i < g.OH; ++i) {
        const int y0 = i * d.SH - d.PH + g.u0;
        for (int j = 0; j < g.OW; ++j) {
          const float* row = dcol + ((fl * g.OH + i) * g.OW + j) * g.K;
          const int x0 = j * d.SW - d.PW + g.v0;
          int v0, v1;
          ValidSpan(x0, g.kw, d.W, &v0, &v1);
          for (int c = c0; c < c1; ++c) {
            float* dxc = dxf + c * g.plane;
            const float* rc = row + c * kk;
            for (int u = 0; u < g.kh; ++u) {
              const int iy = y0 + u;
              if (iy < 0 || iy >= d.H) continue;
              float* dst = dxc + int64_t(iy) * d.W;  // the input row; column x0 + v
              const float* src = rc + u * g.kw;
              for (int v = v0; v < v1; ++v) dst[x0 + v] += src[v];
            }
          }
        }
      }
    }
  });
}

bool Trimmed(const Dims& d, const Geometry& g) { return g.kh != d.KH || g.kw != d.KW; }

// The weight over the kept taps, [O, C, kh, kw] (w itself when every tap is kept).
const float* KeptWeight(Workspace& ws, const Dims& d, const Geometry& g, const float* w) {
  if (!Trimmed(d, g)) return w;
  float* out = ws.Floats(size_t(d.O) * g.K);
  for (int64_t oc = 0; oc < int64_t(d.O) * d.C; ++oc) {
    for (int u = 0; u < g.kh; ++u) {
      const float* src = w + (oc * d.KH + g.u0 + u) * d.KW + g.v0;
      std::copy(src, src + g.kw, out + (oc * g.kh + u) * g.kw);
    }
  }
  return out;
}

// dw += the gradient over the kept taps (the others have none: they only ever met padding).
void AddKeptGrad(const Dims& d, const Geometry& g, const float* dk, float* dw) {
  for (int64_t oc = 0; oc < int64_t(d.O) * d.C; ++oc) {
    for (int u = 0; u < g.kh; ++u) {
      float* dst = dw + (oc * d.KH + g.u0 + u) * d.KW + g.v0;
      const float* src = dk + (oc * g.kh + u) * g.kw;
      for (int v = 0; v < g.kw; ++v) dst[v] += src[v];
    }
  }
}

// Units of (frame, tile of kTransposeTile channels) for the [P, O] ⇄ [O, P] layout changes.
template <typename Fn>
void ForFrameTiles(int64_t frames, int O, int64_t P, const Fn& fn) {
  const int64_t tiles = (O + kTransposeTile - 1) / kTransposeTile;
  parallel_for(0, frames * tiles, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, P * kTransposeTile)),
               [&](int64_t a, int64_t b) {
                 for (int64_t unit = a; unit < b; ++unit) {
                   const int o0 = int(unit % tiles) * kTransposeTile;
                   fn(unit / tiles, o0, std::min(O, o0 + kTransposeTile));
                 }
               });
}

}  // namespace

int OutSize(int in, int k, int stride, int pad) { return window::OutSize(in, k, stride, pad); }

void Validate(const Dims& d) {
  window::RequireGeometry("conv2d", d.N, d.C, d.H, d.W, d.KH, d.KW, d.SH, d.SW, d.PH, d.PW);
  window::RequireInt("conv2d", d.O, 1, "O");
  if (OutSize(d.H, d.KH, d.SH, d.PH) < 1 || OutSize(d.W, d.KW, d.SW, d.PW) < 1) {
    throw std::invalid_argument("evnn::conv2d: the kernel " + std::to_string(d.KH) + "×" + std::to_string(d.KW) +
                                " is larger than the padded input " + std::to_string(d.H + 2 * d.PH) + "×" +
                                std::to_string(d.W + 2 * d.PW));
  }
}

void Forward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* b, float* y,
             const Options& opt) {
  Validate(d);
  const Geometry g = GeometryOf(d, opt);
  Workspace::Scope scope(*ctx.workspace);
  float* col = ctx.workspace->Floats(size_t(g.frames * g.P * g.K));
  float* t = ctx.workspace->Floats(size_t(g.frames * g.P * d.O));
  const float* wk = KeptWeight(*ctx.workspace, d, g, w);
  const int ldk = int(std::max<int64_t>(g.K, 1));
  for (int64_t f0 = 0; f0 < d.N; f0 += g.frames) {
    const int64_t f1 = std::min<int64_t>(d.N, f0 + g.frames);
    Im2Col(d, g, x, f0, f1, col);
    gemm(Trans::No, Trans::Yes, int((f1 - f0) * g.P), d.O, int(g.K), 1.0f, col, ldk, wk, ldk, 0.0f, t, d.O);
    ForFrameTiles(f1 - f0, d.O, g.P, [&](int64_t fl, int o0, int o1) {
      const float* tf = t + fl * g.P * d.O;
      float* yf = y + (f0 + fl) * d.O * g.P;
      for (int o = o0; o < o1; ++o) {
        const float bias = b ? b[o] : 0.0f;
        float* yo = yf + int64_t(o) * g.P;
        if (opt.relu) {
          for (int64_t p = 0; p < g.P; ++p) {
            const float v = tf[p * d.O + o] + bias;
            yo[p] = v < 0.0f ? 0.0f : v;
          }
        } else {
          for (int64_t p = 0; p < g.P; ++p) yo[p] = tf[p * d.O + o] + bias;
        }
      }
    });
  }
}

void Backward(const Context& ctx, const Dims& d, const float* x, const float* w, const float* y, const float* dy,
              float* dx, float* dw, float* db, const Options& opt) {
  Validate(d);
  if (!dw) throw std::invalid_argument("evnn::conv2d::Backward: dw is null");
  if (opt.relu && !y) throw std::invalid_argument("evnn::conv2d::Backward: the fused ReLU needs the forward's output y");
  const Geometry g = GeometryOf(d, opt);
  Workspace::Scope scope(*ctx.workspace);
  float* col = ctx.workspace->Floats(size_t(g.frames * g.P * g.K));
  float* gt = ctx.workspace->Floats(size_t(g.frames * g.P * d.O));
  const float* wk = KeptWeight(*ctx.workspace, d, g, w);
  float* dwk = Trimmed(d, g) ? ctx.workspace->Zeros(size_t(d.O) * g.K) : dw;
  const int ldk = int(std::max<int64_t>(g.K, 1));
  // db's running sum in float64 across blocks (a double per two floats of scratch).
  double* bias_sum = db ? reinterpret_cast<double*>(ctx.workspace->Zeros(size_t(2 * d.O))) : nullptr;
  for (int64_t f0 = 0; f0 < d.N; f0 += g.frames) {
    const int64_t f1 = std::min<int64_t>(d.N, f0 + g.frames);
    const int rows = int((f1 - f0) * g.P);
    ForFrameTiles(f1 - f0, d.O, g.P, [&](int64_t fl, int o0, int o1) {
      const float* dyf = dy + (f0 + fl) * d.O * g.P;
      float* gf = gt + fl * g.P * d.O;
      if (opt.relu) {  // through the ReLU: dy where y > 0
        const float* yf = y + (f0 + fl) * d.O * g.P;
        for (int64_t p = 0; p < g.P; ++p) {
          for (int o = o0; o < o1; ++o) {
            const int64_t k = int64_t(o) * g.P + p;
            gf[p * d.O + o] = yf[k] > 0.0f ? dyf[k] : 0.0f;
          }
        }
      } else {
        for (int64_t p = 0; p < g.P; ++p) {
          for (int o = o0; o < o1; ++o) gf[p * d.O + o] = dyf[int64_t(o) * g.P + p];
        }
      }
    });
    if (bias_sum) add_column_sums(gt, rows, d.O, 0, d.O, bias_sum);
    Im2Col(d, g, x, f0, f1, col);
    gemm(Trans::Yes, Trans::No, d.O, int(g.K), rows, 1.0f, gt, d.O, col, ldk, 1.0f, dwk, ldk);
    if (dx) {
      gemm(Trans::No, Trans::No, rows, int(g.K), d.O, 1.0f, gt, d.O, wk, ldk, 0.0f, col, ldk);
      Col2Im(d, g, col, f0, f1, dx);
    }
  }
  if (dwk != dw) AddKeptGrad(d, g, dwk, dw);
  if (bias_sum) {
    for (int o = 0; o < d.O; ++o) db[o] += float(bias_sum[o]);
  }
}

}  // namespace conv2d
}  // namespace evnn
