// Token embedding (PyTorch nn.Embedding layout: weight [V, D]) with EvNN's word dropout
// (embedded_dropout: whole vocabulary rows dropped with probability p, the kept ones scaled by
// 1/(1 − p), one row mask per forward).
//   out[i] = weight[ids[i]] · s[ids[i]],  s = keep / (1 − p)  (s = 1 without word dropout)
// Backward adds dweight[ids[i]] += dout[i] · s[ids[i]] (+=: the weight may be tied to a decoder).
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"

namespace evnn {
namespace embedding {

struct Dims {
  int64_t n;  // tokens
  int V;      // vocabulary rows
  int D;      // embedding width
};

// ids [n] must lie in [0, V) (checked: std::out_of_range naming the position). keep [V] (0/1
// bytes) and p: word dropout, or keep null.
void Forward(const Context& ctx, const Dims& d, const float* weight, const int32_t* ids, const uint8_t* keep, float p,
             float* out);

void Backward(const Context& ctx, const Dims& d, const int32_t* ids, const uint8_t* keep, float p, const float* dout,
              float* dweight);

}  // namespace embedding
}  // namespace evnn
