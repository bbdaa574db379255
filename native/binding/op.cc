// The generic marshaller behind every OpSpec table (see op.h).
#include "op.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "addon_data.h"
#include "engine_tensor.h"
#include "job.h"

namespace evnn {
namespace binding {

size_t SavedState::owned_bytes() const {
  size_t n = 0;
  for (const auto& [name, b] : buffers) n += b.owned ? b.bytes : 0;
  return n + (object ? object->bytes() : 0);
}

namespace {

size_t ElementBytes(DType t) { return t == DType::kU8 ? 1 : 4; }

// The value of a shape rule such as "T*N*C", "3*H" or "T*N*(2*C+6*H)" over the call's dims:
//   rule := sum;  sum := term ('+' term)*;  term := factor ('*' factor)*;
//   factor := integer | dim name | '(' sum ')'
// A rule is part of an op's table, so a bad one is a programming error (std::logic_error); a
// value past 2^53 is a RangeError, as for the products of dims.
class ShapeRule {
 public:
  ShapeRule(const Ctx& c, const std::string& rule, const std::map<std::string, int64_t>& dims)
      : c_(c), rule_(rule), dims_(dims) {}

  uint64_t Eval() {
    const uint64_t v = Sum();
    if (at_ != rule_.size()) Malformed("an operator or the end");
    return v;
  }

 private:
  uint64_t Sum() {
    uint64_t s = Term();
    while (at_ < rule_.size() && rule_[at_] == '+') {
      ++at_;
      const uint64_t v = Term();
      if (s > kMaxShape - v) ThrowRange(c_, "the dimensions are too large (" + rule_ + " exceeds 2^53)");
      s += v;
    }
    return s;
  }
  uint64_t Term() {
    uint64_t p = Factor();
    while (at_ < rule_.size() && rule_[at_] == '*') {
      ++at_;
      p = Product(c_, {p, Factor()});
    }
    return p;
  }
  uint64_t Factor() {
    if (at_ < rule_.size() && rule_[at_] == '(') {
      ++at_;
      const uint64_t v = Sum();
      if (at_ >= rule_.size() || rule_[at_] != ')') Malformed("')'");
      ++at_;
      return v;
    }
    const size_t begin = at_;
    while (at_ < rule_.size() && (std::isalnum(static_cast<unsigned char>(rule_[at_])) || rule_[at_] == '_')) ++at_;
    const std::string term = rule_.substr(begin, at_ - begin);
    if (term.empty()) Malformed("a dim or an integer");
    if (term[0] >= '0' && term[0] <= '9') {
      if (term.find_first_not_of("0123456789") != std::string::npos) {
        at_ = begin;
        Malformed("an integer");
      }
      return std::stoull(term);
    }
    const auto it = dims_.find(term);
    if (it == dims_.end()) throw std::logic_error(std::string(c_.fn) + ": shape rule names unknown dim " + term);
    return uint64_t(it->second);
  }
  [[noreturn]] void Malformed(const char* expected) const {
    throw std::logic_error(std::string(c_.fn) + ": shape rule " + rule_ + " is malformed (expected " + expected +
                           " at character " + std::to_string(at_) + ")");
  }

  static constexpr uint64_t kMaxShape = 9007199254740991ull;  // 2^53 - 1, as Product's bound
  const Ctx& c_;
  const std::string& rule_;
  const std::map<std::string, int64_t>& dims_;
  size_t at_ = 0;
};

uint64_t EvalShape(const Ctx& c, const std::string& rule, const std::map<std::string, int64_t>& dims) {
  return ShapeRule(c, rule, dims).Eval();
}

// The Saved class: an opaque JavaScript handle on a SavedState.
class SavedHandle : public Napi::ObjectWrap<SavedHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Saved", {
      InstanceMethod<&SavedHandle::Release>("release"),
      InstanceAccessor<&SavedHandle::Bytes>("bytes"),
      InstanceAccessor<&SavedHandle::MadeBy>("madeBy"),
    });
  }
  explicit SavedHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SavedHandle>(info) {
    if (!constructing) throw Napi::TypeError::New(info.Env(), "Saved handles are made by the forward operations, not by new Saved()");
  }
  ~SavedHandle() override { Drop(Env()); }

  // Takes the state, and tells the JavaScript collector how much memory hangs on this small
  // object, so a training loop that never calls release() still gets its handles collected.
  void Adopt(Napi::Env env, std::shared_ptr<SavedState> s) {
    state = std::move(s);
    accounted_ = int64_t(state->owned_bytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, accounted_);
  }
  std::shared_ptr<SavedState> state;
  static inline bool constructing = false;  // set while NewSavedHandle makes one

 private:
  void Drop(Napi::Env env) {
    state.reset();
    if (accounted_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
    accounted_ = 0;
  }
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Drop(info.Env());
    return info.Env().Undefined();
  }
  int64_t accounted_ = 0;
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), state ? double(state->owned_bytes()) : 0.0); }
  Napi::Value MadeBy(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), state ? state->made_by : ""); }
};

Napi::Object NewSavedHandle(Napi::Env env, std::shared_ptr<SavedState> state) {
  Napi::Object obj = NewInternal<SavedHandle>(Data(env).saved_class);
  SavedHandle::Unwrap(obj)->Adopt(env, std::move(state));
  return obj;
}

}  // namespace

std::shared_ptr<SavedState> ReadSaved(const Ctx& c, Napi::Value v, const char* made_by, const char* name) {
  const std::string what = std::string(name) + " must be the handle from " + (made_by ? made_by : "a forward") + " with training: true";
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(c.env).saved_class.Value())) {
    ThrowType(c, what);
  }
  SavedHandle* h = nullptr;
  try {
    h = SavedHandle::Unwrap(v.As<Napi::Object>());
  } catch (const Napi::Error&) {
    h = nullptr;  // the class's prototype without a native object behind it
  }
  if (h == nullptr) ThrowType(c, what + " (got an object with no engine state)");
  std::shared_ptr<SavedState> s = h->state;
  if (!s) ThrowRange(c, std::string(name) + " was released (a saved handle serves its backward until release())");
  if (made_by && s->made_by != made_by) ThrowType(c, what + ", got one from " + s->made_by);
  return s;
}

int64_t OpCall::dim(const char* name) const {
  const auto it = dims_.find(name);
  if (it == dims_.end()) throw std::logic_error(std::string("unknown dim ") + name);
  return it->second;
}

uint64_t OpCall::shape(const Ctx& c, const char* rule) const { return EvalShape(c, rule, dims_); }

double OpCall::num(const char* name) const {
  const auto it = nums_.find(name);
  if (it != nums_.end()) return it->second;
  if (saved_) {
    const auto s = saved_->nums.find(name);
    if (s != saved_->nums.end()) return s->second;
  }
  throw std::logic_error(std::string("unknown scalar ") + name);
}

void* OpCall::ptr(const char* name) const {
  const auto it = tensors_.find(name);
  if (it != tensors_.end()) return it->second;
  if (saved_) {
    const auto s = saved_->buffers.find(name);
    if (s != saved_->buffers.end()) return s->second.data;
  }
  return nullptr;
}

struct OpJob {
  const OpSpec* spec = nullptr;
  ExecuteFn execute = nullptr;
  OpCall call;
  std::vector<Ref> inputs;                           // kept alive while a worker runs
  std::vector<std::shared_ptr<Storage>> storages;    // engine tensors given as arguments
  std::vector<std::pair<std::string, Ref>> returned;  // result fields (empty Ref: null)
  bool made_handle = false;

  void Execute() { execute(ThreadContext(), call); }

  Napi::Value Result(Napi::Env env) {
    Napi::Object r = Napi::Object::New(env);
    for (const auto& [name, ref] : returned) r.Set(name, ValueOrNull(env, ref));
    for (const auto& [name, v] : call.results_) r.Set(name, v);
    if (made_handle) r.Set("saved", NewSavedHandle(env, call.saved_));
    else if (!spec->reads_saved && (!spec->keep.empty() || HasSavedOutputs())) r.Set("saved", env.Null());
    if (!call.stats_.empty()) {
      Napi::Object s = Napi::Object::New(env);
      for (const auto& [name, v] : call.stats_) s.Set(name, v);
      r.Set("stats", s);
    }
    return r;
  }

  bool HasSavedOutputs() const {
    for (const OutputSpec& o : spec->outputs) if (o.saved) return true;
    return false;
  }
};

class Marshaller {
 public:
  static OpJob Read(const Napi::CallbackInfo& info, const char* fn, const OpSpec& spec, CheckFn check, ExecuteFn execute) {
    const Ctx c{info.Env(), fn};
    Napi::Env env = info.Env();
    OpJob job;
    job.spec = &spec;
    job.execute = execute;
    OpCall& call = job.call;
    Napi::Object o = ObjectArg(c, Arg(info, 0), "args");
    for (const char* d : spec.dims) {
      if (spec.reads_saved && o.Get(d).IsUndefined()) continue;  // taken from the handle below
      call.dims_[d] = PositiveInt(c, Field(c, o, d), d);
    }
    if (!spec.reads_saved)
      for (const char* rule : spec.fit_int) CheckFitsInt(c, EvalShape(c, rule, call.dims_), rule);
    for (const ScalarSpec& s : spec.scalars) {
      if (s.optional && o.Get(s.name).IsUndefined()) {
        call.nums_[s.name] = s.fallback;
        continue;
      }
      Napi::Value v = Field(c, o, s.name);
      double x = 0;
      switch (s.kind) {
        case ScalarKind::kBool: x = Bool(c, v, s.name) ? 1.0 : 0.0; break;
        case ScalarKind::kNonNegative: x = FiniteAtLeast(c, v, s.name, 0.0); break;
        case ScalarKind::kUnit: x = FiniteInUnit(c, v, s.name); break;
        case ScalarKind::kCount: x = double(uint64_t(FiniteAtLeast(c, v, s.name, 0.0))); break;
      }
      call.nums_[s.name] = x;
    }
    if (spec.reads_saved) {
      call.saved_ = ReadSaved(c, Field(c, o, "saved"), spec.reads_saved, "saved");
      for (const auto& [d, v] : call.dims_) {
        const auto it = call.saved_->dims.find(d);
        if (it != call.saved_->dims.end() && it->second != v) {
          ThrowRange(c, "saved was made with " + d + " = " + std::to_string(it->second) + ", got " + d + " = " + std::to_string(v));
        }
      }
      for (const char* d : spec.dims) {
        if (call.dims_.count(d)) continue;
        const auto it = call.saved_->dims.find(d);
        if (it == call.saved_->dims.end()) call.dims_[d] = PositiveInt(c, Field(c, o, d), d);  // not in it: required
        else call.dims_[d] = it->second;
      }
      for (const char* rule : spec.fit_int) CheckFitsInt(c, EvalShape(c, rule, call.dims_), rule);
    }
    if (spec.noise && !(spec.noise_optional && o.Get("noise").IsUndefined())) ReadNoise(c, Field(c, o, "noise"), &call);
    std::map<std::string, Napi::Value> arrays;                 // for keep: typed arrays
    std::map<std::string, std::shared_ptr<Storage>> engine;   // and engine tensors
    for (const TensorSpec& t : spec.inputs) {
      if (t.optional && t.absent_ok && o.Get(t.name).IsUndefined()) {
        call.tensors_[t.name] = nullptr;
        continue;
      }
      Napi::Value v = Field(c, o, t.name);
      if (t.dtype == DType::kF32) {
        if (std::shared_ptr<Storage> st = TensorStorage(env, v)) {  // an engine tensor
          const uint64_t expected = EvalShape(c, t.shape, call.dims_);
          const uint64_t len = st->bytes() / sizeof(float);
          if (len != expected) {
            ThrowRange(c, std::string(t.name) + " has length " + std::to_string(len) + ", expected " + t.shape + " = " + std::to_string(expected));
          }
          call.tensors_[t.name] = st->data();
          engine[t.name] = st;
          job.storages.push_back(std::move(st));
          continue;
        }
      }
      Napi::TypedArray a;
      if (t.dtype == DType::kF32) {
        a = t.optional ? F32OrNull(c, v, t.name) : F32(c, v, t.name);
      } else if (t.dtype == DType::kI32) {
        if (t.optional && v.IsNull()) a = Napi::TypedArray();
        else a = I32(c, v, t.name);
      } else {
        a = U8OrNull(c, v, t.name);
        if (a.IsEmpty() && !t.optional) ThrowType(c, std::string(t.name) + " must be a Uint8Array, got null");
      }
      if (a.IsEmpty()) {
        call.tensors_[t.name] = nullptr;
        continue;
      }
      CheckLength(c, a, t.name, EvalShape(c, t.shape, call.dims_), t.shape);
      job.inputs.push_back(Hold(a));
      call.tensors_[t.name] = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
      arrays[t.name] = a;
    }
    const bool training = !call.nums_.count("training") || call.nums_.at("training") != 0.0;
    if (!spec.reads_saved && training && (!spec.keep.empty() || job.HasSavedOutputs())) {
      call.saved_ = std::make_shared<SavedState>();
      call.saved_->made_by = spec.name;
      call.saved_->dims = call.dims_;
      job.made_handle = true;
    }
    if (check) check(c, o, call);  // before allocating: it may reject the call or derive flags
    if (job.made_handle) call.saved_->nums = call.nums_;
    for (const OutputSpec& out : spec.outputs) {
      const bool wanted = out.when == nullptr || call.flag(out.when);
      if (out.saved) {
        if (!wanted || !call.saved_ || spec.reads_saved) continue;
        const size_t bytes = EvalShape(c, out.shape, call.dims_) * ElementBytes(out.dtype);
        SavedState::Buffer b;
        // Not zero-filled: the forward writes every element of what it saves.
        b.owned.reset(new uint8_t[bytes > 0 ? bytes : 1]);
        b.data = b.owned.get();
        b.bytes = bytes;
        call.saved_->buffers[out.name] = std::move(b);
        continue;
      }
      if (!wanted) {
        call.tensors_[out.name] = nullptr;
        job.returned.emplace_back(out.name, Ref());
        continue;
      }
      const uint64_t n = EvalShape(c, out.shape, call.dims_);
      Napi::TypedArray a;
      if (out.dtype == DType::kF32) a = Napi::Float32Array::New(env, n);
      else if (out.dtype == DType::kI32) a = Napi::Int32Array::New(env, n);
      else a = Napi::Uint8Array::New(env, n);
      call.tensors_[out.name] = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
      job.returned.emplace_back(out.name, Hold(a));
      arrays[out.name] = a;
    }
    if (job.made_handle) {
      for (const char* k : spec.keep) {
        if (std::find(call.skip_keep_.begin(), call.skip_keep_.end(), k) != call.skip_keep_.end()) continue;
        if (const auto e = engine.find(k); e != engine.end()) {
          SavedState::Buffer b;
          b.storage = e->second;
          b.data = e->second->data();
          b.bytes = e->second->bytes();
          call.saved_->buffers[k] = std::move(b);
          continue;
        }
        const auto it = arrays.find(k);
        if (it == arrays.end()) continue;  // an optional input given as null
        SavedState::Buffer b;
        b.ref = Napi::Persistent(it->second);
        b.data = call.tensors_[k];
        b.bytes = it->second.As<Napi::TypedArray>().ByteLength();
        call.saved_->buffers[k] = std::move(b);
      }
    }
    return job;
  }

 private:
  static void ReadNoise(const Ctx& c, Napi::Value v, OpCall* call) {
    if (v.IsNull()) return;
    Napi::Object o = ObjectArg(c, v, "noise");
    const auto part = [&](const char* name, double max) {
      Napi::Value field = o.Get(name);
      if (field.IsUndefined()) ThrowType(c, std::string("noise.") + name + " is missing (undefined)");
      const double x = Finite(c, field, std::string("noise.") + name);
      if (x < 0 || x != double(uint64_t(x)) || x > max) {
        ThrowRange(c, std::string("noise.") + name + " must be an integer in [0, " + std::to_string(uint64_t(max)) + "]");
      }
      return uint64_t(x);
    };
    call->noise_.seed = part("seed", 9007199254740991.0);
    call->noise_.epoch = uint32_t(part("epoch", 4294967295.0));
    call->noise_.batch = uint32_t(part("batch", 4294967295.0));
    call->noise_.layer = uint32_t(part("layer", 4294967295.0));
    call->has_noise_ = true;
  }
};

void ExportOp(Napi::Env env, Napi::Object exports, const OpSpec& spec, CheckFn check, ExecuteFn execute) {
  const std::string name = spec.name;
  const std::string async = name + "Async";
  const OpSpec* s = &spec;
  exports.Set(name, Napi::Function::New(env, [s, check, execute, name](const Napi::CallbackInfo& info) {
    return RunSync(info, [&](const Napi::CallbackInfo& i) { return Marshaller::Read(i, name.c_str(), *s, check, execute); });
  }, name));
  exports.Set(async, Napi::Function::New(env, [s, check, execute, async](const Napi::CallbackInfo& info) {
    return RunAsync(info, [&](const Napi::CallbackInfo& i) { return Marshaller::Read(i, async.c_str(), *s, check, execute); });
  }, async));
}

void RegisterSaved(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = SavedHandle::Define(env);
  Data(env).saved_class = Napi::Persistent(cls);
  exports.Set("Saved", cls);
}

}  // namespace binding
}  // namespace evnn
