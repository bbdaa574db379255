// deltaLstmForward / deltaLstmBackward (+Async): evnn::delta_lstm (native/include/evnn/delta_lstm.h)
// as op tables; the checks, options, stats and the rest of the tables are the DeltaGRU binding's
// (delta_binding_common.h). No h0/c0 (the layer starts at zero, as the reference): the backward
// returns neither dh0 nor dc0; dhN is added into a copy of dy's last step, dcN goes to the kernel.
#include "delta_binding_common.h"
#include "evnn/delta_lstm.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

namespace dc = delta_common;

// The cache is T·N·(2C + 7H) floats (delta_lstm::CacheSize): x̂ and its mask, ĥ and its mask, i f g o, c.
constexpr dc::CellRules kRules{"deltaLstmForward", "deltaLstmBackward", "4*H", "4*H*C", "4*H*H", "T*N*(2*C+7*H)"};

const OpSpec& ForwardSpec() {
  static const OpSpec s = dc::ForwardSpec(kRules, {{"cN", DType::kF32, "N*H"}});
  return s;
}

const OpSpec& BackwardSpec() {
  static const OpSpec s = dc::BackwardSpec(kRules, {{"dcN", DType::kF32, "N*H", true}});
  return s;
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  dc::CheckForward(c, args, a, kRules, delta_lstm::CacheSize(dc::DimsOf<delta_lstm::Dims>(a)));
}

void Forward(const Context& ctx, OpCall& a) {
  delta_lstm::Stats stats;
  delta_lstm::Forward(ctx, dc::DimsOf<delta_lstm::Dims>(a), dc::WeightsOf<delta_lstm::Weights>(a),
                      dc::OptionsOf<delta_lstm::Options>(a), a.f32("x"), a.f32("y"), a.f32("cN"), dc::Cache(a),
                      &stats);
  dc::ReportStats(a, stats, true);
}

void Backward(const Context& ctx, OpCall& a) {
  Workspace::Scope scope(*ctx.workspace);
  delta_lstm::Stats stats;
  delta_lstm::Backward(ctx, dc::DimsOf<delta_lstm::Dims>(a), dc::WeightsOf<delta_lstm::Weights>(a),
                       dc::OptionsOf<delta_lstm::Options>(a), a.f32("x"), a.f32("y"), dc::Cache(a),
                       dc::DyWithFinal(ctx, a), a.f32("dcN"), a.f32("dx"), dc::GradsOf<delta_lstm::Grads>(a), &stats);
  dc::ReportStats(a, stats, false);
}

}  // namespace

void RegisterDeltaLstm(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, ForwardSpec(), CheckForward, Forward);
  ExportOp(env, exports, BackwardSpec(), nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
