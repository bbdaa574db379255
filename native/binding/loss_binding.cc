// softmaxCrossEntropy(logits, labels, N, K) -> {loss, dlogits, correct}.
#include <napi.h>

#include <string>

#include "args.h"
#include "evnn/loss.h"
#include "job.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

struct CrossEntropyJob : JobBase {
  int N = 0, K = 0;
  const float* logits = nullptr;
  const int32_t* labels = nullptr;
  float* dlogits = nullptr;
  Ref dlogits_ref;
  loss::CrossEntropyResult res{};
  void Execute() { res = loss::SoftmaxCrossEntropy(N, K, logits, labels, dlogits); }
  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("loss", res.loss);
    r.Set("dlogits", dlogits_ref.Value());
    r.Set("correct", res.correct);
    return r;
  }
};

CrossEntropyJob MakeCrossEntropy(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "softmaxCrossEntropy"};
  CrossEntropyJob j;
  Napi::Float32Array logits = j.Keep(F32(c, Arg(info, 0), "logits"));
  Napi::Int32Array labels = j.Keep(I32(c, Arg(info, 1), "labels"));
  j.N = PositiveInt(c, Arg(info, 2), "N");
  j.K = PositiveInt(c, Arg(info, 3), "K");
  const uint64_t nk = Product(c, {uint64_t(j.N), uint64_t(j.K)});
  CheckLength(c, logits, "logits", nk, "N*K");
  CheckLength(c, labels, "labels", uint64_t(j.N), "N");
  const int32_t* l = labels.Data();
  for (int i = 0; i < j.N; ++i) {
    if (l[i] < 0 || l[i] >= j.K) {
      ThrowRange(c, "labels[" + std::to_string(i) + "] = " + std::to_string(l[i]) + " is outside [0, K) = [0, " +
                        std::to_string(j.K) + ")");
    }
  }
  j.logits = logits.Data();
  j.labels = l;
  j.dlogits_ref = NewOutput(info.Env(), nk, &j.dlogits);
  return j;
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) { return RunSync(info, MakeCrossEntropy); }

}  // namespace

void RegisterLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, CrossEntropy, "softmaxCrossEntropy"));
}

}  // namespace binding
}  // namespace evnn
