// linearForward / linearBackward (+Async): evnn::linear over {x, weight, bias, M, I, O}.
#include <napi.h>

#include "args.h"
#include "evnn/linear.h"
#include "job.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

struct LinearInputs {
  linear::Dims d{};
  const float* x = nullptr;
  const float* w = nullptr;
  const float* b = nullptr;
};

// Reads and checks {x, weight, bias, M, I, O}; the job keeps the arrays alive.
LinearInputs ReadLinear(const Ctx& c, const Napi::Object& o, JobBase& job) {
  LinearInputs in;
  in.d.M = PositiveInt(c, Field(c, o, "M"), "M");
  in.d.I = PositiveInt(c, Field(c, o, "I"), "I");
  in.d.O = PositiveInt(c, Field(c, o, "O"), "O");
  const uint64_t M = in.d.M, I = in.d.I, O = in.d.O;
  Napi::Float32Array x = job.Keep(F32(c, Field(c, o, "x"), "x"));
  Napi::Float32Array w = job.Keep(F32(c, Field(c, o, "weight"), "weight"));
  Napi::Float32Array b = job.Keep(F32OrNull(c, Field(c, o, "bias"), "bias"));
  CheckLength(c, x, "x", Product(c, {M, I}), "M*I");
  CheckLength(c, w, "weight", Product(c, {O, I}), "O*I");
  if (!b.IsEmpty()) CheckLength(c, b, "bias", O, "O");
  in.x = x.Data();
  in.w = w.Data();
  in.b = DataOrNull(b);
  return in;
}

struct ForwardJob : JobBase {
  LinearInputs in;
  float* y = nullptr;
  Ref y_ref;
  void Execute() { linear::Forward(in.d, in.x, in.w, in.b, y); }
  Napi::Value Result(Napi::Env) { return y_ref.Value(); }
};

ForwardJob MakeForward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  ForwardJob j;
  j.in = ReadLinear(c, ObjectArg(c, Arg(info, 0), "args"), j);
  j.y_ref = NewOutput(info.Env(), uint64_t(j.in.d.M) * j.in.d.O, &j.y);
  return j;
}

struct BackwardJob : JobBase {
  LinearInputs in;
  const float* dy = nullptr;
  float *dx = nullptr, *dw = nullptr, *db = nullptr;
  Ref dx_ref, dw_ref, db_ref;
  void Execute() { linear::Backward(in.d, in.x, in.w, dy, dx, dw, db); }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("dx", ValueOrNull(env, dx_ref));
    r.Set("dWeight", dw_ref.Value());
    r.Set("dBias", ValueOrNull(env, db_ref));
    return r;
  }
};

BackwardJob MakeBackward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  Napi::Env env = info.Env();
  BackwardJob j;
  Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
  j.in = ReadLinear(c, o, j);
  const uint64_t M = j.in.d.M, I = j.in.d.I, O = j.in.d.O;
  Napi::Float32Array dy = j.Keep(F32(c, Field(c, o, "dy"), "dy"));
  CheckLength(c, dy, "dy", M * O, "M*O");
  const bool need_dx = Bool(c, Field(c, o, "needDx"), "needDx");
  j.dy = dy.Data();
  if (need_dx) j.dx_ref = NewOutput(env, M * I, &j.dx);
  j.dw_ref = NewOutput(env, O * I, &j.dw);
  if (j.in.b) j.db_ref = NewOutput(env, O, &j.db);
  return j;
}

}  // namespace

void RegisterLinear(Napi::Env env, Napi::Object exports) {
  ExportSyncAndAsync(env, exports, "linearForward", MakeForward);
  ExportSyncAndAsync(env, exports, "linearBackward", MakeBackward);
}

}  // namespace binding
}  // namespace evnn
