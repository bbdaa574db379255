// The spike-count regulariser on the CPU (lif_regularizer.h): per batch row (threads over rows)
// the spike counts per unit, the two hinges and their gradient row; the loss is summed in row
// order in double, so it does not depend on the thread count.
#include "evnn/lif_regularizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "evnn/parallel.h"
#include "recurrent_common.h"

namespace evnn {
namespace lif_regularizer {

double SpikeCount(const Context& ctx, int B, int T, int H, const float* spk, const Params& p, float* dspk_row) {
  if (B < 0 || T < 0 || H < 0) throw std::invalid_argument("evnn::lif_regularizer::SpikeCount: dims must be >= 0");
  if (!spk && size_t(B) * T * H > 0) throw std::invalid_argument("evnn::lif_regularizer::SpikeCount: spk is null");
  if (B == 0 || H == 0) return 0.0;
  Workspace& ws = recurrent::workspace_of(ctx, "lif_regularizer");
  Workspace::Scope scope(ws);
  double* per_row = reinterpret_cast<double*>(ws.Floats(size_t(B) * 2));
  float* counts_all = ws.Floats(size_t(B) * H);
  const double invB = 1.0 / B, invH = 1.0 / H;
  parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* n = counts_all + size_t(b) * H;
      std::fill(n, n + H, 0.0f);
      for (int t = 0; t < T; ++t) {
        const float* st = spk + (size_t(b) * T + t) * H;
        for (int j = 0; j < H; ++j) n[j] += st[j];
      }
      double total = 0;
      for (int j = 0; j < H; ++j) total += n[j];
      const double u = total * invH - p.f_up;
      double L = 0, g_up = 0;  // g_up: dL_b/dspk of the upper hinge, the same for every (t, j)
      if (u > 0) {
        L += p.lambda_up * std::pow(u, p.p_up);
        g_up = p.lambda_up * p.p_up * std::pow(u, p.p_up - 1.0) * invH;
      }
      for (int j = 0; j < H; ++j) {
        const double v = p.f_low - double(n[j]);
        double g = g_up;
        if (v > 0) {
          L += p.lambda_low * invH * v * v;
          g -= 2.0 * p.lambda_low * invH * v;
        }
        if (dspk_row) dspk_row[size_t(b) * H + j] = float(g * invB);
      }
      per_row[b] = L;
    }
  });
  double L = 0;
  for (int b = 0; b < B; ++b) L += per_row[b];
  return L * invB;
}

}  // namespace lif_regularizer
}  // namespace evnn
