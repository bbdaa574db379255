// gruForward / gruBackward (+Async): evnn::gru (native/include/evnn/gru.h) over the fields of
// GruForwardArgs / GruBackwardArgs in src/native/addon.ts.
#include <napi.h>

#include "args.h"
#include "evnn/gru.h"
#include "job.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

struct GruInputs {
  gru::Dims d{};
  gru::Weights w{};
  const float* x = nullptr;
  const float* h0 = nullptr;
};

// Reads and checks x, h0, the four weights and T, N, C, H; the job keeps the arrays alive.
GruInputs ReadGru(const Ctx& c, const Napi::Object& o, JobBase& job) {
  GruInputs in;
  const SeqDims sd = ReadSeqDims(c, o);
  in.d = gru::Dims{sd.T, sd.N, sd.C, sd.H};
  const uint64_t T = in.d.T, N = in.d.N, C = in.d.C, H = in.d.H;
  Napi::Float32Array x = job.Keep(F32(c, Field(c, o, "x"), "x"));
  Napi::Float32Array h0 = job.Keep(F32OrNull(c, Field(c, o, "h0"), "h0"));
  Napi::Float32Array w_ih = job.Keep(F32(c, Field(c, o, "weightIh"), "weightIh"));
  Napi::Float32Array w_hh = job.Keep(F32(c, Field(c, o, "weightHh"), "weightHh"));
  Napi::Float32Array b_ih = job.Keep(F32(c, Field(c, o, "biasIh"), "biasIh"));
  Napi::Float32Array b_hh = job.Keep(F32(c, Field(c, o, "biasHh"), "biasHh"));
  CheckLength(c, x, "x", Product(c, {T, N, C}), "T*N*C");
  if (!h0.IsEmpty()) CheckLength(c, h0, "h0", Product(c, {N, H}), "N*H");
  CheckLength(c, w_ih, "weightIh", Product(c, {3, H, C}), "3*H*C");
  CheckLength(c, w_hh, "weightHh", Product(c, {3, H, H}), "3*H*H");
  CheckLength(c, b_ih, "biasIh", 3 * H, "3*H");
  CheckLength(c, b_hh, "biasHh", 3 * H, "3*H");
  in.x = x.Data();
  in.h0 = DataOrNull(h0);
  in.w = gru::Weights{w_ih.Data(), w_hh.Data(), b_ih.Data(), b_hh.Data()};
  return in;
}

struct ForwardJob : JobBase {
  GruInputs in;
  float* y = nullptr;
  float* cache = nullptr;
  Ref y_ref, cache_ref;
  void Execute() { gru::Forward(in.d, in.w, in.x, in.h0, y, cache); }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("y", y_ref.Value());
    r.Set("cache", cache_ref.Value());
    return r;
  }
};

ForwardJob MakeForward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  Napi::Env env = info.Env();
  ForwardJob j;
  Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
  j.in = ReadGru(c, o, j);
  const bool training = Bool(c, Field(c, o, "training"), "training");
  j.y_ref = NewOutput(env, uint64_t(j.in.d.T) * j.in.d.N * j.in.d.H, &j.y);
  // Inference keeps nothing for a backward pass: an empty cache, and the kernel skips writing it.
  j.cache_ref = NewOutput(env, training ? gru::CacheSize(j.in.d) : 0, &j.cache);
  if (!training) j.cache = nullptr;
  return j;
}

struct BackwardJob : JobBase {
  GruInputs in;
  const float *y = nullptr, *cache = nullptr, *dy = nullptr, *dhT = nullptr;
  float *dx = nullptr, *dh0 = nullptr;
  gru::Grads g{};
  Ref dx_ref, dh0_ref, dw_ih_ref, dw_hh_ref, db_ih_ref, db_hh_ref;
  void Execute() { gru::Backward(in.d, in.w, in.x, in.h0, y, cache, dy, dhT, dx, dh0, g); }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("dx", ValueOrNull(env, dx_ref));
    r.Set("dh0", dh0_ref.Value());
    r.Set("dWeightIh", dw_ih_ref.Value());
    r.Set("dWeightHh", dw_hh_ref.Value());
    r.Set("dBiasIh", db_ih_ref.Value());
    r.Set("dBiasHh", db_hh_ref.Value());
    return r;
  }
};

BackwardJob MakeBackward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  Napi::Env env = info.Env();
  BackwardJob j;
  Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
  j.in = ReadGru(c, o, j);
  const uint64_t T = j.in.d.T, N = j.in.d.N, C = j.in.d.C, H = j.in.d.H;
  Napi::Float32Array y = j.Keep(F32(c, Field(c, o, "y"), "y"));
  Napi::Float32Array cache = j.Keep(F32(c, Field(c, o, "cache"), "cache"));
  Napi::Float32Array dy = j.Keep(F32(c, Field(c, o, "dy"), "dy"));
  Napi::Float32Array dhT = j.Keep(F32OrNull(c, Field(c, o, "dhT"), "dhT"));
  const bool need_dx = Bool(c, Field(c, o, "needDx"), "needDx");
  CheckLength(c, y, "y", T * N * H, "T*N*H");
  CheckLength(c, cache, "cache", gru::CacheSize(j.in.d), "the cache size of gruForward with training: true");
  CheckLength(c, dy, "dy", T * N * H, "T*N*H");
  if (!dhT.IsEmpty()) CheckLength(c, dhT, "dhT", N * H, "N*H");
  j.y = y.Data();
  j.cache = cache.Data();
  j.dy = dy.Data();
  j.dhT = DataOrNull(dhT);
  if (need_dx) j.dx_ref = NewOutput(env, T * N * C, &j.dx);
  j.dh0_ref = NewOutput(env, N * H, &j.dh0);
  j.dw_ih_ref = NewOutput(env, 3 * H * C, &j.g.dw_ih);
  j.dw_hh_ref = NewOutput(env, 3 * H * H, &j.g.dw_hh);
  j.db_ih_ref = NewOutput(env, 3 * H, &j.g.db_ih);
  j.db_hh_ref = NewOutput(env, 3 * H, &j.g.db_hh);
  return j;
}

}  // namespace

void RegisterGru(Napi::Env env, Napi::Object exports) {
  ExportSyncAndAsync(env, exports, "gruForward", MakeForward);
  ExportSyncAndAsync(env, exports, "gruBackward", MakeBackward);
}

}  // namespace binding
}  // namespace evnn
