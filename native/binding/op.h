// One generic marshaller for every engine operation. An operation is described once by a table
// (OpSpec): its dimensions, scalar options, typed-array inputs with their shape rules, and the
// outputs it allocates — returned to JavaScript, or kept engine-side in the saved-for-backward
// handle that its backward reads. The marshaller validates every argument (TypeError/RangeError
// naming the function and the argument), allocates the outputs, and runs the operation's
// Execute — now (name) or on a worker thread (nameAsync) — in an engine Context.
//
// Saved-for-backward state is engine-owned: JavaScript holds an opaque `saved` handle, never the
// cache itself, so a CUDA backend can keep it on the device.
#pragma once
#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "evnn/context.h"
#include "evnn/masks.h"
#include "evnn/storage.h"

namespace evnn {
namespace binding {

enum class DType { kF32, kU8, kI32 };

// A typed-array input. shape is a rule over dimension names and integers with * and + (and
// parentheses): "T*N*C", "3*H", "T*N*(2*C+6*H)"; the same text appears in the length error.
struct TensorSpec {
  const char* name;
  DType dtype;
  const char* shape;
  bool optional = false;  // null accepted
  bool absent_ok = false;  // (optional only) an absent field (undefined) reads as null too
};

enum class ScalarKind {
  kBool,
  kNonNegative,  // finite, >= 0
  kUnit,         // [0, 1)
  kCount,        // an integer >= 0 (a budget)
};

struct ScalarSpec {
  const char* name;
  ScalarKind kind;
  bool optional = false;  // absent (undefined) reads as `fallback`
  double fallback = 0;
};

// An output the operation allocates. `when` names a boolean scalar that asks for it (null:
// always). A returned output is a new (zero-filled) typed array; a saved output lives in the
// saved-for-backward handle instead, uninitialised: the forward must write all of it.
struct OutputSpec {
  const char* name;
  DType dtype;
  const char* shape;
  const char* when = nullptr;
  bool saved = false;
};

struct OpSpec {
  const char* name;
  std::vector<const char*> dims;  // integers >= 1
  std::vector<const char*> fit_int;  // products of dims that become GEMM sizes (int32), e.g. "T*N"
  std::vector<ScalarSpec> scalars;
  std::vector<TensorSpec> inputs;
  std::vector<OutputSpec> outputs;
  // A forward: the inputs and returned outputs its backward reads again; the handle holds them.
  // The handle is made when the op has saved outputs or keeps something, and (if the op has a
  // `training` flag) only in training.
  std::vector<const char*> keep;
  // A backward: reads `saved`, the handle of this forward, whose dims must equal its own. A dim
  // absent from a backward's arguments (undefined) is taken from the handle.
  const char* reads_saved = nullptr;
  // Reads `noise`: null, or {seed, epoch, batch, layer} (safe integers >= 0) keying Philox masks.
  bool noise = false;
  // An absent `noise` reads as null (ops whose masks are an option most callers do not use).
  bool noise_optional = false;
};

// What a forward keeps for its backward: engine buffers and references to JavaScript arrays.
// Released when the handle is collected or release() is called; a job holds it while it runs.
class SavedState {
 public:
  std::string made_by;
  std::map<std::string, int64_t> dims;
  struct Buffer {
    std::unique_ptr<uint8_t[]> owned;  // engine-owned, or
    Napi::Reference<Napi::Value> ref;  // a JavaScript array kept alive, or
    std::shared_ptr<Storage> storage;  // an engine tensor given as an argument
    void* data = nullptr;
    size_t bytes = 0;
  };
  std::map<std::string, Buffer> buffers;
  std::map<std::string, double> nums;  // the forward's scalar options, read again by its backward
  // Engine state of a size known only after the forward ran (e.g. compact event sets), made by
  // the op's Execute; its bytes count as owned.
  struct Object {
    virtual ~Object() = default;
    virtual size_t bytes() const = 0;
  };
  std::shared_ptr<Object> object;
  size_t owned_bytes() const;
};

struct NoiseKey {
  uint64_t seed = 0;
  uint32_t epoch = 0, batch = 0, layer = 0;
  masks::Key For(masks::Purpose p) const { return masks::Key{seed, epoch, batch, layer, p}; }
};

// One call's marshalled arguments: pointers by name into inputs, outputs and the saved handle.
class OpCall {
 public:
  int64_t dim(const char* name) const;
  double num(const char* name) const;
  bool flag(const char* name) const { return num(name) != 0.0; }
  // A tensor by name (input, output, or saved buffer); null when absent or not asked for.
  float* f32(const char* name) const { return static_cast<float*>(ptr(name)); }
  uint8_t* u8(const char* name) const { return static_cast<uint8_t*>(ptr(name)); }
  int32_t* i32(const char* name) const { return static_cast<int32_t*>(ptr(name)); }
  bool has(const char* name) const { return ptr(name) != nullptr; }
  const NoiseKey* noise() const { return has_noise_ ? &noise_ : nullptr; }
  // The value of a shape rule (as in the tables, e.g. "T*N*(2*C+6*H)") over this call's dims.
  uint64_t shape(const Ctx& c, const char* rule) const;
  // A number returned under result.stats.
  void stat(const char* name, double v) { stats_[name] = v; }

  // For CheckFns: a derived scalar (e.g. a flag that an output's `when` reads), a tensor taken
  // from elsewhere (another handle), and a handle to keep alive for the call.
  void set(const char* name, double v) { nums_[name] = v; }
  void set_tensor(const char* name, void* p) { tensors_[name] = p; }
  void hold(std::shared_ptr<SavedState> s) { held_.push_back(std::move(s)); }
  // More for CheckFns: a derived dim (output shapes may name it), an input not to keep in the
  // handle (in this call's mode its backward does not read it), a JavaScript array read outside
  // the tables (kept alive while the call runs), another handle by name for Execute.
  void set_dim(const char* name, int64_t v) { dims_[name] = v; }
  void skip_keep(const char* name) { skip_keep_.emplace_back(name); }
  void hold_value(Napi::Value v) { held_values_.push_back(Napi::Persistent(v)); }
  void hold(const char* name, std::shared_ptr<SavedState> s) { handles_[name] = std::move(s); }
  SavedState* handle(const char* name) const {
    const auto it = handles_.find(name);
    return it == handles_.end() ? nullptr : it->second.get();
  }
  // For Execute: this call's own saved state (the handle a forward makes, the one a backward
  // reads; null when none), and a number returned as a top-level field of the result.
  SavedState* saved_state() const { return saved_.get(); }
  void result(const char* name, double v) { results_[name] = v; }

 private:
  friend class Marshaller;
  void* ptr(const char* name) const;
  std::map<std::string, int64_t> dims_;
  std::map<std::string, double> nums_;
  std::map<std::string, void*> tensors_;
  std::map<std::string, double> stats_;
  std::map<std::string, double> results_;
  std::shared_ptr<SavedState> saved_;
  std::vector<std::shared_ptr<SavedState>> held_;
  std::map<std::string, std::shared_ptr<SavedState>> handles_;
  std::vector<std::string> skip_keep_;
  std::vector<Napi::Reference<Napi::Value>> held_values_;
  NoiseKey noise_;
  bool has_noise_ = false;
  friend struct OpJob;
};

// Extra checks on the main thread after the generic ones, before outputs are allocated (may throw
// via ThrowType/ThrowRange); args is the call's argument object.
using CheckFn = void (*)(const Ctx& c, const Napi::Object& args, OpCall& call);

// The state behind a Saved handle given as argument `name` (TypeError unless v is one made by
// `made_by`, or by any operation when made_by is null; RangeError when released).
std::shared_ptr<SavedState> ReadSaved(const Ctx& c, Napi::Value v, const char* made_by, const char* name);
// The engine work; runs on a worker thread for the Async variant. Exceptions become JS errors.
using ExecuteFn = void (*)(const Context& ctx, OpCall& call);

// Exports spec.name (runs now) and spec.name + "Async" (a Promise).
void ExportOp(Napi::Env env, Napi::Object exports, const OpSpec& spec, CheckFn check, ExecuteFn execute);

// The Saved class (registered once by the module).
void RegisterSaved(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace evnn
