// egruForward / egruBackward (+Async): evnn::egru (native/include/evnn/egru.h) over the fields of
// EgruForwardArgs / EgruBackwardArgs in src/native/addon.ts.
#include <napi.h>

#include "args.h"
#include "evnn/egru.h"
#include "job.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

struct EgruInputs {
  egru::Dims d{};
  egru::Weights w{};
  egru::Options opt{};
  const float* x = nullptr;
  const float* y0 = nullptr;
  const uint8_t* zoneout_mask = nullptr;
};

// Reads and checks dims, options, x, y0, the zoneout mask and the five parameters; the job keeps
// the arrays alive.
EgruInputs ReadEgru(const Ctx& c, const Napi::Object& o, JobBase& job) {
  EgruInputs in;
  const SeqDims sd = ReadSeqDims(c, o);
  in.d = egru::Dims{sd.T, sd.N, sd.C, sd.H};
  const uint64_t T = in.d.T, N = in.d.N, C = in.d.C, H = in.d.H;
  in.opt.training = Bool(c, Field(c, o, "training"), "training");
  in.opt.zoneout = float(FiniteInUnit(c, Field(c, o, "zoneout"), "zoneout"));
  in.opt.dampening = float(FiniteAtLeast(c, Field(c, o, "dampening"), "dampening", 0.0));
  in.opt.support = float(FiniteAtLeast(c, Field(c, o, "support"), "support", 0.0));
  in.opt.sparse_input = Bool(c, Field(c, o, "sparseInput"), "sparseInput");
  in.opt.chunk_floats = size_t(FiniteAtLeast(c, Field(c, o, "chunkFloats"), "chunkFloats", 0.0));
  Napi::Float32Array x = job.Keep(F32(c, Field(c, o, "x"), "x"));
  Napi::Float32Array y0 = job.Keep(F32OrNull(c, Field(c, o, "y0"), "y0"));
  Napi::Uint8Array mask = job.Keep(U8OrNull(c, Field(c, o, "zoneoutMask"), "zoneoutMask"));
  Napi::Float32Array kernel = job.Keep(F32(c, Field(c, o, "kernel"), "kernel"));
  Napi::Float32Array rk = job.Keep(F32(c, Field(c, o, "recurrentKernel"), "recurrentKernel"));
  Napi::Float32Array bias = job.Keep(F32(c, Field(c, o, "bias"), "bias"));
  Napi::Float32Array rbias = job.Keep(F32(c, Field(c, o, "recurrentBias"), "recurrentBias"));
  Napi::Float32Array thr = job.Keep(F32(c, Field(c, o, "thr"), "thr"));
  CheckLength(c, x, "x", Product(c, {T, N, C}), "T*N*C");
  if (!y0.IsEmpty()) CheckLength(c, y0, "y0", Product(c, {N, H}), "N*H");
  if (in.opt.training && in.opt.zoneout > 0.0f) {
    if (mask.IsEmpty()) ThrowType(c, "zoneoutMask is required when training with zoneout > 0");
    CheckLength(c, mask, "zoneoutMask", Product(c, {T, N, H}), "T*N*H");
  }
  CheckLength(c, kernel, "kernel", Product(c, {C, 3, H}), "C*3*H");
  CheckLength(c, rk, "recurrentKernel", Product(c, {H, 3, H}), "H*3*H");
  CheckLength(c, bias, "bias", 3 * H, "3*H");
  CheckLength(c, rbias, "recurrentBias", 3 * H, "3*H");
  CheckLength(c, thr, "thr", H, "H");
  in.x = x.Data();
  in.y0 = DataOrNull(y0);
  in.zoneout_mask = in.opt.training && in.opt.zoneout > 0.0f ? mask.Data() : nullptr;
  in.w = egru::Weights{kernel.Data(), rk.Data(), bias.Data(), rbias.Data(), thr.Data()};
  return in;
}

Napi::Object StatsObject(Napi::Env env, const egru::Stats& s) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("events", s.events);
  r.Set("backwardActive", s.backward_active);
  r.Set("macs", s.macs);
  r.Set("macsDense", s.macs_dense);
  return r;
}

struct ForwardJob : JobBase {
  EgruInputs in;
  float *y = nullptr, *c = nullptr, *o = nullptr, *trace = nullptr, *cache = nullptr;
  uint8_t* active = nullptr;
  egru::Stats stats;
  Ref y_ref, c_ref, o_ref, trace_ref, cache_ref, active_ref;
  void Execute() {
    egru::Forward(in.d, in.w, in.opt, in.x, in.y0, in.zoneout_mask, y, c, o, trace, cache, active, &stats);
  }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("y", y_ref.Value());
    r.Set("c", c_ref.Value());
    r.Set("o", ValueOrNull(env, o_ref));
    r.Set("trace", ValueOrNull(env, trace_ref));
    r.Set("cache", cache_ref.Value());
    r.Set("active", active_ref.Value());
    r.Set("stats", StatsObject(env, stats));
    return r;
  }
};

ForwardJob MakeForward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  Napi::Env env = info.Env();
  ForwardJob j;
  Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
  j.in = ReadEgru(c, o, j);
  const uint64_t THN = uint64_t(j.in.d.T) * j.in.d.N * j.in.d.H;
  j.y_ref = NewOutput(env, THN, &j.y);
  j.c_ref = NewOutput(env, THN, &j.c);
  // o and trace are kept only when asked for (backward reads neither).
  if (Bool(c, Field(c, o, "keepO"), "keepO")) j.o_ref = NewOutput(env, THN, &j.o);
  if (Bool(c, Field(c, o, "keepTrace"), "keepTrace")) j.trace_ref = NewOutput(env, THN, &j.trace);
  // Inference keeps nothing for a backward pass: empty cache and map, and the kernel skips them.
  const bool training = j.in.opt.training;
  j.cache_ref = NewOutput(env, training ? egru::CacheSize(j.in.d) : 0, &j.cache);
  Napi::Uint8Array active = Napi::Uint8Array::New(env, training ? THN : 0);
  j.active = training ? active.Data() : nullptr;
  j.active_ref = Hold(active);
  if (!training) j.cache = nullptr;
  return j;
}

struct BackwardJob : JobBase {
  EgruInputs in;
  const float *y = nullptr, *c = nullptr, *cache = nullptr;
  const float *dy = nullptr, *dc = nullptr, *d_o = nullptr, *dtrace = nullptr;
  const uint8_t *active = nullptr, *dx_active = nullptr;
  float *dx = nullptr, *dy0 = nullptr;
  egru::Grads g{};
  egru::Stats stats;
  Ref dx_ref, dy0_ref, dk_ref, drk_ref, db_ref, drb_ref, dthr_ref;
  void Execute() {
    egru::Backward(in.d, in.w, in.opt, in.x, in.y0, in.zoneout_mask, y, c, cache, active, dy, dc, d_o,
                   dtrace, dx, dx_active, dy0, g, &stats);
  }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("dx", ValueOrNull(env, dx_ref));
    r.Set("dy0", ValueOrNull(env, dy0_ref));
    r.Set("dKernel", dk_ref.Value());
    r.Set("dRecurrentKernel", drk_ref.Value());
    r.Set("dBias", db_ref.Value());
    r.Set("dRecurrentBias", drb_ref.Value());
    r.Set("dThr", dthr_ref.Value());
    r.Set("stats", StatsObject(env, stats));
    return r;
  }
};

// An optional [T,N,H] upstream gradient.
const float* Upstream(const Ctx& c, const Napi::Object& o, JobBase& job, const char* name, uint64_t n) {
  Napi::Float32Array a = job.Keep(F32OrNull(c, Field(c, o, name), name));
  if (a.IsEmpty()) return nullptr;
  CheckLength(c, a, name, n, "T*N*H");
  return a.Data();
}

BackwardJob MakeBackward(const Napi::CallbackInfo& info, const char* fn) {
  const Ctx c{info.Env(), fn};
  Napi::Env env = info.Env();
  BackwardJob j;
  Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
  j.in = ReadEgru(c, o, j);
  if (!j.in.opt.training) ThrowRange(c, "training must be true: backward needs a forward pass in training mode");
  const uint64_t T = j.in.d.T, N = j.in.d.N, C = j.in.d.C, H = j.in.d.H;
  const uint64_t THN = T * N * H;
  Napi::Float32Array y = j.Keep(F32(c, Field(c, o, "y"), "y"));
  Napi::Float32Array cs = j.Keep(F32(c, Field(c, o, "c"), "c"));
  Napi::Float32Array cache = j.Keep(F32(c, Field(c, o, "cache"), "cache"));
  Napi::Uint8Array active = j.Keep(U8OrNull(c, Field(c, o, "active"), "active"));
  if (active.IsEmpty()) ThrowType(c, "active must be the Uint8Array from egruForward with training: true");
  CheckLength(c, y, "y", THN, "T*N*H");
  CheckLength(c, cs, "c", THN, "T*N*H");
  CheckLength(c, cache, "cache", egru::CacheSize(j.in.d), "the cache size of egruForward with training: true");
  CheckLength(c, active, "active", THN, "T*N*H");
  j.y = y.Data();
  j.c = cs.Data();
  j.cache = cache.Data();
  j.active = active.Data();
  j.dy = Upstream(c, o, j, "dy", THN);
  j.dc = Upstream(c, o, j, "dc", THN);
  j.d_o = Upstream(c, o, j, "do", THN);
  j.dtrace = Upstream(c, o, j, "dtrace", THN);
  const bool need_dx = Bool(c, Field(c, o, "needDx"), "needDx");
  const bool need_dy0 = Bool(c, Field(c, o, "needDy0"), "needDy0");
  Napi::Uint8Array dx_active = j.Keep(U8OrNull(c, Field(c, o, "dxActive"), "dxActive"));
  if (!dx_active.IsEmpty()) CheckLength(c, dx_active, "dxActive", T * N * C, "T*N*C");
  j.dx_active = DataOrNull(dx_active);
  if (need_dx) j.dx_ref = NewOutput(env, T * N * C, &j.dx);
  if (need_dy0) j.dy0_ref = NewOutput(env, N * H, &j.dy0);
  j.dk_ref = NewOutput(env, C * 3 * H, &j.g.dkernel);
  j.drk_ref = NewOutput(env, H * 3 * H, &j.g.drecurrent_kernel);
  j.db_ref = NewOutput(env, 3 * H, &j.g.dbias);
  j.drb_ref = NewOutput(env, 3 * H, &j.g.drecurrent_bias);
  j.dthr_ref = NewOutput(env, H, &j.g.dthr);
  return j;
}

}  // namespace

void RegisterEgru(Napi::Env env, Napi::Object exports) {
  ExportSyncAndAsync(env, exports, "egruForward", MakeForward);
  ExportSyncAndAsync(env, exports, "egruBackward", MakeBackward);
}

}  // namespace binding
}  // namespace evnn
