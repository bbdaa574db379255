// embeddingForward / embeddingBackward (+Async): evnn::embedding (native/include/evnn/embedding.h)
// as op tables. Word dropout's row mask is drawn in the engine (Philox, purpose 4) unless the
// caller gives one, and stays in the saved handle for backward.
#include <algorithm>
#include <string>

#include "evnn/embedding.h"
#include "evnn/masks.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{
    "embeddingForward",
    {"n", "V", "D"},
    {},
    {{"training", ScalarKind::kBool}, {"p", ScalarKind::kUnit}},
    {{"ids", DType::kI32, "n"}, {"weight", DType::kF32, "V*D"}, {"rowMask", DType::kU8, "V", true}},
    {{"y", DType::kF32, "n*D"}, {"rowKeep", DType::kU8, "V", "useWordDropout", true}},
    {"ids"},
    nullptr,
    true,
};

const OpSpec kBackward{
    "embeddingBackward",
    {"n", "V", "D"},
    {},
    {},
    {{"dy", DType::kF32, "n*D"}, {"dWeight", DType::kF32, "V*D"}},
    {},
    {},
    "embeddingForward",
};

void CheckForward(const Ctx& c, const Napi::Object&, OpCall& a) {
  const bool drop = a.flag("training") && a.num("p") > 0;
  if (drop && !a.has("rowMask") && !a.noise()) ThrowType(c, "rowMask or noise is required when training with p > 0");
  if (drop && a.has("rowMask")) {
    const uint8_t* m = a.u8("rowMask");
    for (int64_t i = 0; i < a.dim("V"); ++i) {
      if (m[i] > 1) ThrowRange(c, "rowMask must hold only 0 and 1, got " + std::to_string(m[i]) + " at index " + std::to_string(i));
    }
  }
  const int32_t* ids = a.i32("ids");
  for (int64_t i = 0; i < a.dim("n"); ++i) {
    if (ids[i] < 0 || ids[i] >= a.dim("V")) {
      ThrowRange(c, "ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is outside [0, V) = [0, " + std::to_string(a.dim("V")) + ")");
    }
  }
  a.set("useWordDropout", drop);
}

embedding::Dims DimsOf(const OpCall& a) { return embedding::Dims{a.dim("n"), int(a.dim("V")), int(a.dim("D"))}; }

void Forward(const Context& ctx, OpCall& a) {
  uint8_t* keep = a.u8("rowKeep");
  const float p = float(a.num("p"));
  if (keep) {
    if (a.has("rowMask")) std::copy(a.u8("rowMask"), a.u8("rowMask") + a.dim("V"), keep);
    else masks::Bernoulli(ctx, a.noise()->For(masks::Purpose::kWordDropout), p, size_t(a.dim("V")), keep);
  }
  embedding::Forward(ctx, DimsOf(a), a.f32("weight"), a.i32("ids"), keep, p, a.f32("y"));
}

void Backward(const Context& ctx, OpCall& a) {
  embedding::Backward(ctx, DimsOf(a), a.i32("ids"), a.u8("rowKeep"), float(a.num("p")), a.f32("dy"), a.f32("dWeight"));
}

}  // namespace

void RegisterEmbedding(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, CheckForward, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
