// gemm(transA, transB, M, N, K, alpha, A, B, beta, C | null) -> new C: the engine's dense GEMM
// with whichever kernel is selected, exposed so tests can check each kernel directly.
#include <napi.h>

#include <algorithm>

#include "args.h"
#include "evnn/gemm.h"
#include "job.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

struct GemmJob : JobBase {
  bool ta = false, tb = false;
  int M = 0, N = 0, K = 0;
  float alpha = 0, beta = 0;
  const float* A = nullptr;
  const float* B = nullptr;
  float* C = nullptr;
  Ref c_ref;

  void Execute() {
    gemm(ta ? Trans::Yes : Trans::No, tb ? Trans::Yes : Trans::No, M, N, K, alpha, A, ta ? M : K, B, tb ? K : N,
         beta, C, N);
  }
  Napi::Value Result(Napi::Env) { return c_ref.Value(); }
};

GemmJob MakeGemm(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "gemm"};
  GemmJob j;
  j.ta = Bool(c, Arg(info, 0), "transA");
  j.tb = Bool(c, Arg(info, 1), "transB");
  j.M = PositiveInt(c, Arg(info, 2), "M");
  j.N = PositiveInt(c, Arg(info, 3), "N");
  j.K = PositiveInt(c, Arg(info, 4), "K");
  j.alpha = float(Finite(c, Arg(info, 5), "alpha"));
  Napi::Float32Array a = j.Keep(F32(c, Arg(info, 6), "A"));
  Napi::Float32Array b = j.Keep(F32(c, Arg(info, 7), "B"));
  j.beta = float(Finite(c, Arg(info, 8), "beta"));
  Napi::Float32Array c_in = F32OrNull(c, Arg(info, 9), "C");
  const uint64_t mk = Product(c, {uint64_t(j.M), uint64_t(j.K)});
  const uint64_t kn = Product(c, {uint64_t(j.K), uint64_t(j.N)});
  const uint64_t mn = Product(c, {uint64_t(j.M), uint64_t(j.N)});
  CheckLength(c, a, "A", mk, "M*K");
  CheckLength(c, b, "B", kn, "K*N");
  if (!c_in.IsEmpty()) CheckLength(c, c_in, "C", mn, "M*N");
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), mn);
  if (!c_in.IsEmpty()) std::copy(c_in.Data(), c_in.Data() + mn, out.Data());
  j.A = a.Data();
  j.B = b.Data();
  j.C = out.Data();
  j.c_ref = Hold(out);
  return j;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) { return RunSync(info, MakeGemm); }

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) { exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm")); }

}  // namespace binding
}  // namespace evnn
