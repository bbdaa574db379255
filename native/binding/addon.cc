// Module entry point of build/Release/evnn.node. The binding only validates and marshals; the
// math lives in native/src/cpu (see native/README.md). The typed contract is src/native/addon.ts.
#include <napi.h>

#include "register.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace evnn::binding;
  RegisterSaved(env, exports);
  RegisterTensor(env, exports);
  RegisterInfo(env, exports);
  RegisterGemm(env, exports);
  RegisterLinear(env, exports);
  RegisterGru(env, exports);
  RegisterEgru(env, exports);
  RegisterLoss(env, exports);
  RegisterOptim(env, exports);
  RegisterRng(env, exports);
  RegisterTaps(env, exports);
  RegisterLstm(env, exports);
  RegisterEmbedding(env, exports);
  RegisterDeltaGru(env, exports);
  RegisterDeltaLstm(env, exports);
  RegisterFixedPoint(env, exports);
  RegisterLif(env, exports);
  RegisterConv(env, exports);
  RegisterRelu(env, exports);
  RegisterTimeMean(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(evnn, Init)
