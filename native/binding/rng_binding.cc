// philoxUniform(out, seed, offset) fills out with uniform [0,1) floats from the engine's
// counter-based generator; philoxBlock(counter, key) exposes one raw Philox4x32-10 block for the
// published known-answer tests.
#include <napi.h>

#include "args.h"
#include "evnn/rng.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

Napi::Value PhiloxUniform(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "philoxUniform"};
  Napi::Float32Array out = F32(c, Arg(info, 0), "out");
  const uint64_t seed = BigUint64(c, Arg(info, 1), "seed");
  const uint64_t offset = BigUint64(c, Arg(info, 2), "offset");
  rng::Uniform(out.Data(), out.ElementLength(), seed, offset);
  return info.Env().Undefined();
}

Napi::Value PhiloxBlock(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "philoxBlock"};
  Napi::Uint32Array ctr = U32(c, Arg(info, 0), "counter");
  Napi::Uint32Array key = U32(c, Arg(info, 1), "key");
  CheckLength(c, ctr, "counter", 4, "");
  CheckLength(c, key, "key", 2, "");
  const rng::Counter out = rng::Philox4x32_10({ctr[0], ctr[1], ctr[2], ctr[3]}, {key[0], key[1]});
  Napi::Uint32Array r = Napi::Uint32Array::New(info.Env(), 4);
  for (size_t i = 0; i < 4; ++i) r[i] = out[i];
  return r;
}

}  // namespace

void RegisterRng(Napi::Env env, Napi::Object exports) {
  exports.Set("philoxUniform", Napi::Function::New(env, PhiloxUniform, "philoxUniform"));
  exports.Set("philoxBlock", Napi::Function::New(env, PhiloxBlock, "philoxBlock"));
}

}  // namespace binding
}  // namespace evnn
