// linearForward / linearBackward (+Async): evnn::linear (native/include/evnn/linear.h) as op tables.
#include "evnn/linear.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{
    "linearForward",
    {"M", "I", "O"},
    {},
    {},
    {{"x", DType::kF32, "M*I"}, {"weight", DType::kF32, "O*I"}, {"bias", DType::kF32, "O", true}},
    {{"y", DType::kF32, "M*O"}},
};

const OpSpec kBackward{
    "linearBackward",
    {"M", "I", "O"},
    {},
    {{"needDx", ScalarKind::kBool}},
    {{"x", DType::kF32, "M*I"}, {"weight", DType::kF32, "O*I"}, {"dy", DType::kF32, "M*O"},
     {"dWeight", DType::kF32, "O*I"}, {"dBias", DType::kF32, "O", true}},
    {{"dx", DType::kF32, "M*I", "needDx"}},
};

linear::Dims DimsOf(const OpCall& a) { return linear::Dims{int(a.dim("M")), int(a.dim("I")), int(a.dim("O"))}; }

void Forward(const Context& ctx, OpCall& a) {
  linear::Forward(ctx, DimsOf(a), a.f32("x"), a.f32("weight"), a.f32("bias"), a.f32("y"));
}

void Backward(const Context& ctx, OpCall& a) {
  linear::Backward(ctx, DimsOf(a), a.f32("x"), a.f32("weight"), a.f32("dy"), a.f32("dx"), a.f32("dWeight"), a.f32("dBias"));
}

}  // namespace

void RegisterLinear(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, nullptr, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
