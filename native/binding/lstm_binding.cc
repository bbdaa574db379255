// lstmForward / lstmBackward (+Async): evnn::lstm (native/include/evnn/lstm.h) as op tables.
#include "evnn/lstm.h"
#include "op.h"
#include "register.h"
#include "weight_drop.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{
    "lstmForward",
    {"T", "N", "C", "H"},
    {"T*N", "4*H"},
    {{"training", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}, {"dropconnect", ScalarKind::kUnit, true, 0.0}},
    {{"x", DType::kF32, "T*N*C"}, {"h0", DType::kF32, "N*H", true}, {"c0", DType::kF32, "N*H", true},
     {"weightIh", DType::kF32, "4*H*C"}, {"weightHh", DType::kF32, "4*H*H"},
     {"biasIh", DType::kF32, "4*H"}, {"biasHh", DType::kF32, "4*H"}},
    {{"y", DType::kF32, "T*N*H"}, {"cN", DType::kF32, "N*H"}, {"cache", DType::kF32, "T*N*5*H", nullptr, true},
     {"hhKeep", DType::kU8, "4*H", "useWeightDrop", true}, {"hhUsed", DType::kF32, "4*H*H", "useWeightDrop", true}},
    {"x", "h0", "c0", "y"},
    nullptr,
    true,
    true,
};

const OpSpec kBackward{
    "lstmBackward",
    {"T", "N", "C", "H"},
    {"T*N", "4*H"},
    {{"needDx", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}},
    {{"dy", DType::kF32, "T*N*H", true}, {"dhN", DType::kF32, "N*H", true}, {"dcN", DType::kF32, "N*H", true},
     {"weightIh", DType::kF32, "4*H*C"}, {"weightHh", DType::kF32, "4*H*H"},
     {"biasIh", DType::kF32, "4*H"}, {"biasHh", DType::kF32, "4*H"},
     {"dWeightIh", DType::kF32, "4*H*C"}, {"dWeightHh", DType::kF32, "4*H*H"},
     {"dBiasIh", DType::kF32, "4*H"}, {"dBiasHh", DType::kF32, "4*H"}},
    {{"dx", DType::kF32, "T*N*C", "needDx"}, {"dh0", DType::kF32, "N*H"}, {"dc0", DType::kF32, "N*H"}},
    {},
    "lstmForward",
};

lstm::Dims DimsOf(const OpCall& a) { return lstm::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))}; }
lstm::Weights WeightsOf(const OpCall& a) { return lstm::Weights{a.f32("weightIh"), a.f32("weightHh"), a.f32("biasIh"), a.f32("biasHh")}; }
lstm::Options OptionsOf(const OpCall& a) {
  lstm::Options o;
  o.chunk_floats = size_t(a.num("chunkFloats"));
  return o;
}

void CheckForward(const Ctx& c, const Napi::Object&, OpCall& a) { CheckWeightDrop(c, a); }

void Forward(const Context& ctx, OpCall& a) {
  lstm::Weights w = WeightsOf(a);
  w.w_hh = PrepareWeightDrop(ctx, a, size_t(4 * a.dim("H")));
  lstm::Forward(ctx, DimsOf(a), w, OptionsOf(a), a.f32("x"), a.f32("h0"), a.f32("c0"), a.f32("y"), a.f32("cN"),
                a.f32("cache"));
}

void Backward(const Context& ctx, OpCall& a) {
  const size_t rows = size_t(4 * a.dim("H"));
  Workspace::Scope scope(*ctx.workspace);
  const WeightDropBackward wd = BeginWeightDrop(ctx, a, rows);
  lstm::Weights w = WeightsOf(a);
  w.w_hh = wd.weight_hh;
  const lstm::Grads g{a.f32("dWeightIh"), wd.dweight_hh, a.f32("dBiasIh"), a.f32("dBiasHh")};
  lstm::Backward(ctx, DimsOf(a), w, OptionsOf(a), a.f32("x"), a.f32("h0"), a.f32("c0"), a.f32("y"),
                 a.f32("cache"), a.f32("dy"), a.f32("dhN"), a.f32("dcN"), a.f32("dx"), a.f32("dh0"), a.f32("dc0"), g);
  FinishWeightDrop(ctx, a, wd, rows);
}

}  // namespace

void RegisterLstm(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, CheckForward, Forward);
  ExportOp(env, exports, kBackward, nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
