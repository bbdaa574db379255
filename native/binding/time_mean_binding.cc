// timeMeanForward / timeMeanBackward (+Async): evnn::time_mean (native/include/evnn/time_mean.h) as op tables.
#include "evnn/time_mean.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{
    "timeMeanForward", {"T", "N", "H"}, {}, {}, {{"x", DType::kF32, "T*N*H"}}, {{"y", DType::kF32, "N*H"}},
};

// dx is given and added into (+=), as every backward's gradient buffers.
const OpSpec kBackward{
    "timeMeanBackward", {"T", "N", "H"}, {}, {}, {{"dy", DType::kF32, "N*H"}, {"dx", DType::kF32, "T*N*H"}}, {},
};

time_mean::Dims DimsOf(const OpCall& a) { return time_mean::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("H"))}; }

void Forward(const Context& ctx, OpCall& a) { time_mean::Forward(ctx, DimsOf(a), a.f32("x"), a.f32("y")); }
void Backward(const Context& ctx, OpCall& a) { time_mean::Backward(ctx, DimsOf(a), a.f32("dy"), a.f32("dx")); }

}  // namespace

void RegisterTimeMean(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, nullptr, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
