// quantizeInPlace(x, qi, qf): fixed_point::QuantizeInPlace (native/include/evnn/fixed_point.h) over
// a Float32Array or an engine tensor — the reference's after-epoch weight quantisation (qw), run
// by the training loop on each weight tensor, and a quantised layer output.
// quantizePassThrough(x, dx, qi, qf): fixed_point::PassThroughGrad, the straight-through gradient
// of that quantisation (dx zeroed in place where x saturates).
// Synchronous: one pass over the values.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>

#include "args.h"
#include "engine_tensor.h"
#include "evnn/fixed_point.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

// An integer in [lo, hi] (the bits of a Q format).
int Bits(const Ctx& c, Napi::Value v, const char* name, int lo, int hi) {
  const double x = Finite(c, v, name);
  if (x != std::floor(x) || x < lo || x > hi) {
    ThrowRange(c, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                      std::to_string(x));
  }
  return int(x);
}

// The format at arguments i, i + 1: qi counts the sign bit; qi + qf <= 24 keeps the integer grid
// exact in float32.
fixed_point::Format ReadFormat(const Ctx& c, const Napi::CallbackInfo& info, size_t i) {
  const int qi = Bits(c, Arg(info, i), "qi", 1, 24);
  const int qf = Bits(c, Arg(info, i + 1), "qf", 0, 23);
  if (qi + qf > 24) ThrowRange(c, "qi + qf must be <= 24, got " + std::to_string(qi + qf));
  return fixed_point::Format{qi, qf};
}

// The host floats of a Float32Array or a CPU engine tensor, and their count.
float* HostFloats(const Ctx& c, Napi::Value v, const char* name, size_t* n) {
  if (std::shared_ptr<Storage> st = TensorStorage(c.env, v)) {
    if (st->backend() != Backend::kCpu) ThrowType(c, std::string(name) + " is a device tensor (this op works on host memory)");
    *n = st->bytes() / sizeof(float);
    return static_cast<float*>(st->data());
  }
  Napi::Float32Array a = F32(c, v, name);
  *n = a.ElementLength();
  return a.Data();
}

Napi::Value QuantizeInPlace(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "quantizeInPlace"};
  Napi::Value xv = Arg(info, 0);
  const fixed_point::Format f = ReadFormat(c, info, 1);
  size_t n = 0;
  float* data = HostFloats(c, xv, "x", &n);
  fixed_point::QuantizeInPlace(data, n, f);
  return info.Env().Undefined();
}

Napi::Value QuantizePassThrough(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "quantizePassThrough"};
  size_t n = 0, nd = 0;
  const float* x = HostFloats(c, Arg(info, 0), "x", &n);
  float* dx = HostFloats(c, Arg(info, 1), "dx", &nd);
  const fixed_point::Format f = ReadFormat(c, info, 2);
  if (nd != n) ThrowRange(c, "dx has length " + std::to_string(nd) + ", expected x.length = " + std::to_string(n));
  fixed_point::PassThroughGrad(x, dx, n, f);
  return info.Env().Undefined();
}

}  // namespace

void RegisterFixedPoint(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeInPlace", Napi::Function::New(env, QuantizeInPlace, "quantizeInPlace"));
  exports.Set("quantizePassThrough", Napi::Function::New(env, QuantizePassThrough, "quantizePassThrough"));
}

}  // namespace binding
}  // namespace evnn
