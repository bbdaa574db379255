// gruForward / gruBackward (+Async): evnn::gru (native/include/evnn/gru.h), described as op tables.
#include "evnn/gru.h"
#include "op.h"
#include "register.h"
#include "weight_drop.h"

namespace evnn {
namespace binding {
namespace {

const std::vector<TensorSpec> kWeights = {
    {"weightIh", DType::kF32, "3*H*C"},
    {"weightHh", DType::kF32, "3*H*H"},
    {"biasIh", DType::kF32, "3*H"},
    {"biasHh", DType::kF32, "3*H"},
};

template <typename T>
std::vector<T> Join(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const OpSpec kForward{
    "gruForward",
    {"T", "N", "C", "H"},
    {"T*N", "3*H"},
    {{"training", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}, {"dropconnect", ScalarKind::kUnit, true, 0.0}},
    Join<TensorSpec>({{"x", DType::kF32, "T*N*C"}, {"h0", DType::kF32, "N*H", true}}, kWeights),
    {{"y", DType::kF32, "T*N*H"}, {"cache", DType::kF32, "T*N*4*H", "training", true},
     {"hhKeep", DType::kU8, "3*H", "useWeightDrop", true}, {"hhUsed", DType::kF32, "3*H*H", "useWeightDrop", true}},
    {"x", "h0", "y"},
    nullptr,
    true,
    true,
};

const OpSpec kBackward{
    "gruBackward",
    {"T", "N", "C", "H"},
    {"T*N", "3*H"},
    {{"needDx", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}},
    Join<TensorSpec>(Join<TensorSpec>({{"dy", DType::kF32, "T*N*H", true}, {"dhT", DType::kF32, "N*H", true}}, kWeights),
                     {{"dWeightIh", DType::kF32, "3*H*C"}, {"dWeightHh", DType::kF32, "3*H*H"},
                      {"dBiasIh", DType::kF32, "3*H"}, {"dBiasHh", DType::kF32, "3*H"}}),
    {{"dx", DType::kF32, "T*N*C", "needDx"}, {"dh0", DType::kF32, "N*H"}},
    {},
    "gruForward",
};

gru::Dims DimsOf(const OpCall& a) { return gru::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))}; }
gru::Weights WeightsOf(const OpCall& a) { return gru::Weights{a.f32("weightIh"), a.f32("weightHh"), a.f32("biasIh"), a.f32("biasHh")}; }
gru::Options OptionsOf(const OpCall& a) { return gru::Options{size_t(a.num("chunkFloats"))}; }

void CheckForward(const Ctx& c, const Napi::Object&, OpCall& a) { CheckWeightDrop(c, a); }

void Forward(const Context& ctx, OpCall& a) {
  gru::Weights w = WeightsOf(a);
  w.w_hh = PrepareWeightDrop(ctx, a, size_t(3 * a.dim("H")));
  gru::Forward(ctx, DimsOf(a), w, OptionsOf(a), a.f32("x"), a.f32("h0"), a.f32("y"), a.f32("cache"));
}

void Backward(const Context& ctx, OpCall& a) {
  const size_t rows = size_t(3 * a.dim("H"));
  Workspace::Scope scope(*ctx.workspace);
  const WeightDropBackward wd = BeginWeightDrop(ctx, a, rows);
  gru::Weights w = WeightsOf(a);
  w.w_hh = wd.weight_hh;
  const gru::Grads g{a.f32("dWeightIh"), wd.dweight_hh, a.f32("dBiasIh"), a.f32("dBiasHh")};
  gru::Backward(ctx, DimsOf(a), w, OptionsOf(a), a.f32("x"), a.f32("h0"), a.f32("y"), a.f32("cache"),
                a.f32("dy"), a.f32("dhT"), a.f32("dx"), a.f32("dh0"), g);
  FinishWeightDrop(ctx, a, wd, rows);
}

}  // namespace

void RegisterGru(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, CheckForward, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
