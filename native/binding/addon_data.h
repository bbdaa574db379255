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

}  // namespace binding
}  // namespace evnn
