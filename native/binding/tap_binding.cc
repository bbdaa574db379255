// Element-wise operations the models compose around the layers: tap regularisers (their
// gradients added into a buffer), inter-layer dropout with Philox masks, and drawing a keep-mask
// (so tests can check that masks do not depend on the thread count).
#include <algorithm>

#include "evnn/masks.h"
#include "evnn/regularizers.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

// {x [n], grad [n] (+=), constant, target} → {stats: {value}}
const OpSpec kMeanTarget{
    "regularizeMeanTarget", {"n"}, {}, {{"constant", ScalarKind::kNonNegative}},
    {{"x", DType::kF32, "n"}, {"grad", DType::kF32, "n"}}, {},
};
const OpSpec kMeanSquare{
    "regularizeMeanSquare", {"n"}, {}, {{"constant", ScalarKind::kNonNegative}},
    {{"x", DType::kF32, "n"}, {"grad", DType::kF32, "n"}}, {},
};

void CheckTarget(const Ctx& c, const Napi::Object& args, OpCall& a) { a.set("target", Finite(c, Field(c, args, "target"), "target")); }

void MeanTarget(const Context& ctx, OpCall& a) {
  a.stat("value", regularizers::MeanTarget(ctx, a.f32("x"), size_t(a.dim("n")), a.num("constant"), a.num("target"), a.f32("grad")));
}
void MeanSquare(const Context& ctx, OpCall& a) {
  a.stat("value", regularizers::MeanSquare(ctx, a.f32("x"), size_t(a.dim("n")), a.num("constant"), a.num("target"), a.f32("grad")));
}

// Inverted dropout: {x [n], p, noise, training} → {y, saved (the keep-mask)}.
const OpSpec kDropoutForward{
    "dropoutForward", {"n"}, {}, {{"p", ScalarKind::kUnit}, {"training", ScalarKind::kBool}},
    {{"x", DType::kF32, "n"}}, {{"y", DType::kF32, "n"}, {"keep", DType::kU8, "n", nullptr, true}}, {}, nullptr, true,
};
const OpSpec kDropoutBackward{
    "dropoutBackward", {"n"}, {}, {}, {{"dy", DType::kF32, "n"}}, {{"dx", DType::kF32, "n"}}, {}, "dropoutForward",
};

void CheckDropout(const Ctx& c, const Napi::Object&, OpCall& a) {
  if (a.flag("training") && a.num("p") > 0 && !a.noise()) ThrowType(c, "noise is required when training with p > 0");
}

void DropoutForward(const Context& ctx, OpCall& a) {
  const size_t n = size_t(a.dim("n"));
  const float p = float(a.num("p"));
  if (!a.flag("training") || p == 0.0f) {
    std::copy(a.f32("x"), a.f32("x") + n, a.f32("y"));
    if (uint8_t* keep = a.u8("keep")) std::fill(keep, keep + n, uint8_t(1));
    return;
  }
  masks::Bernoulli(ctx, a.noise()->For(masks::Purpose::kDropout), p, n, a.u8("keep"));
  masks::ApplyKeep(ctx, a.f32("x"), a.u8("keep"), p, n, a.f32("y"));
}
void DropoutBackward(const Context& ctx, OpCall& a) {
  masks::ApplyKeep(ctx, a.f32("dy"), a.u8("keep"), float(a.num("p")), size_t(a.dim("n")), a.f32("dx"));
}

// {n, p, noise, purpose: 1 zoneout | 2 dropconnect | 3 dropout | 4 word dropout} → {keep}
const OpSpec kKeepMask{
    "keepMask", {"n", "purpose"}, {}, {{"p", ScalarKind::kUnit}}, {}, {{"keep", DType::kU8, "n"}}, {}, nullptr, true,
};
void CheckKeepMask(const Ctx& c, const Napi::Object&, OpCall& a) {
  if (a.dim("purpose") > 4) ThrowRange(c, "purpose must be 1 (zoneout), 2 (dropconnect), 3 (dropout) or 4 (word dropout)");
  if (!a.noise()) ThrowType(c, "noise must be {seed, epoch, batch, layer}");
}
void KeepMask(const Context& ctx, OpCall& a) {
  const masks::Purpose p = masks::Purpose(uint32_t(a.dim("purpose")));
  masks::Bernoulli(ctx, a.noise()->For(p), float(a.num("p")), size_t(a.dim("n")), a.u8("keep"));
}

}  // namespace

void RegisterTaps(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kMeanTarget, CheckTarget, MeanTarget);
  ExportOp(env, exports, kMeanSquare, CheckTarget, MeanSquare);
  ExportOp(env, exports, kDropoutForward, CheckDropout, DropoutForward);
  ExportOp(env, exports, kDropoutBackward, nullptr, DropoutBackward);
  ExportOp(env, exports, kKeepMask, CheckKeepMask, KeepMask);
}

}  // namespace binding
}  // namespace evnn
