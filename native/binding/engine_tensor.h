// Engine tensors in the binding: a JavaScript `Tensor` handle on engine-owned Storage (parameters
// and their gradients). Op arguments accept one wherever they accept a Float32Array.
#pragma once
#include <napi.h>

#include <memory>

#include "args.h"
#include "evnn/storage.h"

namespace evnn {
namespace binding {

// The storage behind v when v is an engine Tensor, else null.
std::shared_ptr<Storage> TensorStorage(Napi::Env env, Napi::Value v);

}  // namespace binding
}  // namespace evnn
