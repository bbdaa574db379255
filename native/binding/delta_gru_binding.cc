// deltaGruForward / deltaGruBackward (+Async): evnn::delta_gru (native/include/evnn/delta_gru.h)
// as op tables; what it shares with the DeltaLSTM binding is delta_binding_common.h.
//
// DeltaGRU starts from zero (no h0, as the reference), so the backward returns no dh0; a gradient
// of the last state (dhN) is the gradient of y's last step, and is added into a copy of dy here.
// The backward reads the forward's options (thresholds, quantisation) from its saved handle.
#include "delta_binding_common.h"
#include "evnn/delta_gru.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

namespace dc = delta_common;

// The cache is T·N·(2C + 6H) floats (delta_gru::CacheSize): x̂ and its mask, ĥ and its mask, r z n M_hn.
constexpr dc::CellRules kRules{"deltaGruForward", "deltaGruBackward", "3*H", "3*H*C", "3*H*H", "T*N*(2*C+6*H)"};

const OpSpec& ForwardSpec() {
  static const OpSpec s = dc::ForwardSpec(kRules, {});
  return s;
}

const OpSpec& BackwardSpec() {
  static const OpSpec s = dc::BackwardSpec(kRules, {});
  return s;
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  dc::CheckForward(c, args, a, kRules, delta_gru::CacheSize(dc::DimsOf<delta_gru::Dims>(a)));
}

void Forward(const Context& ctx, OpCall& a) {
  delta_gru::Stats stats;
  delta_gru::Forward(ctx, dc::DimsOf<delta_gru::Dims>(a), dc::WeightsOf<delta_gru::Weights>(a),
                     dc::OptionsOf<delta_gru::Options>(a), a.f32("x"), a.f32("y"), dc::Cache(a), &stats);
  dc::ReportStats(a, stats, true);
}

void Backward(const Context& ctx, OpCall& a) {
  Workspace::Scope scope(*ctx.workspace);
  delta_gru::Stats stats;
  delta_gru::Backward(ctx, dc::DimsOf<delta_gru::Dims>(a), dc::WeightsOf<delta_gru::Weights>(a),
                      dc::OptionsOf<delta_gru::Options>(a), a.f32("x"), a.f32("y"), dc::Cache(a),
                      dc::DyWithFinal(ctx, a), a.f32("dx"), dc::GradsOf<delta_gru::Grads>(a), &stats);
  dc::ReportStats(a, stats, false);
}

}  // namespace

void RegisterDeltaGru(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, ForwardSpec(), CheckForward, Forward);
  ExportOp(env, exports, BackwardSpec(), nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
