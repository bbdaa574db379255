// reluForward / reluBackward (+Async): evnn::relu (native/include/evnn/relu.h) as op tables.
// Nothing is kept between the calls: the backward takes the forward's output y again.
#include "evnn/relu.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{"reluForward", {"n"}, {}, {}, {{"x", DType::kF32, "n"}}, {{"y", DType::kF32, "n"}}, {}};

const OpSpec kBackward{
    "reluBackward", {"n"}, {}, {}, {{"y", DType::kF32, "n"}, {"dy", DType::kF32, "n"}}, {{"dx", DType::kF32, "n"}}, {},
};

void Forward(const Context& ctx, OpCall& a) { relu::Forward(ctx, size_t(a.dim("n")), a.f32("x"), a.f32("y")); }

void Backward(const Context& ctx, OpCall& a) {
  relu::Backward(ctx, size_t(a.dim("n")), a.f32("y"), a.f32("dy"), a.f32("dx"));
}

}  // namespace

void RegisterRelu(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, nullptr, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
