// deltaLstmForward / deltaLstmBackward (+Async): evnn::delta_lstm (native/include/evnn/delta_lstm.h)
// as op tables. The checks, options, cache ladder and stats are the DeltaGRU binding's (register.h,
// namespace delta). No h0/c0 (the layer starts at zero, as the reference): the backward returns
// neither dh0 nor dc0; dhN is added into a copy of dy's last step, dcN goes to the kernel.
#include "evnn/delta_lstm.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

template <typename T>
std::vector<T> Join(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<TensorSpec> kWeights = {
    {"weightIh", DType::kF32, "4*H*C"},
    {"weightHh", DType::kF32, "4*H*H"},
    {"biasIh", DType::kF32, "4*H"},
    {"biasHh", DType::kF32, "4*H"},
};

const OpSpec& ForwardSpec() {
  static const OpSpec s{
      "deltaLstmForward",
      {"T", "N", "C", "H"},
      {"T*N", "4*H"},
      Join<ScalarSpec>({{"training", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount},
                        {"thetaX", ScalarKind::kNonNegative}, {"thetaH", ScalarKind::kNonNegative}},
                       delta::QuantScalars()),
      Join<TensorSpec>({{"x", DType::kF32, "T*N*C"}}, kWeights),
      Join<OutputSpec>({{"y", DType::kF32, "T*N*H"}, {"cN", DType::kF32, "N*H"}}, delta::CacheRungs()),
      {"x", "y"},
  };
  return s;
}

const OpSpec& BackwardSpec() {
  static const OpSpec s{
      "deltaLstmBackward",
      {"T", "N", "C", "H"},
      {"T*N", "4*H"},
      {{"needDx", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}},
      Join<TensorSpec>(Join<TensorSpec>({{"dy", DType::kF32, "T*N*H", true}, {"dhN", DType::kF32, "N*H", true},
                                         {"dcN", DType::kF32, "N*H", true}},
                                        kWeights),
                       {{"dWeightIh", DType::kF32, "4*H*C"}, {"dWeightHh", DType::kF32, "4*H*H"},
                        {"dBiasIh", DType::kF32, "4*H"}, {"dBiasHh", DType::kF32, "4*H"}}),
      {{"dx", DType::kF32, "T*N*C", "needDx"}},
      {},
      "deltaLstmForward",
  };
  return s;
}

delta_lstm::Dims DimsOf(const OpCall& a) {
  return delta_lstm::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))};
}
delta_lstm::Weights WeightsOf(const OpCall& a) {
  return delta_lstm::Weights{a.f32("weightIh"), a.f32("weightHh"), a.f32("biasIh"), a.f32("biasHh")};
}

// The DeltaGRU's options carry the same fields.
delta_lstm::Options OptionsOf(const OpCall& a) {
  const delta_gru::Options g = delta::OptionsOf(a);
  delta_lstm::Options o;
  o.theta_x = g.theta_x;
  o.theta_h = g.theta_h;
  o.chunk_floats = g.chunk_floats;
  o.qa = g.qa;
  o.activation = g.activation;
  o.nonlinear = g.nonlinear;
  o.qw = g.qw;
  o.weight = g.weight;
  return o;
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  delta::CheckForward(c, args, a, delta_lstm::CacheSize(DimsOf(a)));
}

void Forward(const Context& ctx, OpCall& a) {
  delta_lstm::Stats stats;
  delta_lstm::Forward(ctx, DimsOf(a), WeightsOf(a), OptionsOf(a), a.f32("x"), a.f32("y"), a.f32("cN"), delta::Cache(a),
                      &stats);
  delta::ReportStats(a, stats, true);
}

void Backward(const Context& ctx, OpCall& a) {
  Workspace::Scope scope(*ctx.workspace);
  const delta_lstm::Grads g{a.f32("dWeightIh"), a.f32("dWeightHh"), a.f32("dBiasIh"), a.f32("dBiasHh")};
  delta_lstm::Stats stats;
  delta_lstm::Backward(ctx, DimsOf(a), WeightsOf(a), OptionsOf(a), a.f32("x"), a.f32("y"), delta::Cache(a),
                       delta::DyWithFinal(ctx, a), a.f32("dcN"), a.f32("dx"), g, &stats);
  delta::ReportStats(a, stats, false);
}

}  // namespace

void RegisterDeltaLstm(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, ForwardSpec(), CheckForward, Forward);
  ExportOp(env, exports, BackwardSpec(), nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
