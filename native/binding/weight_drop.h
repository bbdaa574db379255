// AWD's WeightDrop for the PyTorch-style layers (GRU, LSTM) in EvNN's language-model baselines:
// whole rows of weight_hh dropped with probability p in training, one row mask per forward, the
// kept rows scaled by 1/(1 − p). The forward op keeps the row mask and the matrix as used in its
// saved handle; the backward runs on that matrix and maps its gradient back through the mask.
#pragma once
#include <algorithm>
#include <string>

#include "evnn/masks.h"
#include "op.h"

namespace evnn {
namespace binding {

// CheckFn part: noise is needed to draw the mask; sets the flag the outputs read.
inline void CheckWeightDrop(const Ctx& c, OpCall& a) {
  const bool drop = a.flag("training") && a.num("dropconnect") > 0;
  if (drop && !a.noise()) ThrowType(c, "noise is required when training with dropconnect > 0");
  a.set("useWeightDrop", drop);
}

// Execute part of the forward: draws the row mask and builds the matrix as used; returns the
// weight_hh the kernel must use.
inline const float* PrepareWeightDrop(const Context& ctx, OpCall& a, size_t rows) {
  uint8_t* keep = a.u8("hhKeep");
  if (!keep) return a.f32("weightHh");
  const float p = float(a.num("dropconnect"));
  masks::Bernoulli(ctx, a.noise()->For(masks::Purpose::kDropConnect), p, rows, keep);
  masks::ApplyRowKeep(ctx, a.f32("weightHh"), keep, p, rows, size_t(a.dim("H")), a.f32("hhUsed"));
  return a.f32("hhUsed");
}

// The weight_hh the backward uses (the matrix as used in the forward), and where it adds dW_hh:
// straight into the gradient, or into zeroed scratch that FinishWeightDrop maps back.
struct WeightDropBackward {
  const float* weight_hh;
  float* dweight_hh;
};

inline WeightDropBackward BeginWeightDrop(const Context& ctx, OpCall& a, size_t rows) {
  if (!a.has("hhKeep")) return {a.f32("weightHh"), a.f32("dWeightHh")};
  return {a.f32("hhUsed"), ctx.workspace->Zeros(rows * size_t(a.dim("H")))};
}

inline void FinishWeightDrop(const Context& ctx, OpCall& a, const WeightDropBackward& w, size_t rows) {
  if (!a.has("hhKeep")) return;
  masks::AddRowKept(ctx, w.dweight_hh, a.u8("hhKeep"), float(a.num("dropconnect")), rows, size_t(a.dim("H")), a.f32("dWeightHh"));
}

}  // namespace binding
}  // namespace evnn
