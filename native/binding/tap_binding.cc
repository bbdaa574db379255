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

// Inverted dropout of a [T, N, H] sequence: {x, T, N, H, p, share, noise, training} → {y, saved}.
// share 0: a mask element per (t, n, h); 1: one per (t, h), shared across the batch (EvNN's
// VariationalDropout on batch-first input); 2: one per (n, h), shared across time (AWD's locked
// dropout). The saved handle keeps the expanded [T, N, H] keep-mask.
const OpSpec kDropoutForward{
    "dropoutForward", {"T", "N", "H"}, {}, {{"p", ScalarKind::kUnit}, {"share", ScalarKind::kCount}, {"training", ScalarKind::kBool}},
    {{"x", DType::kF32, "T*N*H"}}, {{"y", DType::kF32, "T*N*H"}, {"keep", DType::kU8, "T*N*H", nullptr, true}}, {}, nullptr, true,
};
const OpSpec kDropoutBackward{
    "dropoutBackward", {"T", "N", "H"}, {}, {}, {{"dy", DType::kF32, "T*N*H"}}, {{"dx", DType::kF32, "T*N*H"}}, {}, "dropoutForward",
};

void CheckDropout(const Ctx& c, const Napi::Object&, OpCall& a) {
  if (a.num("share") > 2) ThrowRange(c, "share must be 0 (none), 1 (across the batch) or 2 (across time)");
  if (a.flag("training") && a.num("p") > 0 && !a.noise()) ThrowType(c, "noise is required when training with p > 0");
}

void DropoutForward(const Context& ctx, OpCall& a) {
  const size_t T = size_t(a.dim("T")), N = size_t(a.dim("N")), H = size_t(a.dim("H")), n = T * N * H;
  const float p = float(a.num("p"));
  uint8_t* keep = a.u8("keep");
  if (!a.flag("training") || p == 0.0f) {
    std::copy(a.f32("x"), a.f32("x") + n, a.f32("y"));
    if (keep) std::fill(keep, keep + n, uint8_t(1));
    return;
  }
  const masks::Key key = a.noise()->For(masks::Purpose::kDropout);
  const int share = int(a.num("share"));
  if (share == 0) {
    masks::Bernoulli(ctx, key, p, n, keep);
  } else {
    // Draw the reduced mask, then lay it out over [T, N, H].
    Workspace::Scope scope(*ctx.workspace);
    const size_t m = share == 1 ? T * H : N * H;
    uint8_t* small = reinterpret_cast<uint8_t*>(ctx.workspace->Floats((m + 3) / 4));
    masks::Bernoulli(ctx, key, p, m, small);
    for (size_t t = 0; t < T; ++t) {
      for (size_t b = 0; b < N; ++b) {
        const uint8_t* src = share == 1 ? small + t * H : small + b * H;
        std::copy(src, src + H, keep + (t * N + b) * H);
      }
    }
  }
  masks::ApplyKeep(ctx, a.f32("x"), keep, p, n, a.f32("y"));
}
void DropoutBackward(const Context& ctx, OpCall& a) {
  masks::ApplyKeep(ctx, a.f32("dy"), a.u8("keep"), float(a.num("p")), size_t(a.dim("T") * a.dim("N") * a.dim("H")), a.f32("dx"));
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
