// sgdStep, adamStep (in place), globalNorm and clipGlobalNorm over lists of Float32Arrays.
// Hyper-parameters are checked against the ranges torch.optim accepts.
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "evnn/optim.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

// grad (and each buffer) must have param's length.
void CheckSameLength(const Ctx& c, const Napi::Float32Array& a, const char* name, size_t n) {
  CheckLength(c, a, name, n, "param.length");
}

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "sgdStep"};
  Napi::Float32Array p = F32(c, Arg(info, 0), "param");
  Napi::Float32Array g = F32(c, Arg(info, 1), "grad");
  Napi::Float32Array buf = F32OrNull(c, Arg(info, 2), "momentumBuf");
  Napi::Object o = ObjectArg(c, Arg(info, 3), "options");
  optim::SgdOptions s{};
  s.lr = FiniteAtLeast(c, Field(c, o, "lr"), "lr", 0);
  s.momentum = FiniteAtLeast(c, Field(c, o, "momentum"), "momentum", 0);
  s.dampening = Finite(c, Field(c, o, "dampening"), "dampening");
  s.weight_decay = FiniteAtLeast(c, Field(c, o, "weightDecay"), "weightDecay", 0);
  s.nesterov = Bool(c, Field(c, o, "nesterov"), "nesterov");
  s.first_step = Bool(c, Field(c, o, "firstStep"), "firstStep");
  if (s.nesterov && (s.momentum <= 0 || s.dampening != 0)) {
    ThrowRange(c, "nesterov requires momentum > 0 and dampening = 0 (as torch.optim.SGD)");
  }
  const size_t n = p.ElementLength();
  CheckSameLength(c, g, "grad", n);
  if (s.momentum != 0 && buf.IsEmpty()) ThrowType(c, "momentumBuf must be a Float32Array when momentum != 0, got null");
  if (!buf.IsEmpty()) CheckSameLength(c, buf, "momentumBuf", n);
  optim::SgdStep(n, p.Data(), g.Data(), buf.IsEmpty() ? nullptr : buf.Data(), s);
  return info.Env().Undefined();
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "adamStep"};
  Napi::Float32Array p = F32(c, Arg(info, 0), "param");
  Napi::Float32Array g = F32(c, Arg(info, 1), "grad");
  Napi::Float32Array m = F32(c, Arg(info, 2), "m");
  Napi::Float32Array v = F32(c, Arg(info, 3), "v");
  Napi::Object o = ObjectArg(c, Arg(info, 4), "options");
  optim::AdamOptions a{};
  a.lr = FiniteAtLeast(c, Field(c, o, "lr"), "lr", 0);
  a.beta1 = FiniteInUnit(c, Field(c, o, "beta1"), "beta1");
  a.beta2 = FiniteInUnit(c, Field(c, o, "beta2"), "beta2");
  a.eps = FiniteAtLeast(c, Field(c, o, "eps"), "eps", 0);
  a.weight_decay = FiniteAtLeast(c, Field(c, o, "weightDecay"), "weightDecay", 0);
  a.step = PositiveInt64(c, Field(c, o, "step"), "step");
  a.decoupled = Bool(c, Field(c, o, "decoupled"), "decoupled");
  const size_t n = p.ElementLength();
  CheckSameLength(c, g, "grad", n);
  CheckSameLength(c, m, "m", n);
  CheckSameLength(c, v, "v", n);
  optim::AdamStep(n, p.Data(), g.Data(), m.Data(), v.Data(), a);
  return info.Env().Undefined();
}

std::vector<optim::Span> Spans(const Ctx& c, Napi::Value v) {
  if (!v.IsArray()) ThrowType(c, "grads must be an array of Float32Array");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<optim::Span> spans;
  spans.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Float32Array a = F32(c, arr.Get(i), "grads[" + std::to_string(i) + "]");
    spans.push_back({a.Data(), a.ElementLength()});
  }
  return spans;
}

Napi::Value GlobalNorm(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "globalNorm"};
  const std::vector<optim::Span> spans = Spans(c, Arg(info, 0));
  return Napi::Number::New(info.Env(), optim::GlobalNorm(spans.data(), spans.size()));
}

Napi::Value ClipGlobalNorm(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "clipGlobalNorm"};
  const std::vector<optim::Span> spans = Spans(c, Arg(info, 0));
  const double max_norm = FiniteAtLeast(c, Arg(info, 1), "maxNorm", 0);
  return Napi::Number::New(info.Env(), optim::ClipGlobalNorm(spans.data(), spans.size(), max_norm));
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("globalNorm", Napi::Function::New(env, GlobalNorm, "globalNorm"));
  exports.Set("clipGlobalNorm", Napi::Function::New(env, ClipGlobalNorm, "clipGlobalNorm"));
}

}  // namespace binding
}  // namespace evnn
