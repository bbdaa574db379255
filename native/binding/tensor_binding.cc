// engineTensor(n) → a Tensor: n float32 zeros in engine-owned storage. tensor.host() is a
// Float32Array on that memory (on the CPU the same bytes, no copy; it keeps the storage alive),
// tensor.length its element count. Weights and gradients live in such tensors, so a CUDA backend
// can hold them on the device and copy to the host only what TypeScript reads.
#include <memory>

#include "addon_data.h"
#include "engine_tensor.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tensor", {
      InstanceMethod<&TensorHandle::Host>("host"),
      InstanceAccessor<&TensorHandle::Length>("length"),
      InstanceAccessor<&TensorHandle::Device>("device"),
    });
  }
  explicit TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
    if (!constructing) throw Napi::TypeError::New(info.Env(), "Tensors are made by engineTensor(n), not by new Tensor()");
  }
  std::shared_ptr<Storage> storage;
  static inline bool constructing = false;

 private:
  Napi::Value Host(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (storage->backend() != Backend::kCpu) throw Napi::Error::New(env, "Tensor.host: device tensors are copied, not viewed");
    // The view's finaliser owns a reference to the storage, so the memory outlives every view.
    auto* keep = new std::shared_ptr<Storage>(storage);
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, storage->data(), storage->bytes(),
                                                   [](Napi::Env, void*, std::shared_ptr<Storage>* k) { delete k; }, keep);
    return Napi::Float32Array::New(env, storage->bytes() / sizeof(float), buf, 0);
  }
  Napi::Value Length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(storage->bytes() / sizeof(float))); }
  Napi::Value Device(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), storage->backend() == Backend::kCpu ? "cpu" : "cuda");
  }
};

Napi::Value EngineTensor(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "engineTensor"};
  Napi::Value n = Arg(info, 0);
  // 0 elements is a valid tensor (a layer without bias, say).
  const double x = n.IsNumber() ? n.As<Napi::Number>().DoubleValue() : -1;
  if (!n.IsNumber()) ThrowType(c, "n must be a number");
  if (!(x >= 0) || x != double(uint64_t(x)) || x > 9007199254740991.0 / 4) ThrowRange(c, "n must be an integer >= 0 (elements)");
  Napi::Object obj = NewInternal<TensorHandle>(Data(info.Env()).tensor_class);
  TensorHandle::Unwrap(obj)->storage = Storage::Allocate(Backend::kCpu, size_t(x) * sizeof(float));
  return obj;
}

}  // namespace

std::shared_ptr<Storage> TensorStorage(Napi::Env env, Napi::Value v) {
  if (!v.IsObject() || v.IsTypedArray()) return nullptr;
  if (!v.As<Napi::Object>().InstanceOf(Data(env).tensor_class.Value())) return nullptr;
  try {
    TensorHandle* h = TensorHandle::Unwrap(v.As<Napi::Object>());
    return h ? h->storage : nullptr;
  } catch (const Napi::Error&) {
    return nullptr;
  }
}

void RegisterTensor(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = TensorHandle::Define(env);
  Data(env).tensor_class = Napi::Persistent(cls);
  exports.Set("Tensor", cls);
  exports.Set("engineTensor", Napi::Function::New(env, EngineTensor, "engineTensor"));
}

}  // namespace binding
}  // namespace evnn
