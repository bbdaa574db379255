// Per-module state of the addon: the classes the binding makes instances of.
#pragma once
#include <napi.h>

namespace evnn {
namespace binding {

struct AddonData {
  Napi::FunctionReference saved_class;   // Saved (op.cc)
  Napi::FunctionReference tensor_class;  // Tensor (tensor_binding.cc)
};

// The module's AddonData, made on first use.
inline AddonData& Data(Napi::Env env) {
  AddonData* d = env.GetInstanceData<AddonData>();
  if (d == nullptr) {
    d = new AddonData();
    env.SetInstanceData<AddonData>(d);
  }
  return *d;
}

// A new instance of an ObjectWrap class that JavaScript may not construct itself: its constructor
// throws unless Wrap::constructing is set, as it is here for the one call.
template <typename Wrap>
Napi::Object NewInternal(Napi::FunctionReference& cls) {
  Wrap::constructing = true;
  try {
    Napi::Object obj = cls.New({});
    Wrap::constructing = false;
    return obj;
  } catch (...) {
    Wrap::constructing = false;
    throw;
  }
}

}  // namespace binding
}  // namespace evnn
