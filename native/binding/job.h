// One code path for the sync and the *Async variant of a binding function.
//
// A Job is validated and its outputs allocated on the main thread (the make-function throws JS
// TypeError/RangeError for bad input); Execute() is pure engine math on raw pointers and may run
// on a libuv worker thread; Result() builds the JS return value on the main thread. The job keeps
// references to every typed array it reads or writes, so none can be collected while the worker
// runs. A sync call runs the three steps in a row; an async call returns a Promise that rejects
// with the same errors (validation or engine exceptions) and resolves with the same value.
#pragma once
#include <napi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace evnn {
namespace binding {

using Ref = Napi::Reference<Napi::Value>;

// A strong reference to v (an empty Ref for an empty handle, i.e. a null argument). Jobs hold
// their outputs this way: plain handles die with the call's HandleScope, references do not.
inline Ref Hold(Napi::Value v) { return v.IsEmpty() ? Ref() : Napi::Persistent(v); }

// The referenced value, or null for an empty Ref.
inline Napi::Value ValueOrNull(Napi::Env env, const Ref& r) { return r.IsEmpty() ? env.Null() : r.Value(); }

// A new zero-filled Float32Array of n elements, held by the returned Ref; *data receives its
// storage for the engine to write.
inline Ref NewOutput(Napi::Env env, uint64_t n, float** data) {
  Napi::Float32Array a = Napi::Float32Array::New(env, n);
  *data = a.Data();
  return Hold(a);
}

// Base for jobs: keeps the input arrays alive while the job exists.
class JobBase {
 public:
  template <typename T>
  T Keep(T v) {
    if (!v.IsEmpty()) inputs_.push_back(Napi::Persistent(Napi::Value(v)));
    return v;
  }

 private:
  std::vector<Ref> inputs_;
};

// Raw data of a typed array that may be an empty handle (null argument).
template <typename T>
auto DataOrNull(const T& a) -> decltype(a.Data()) {
  return a.IsEmpty() ? nullptr : a.Data();
}

template <typename Job>
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Job&& job, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "evnn"), job_(std::move(job)), deferred_(deferred) {}

  void Execute() override {
    try {
      job_.Execute();
    } catch (const std::exception& e) {
      SetError(e.what()[0] ? e.what() : "native error");
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() override { deferred_.Resolve(job_.Result(Env())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
};

// make(info) -> Job. Runs the job now and returns its result; errors throw into JS.
template <typename Make>
Napi::Value RunSync(const Napi::CallbackInfo& info, Make make) {
  auto job = make(info);
  try {
    job.Execute();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return job.Result(info.Env());
}

// make(info) -> Job. Queues the job's Execute on the libuv pool and returns a Promise.
template <typename Make>
Napi::Value RunAsync(const Napi::CallbackInfo& info, Make make) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  try {
    auto job = make(info);
    auto* worker = new JobWorker<decltype(job)>(env, std::move(job), deferred);
    worker->Queue();
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  } catch (const std::exception& e) {
    deferred.Reject(Napi::Error::New(env, e.what()).Value());
  }
  return deferred.Promise();
}

// Exports `name` (runs now) and `name`Async (returns a Promise), both built by one
// make(info, fn) -> Job; fn is the exported name that validation errors carry.
template <typename Job>
void ExportSyncAndAsync(Napi::Env env, Napi::Object exports, const std::string& name,
                        Job (*make)(const Napi::CallbackInfo&, const char*)) {
  const std::string async = name + "Async";
  exports.Set(name, Napi::Function::New(env, [make, name](const Napi::CallbackInfo& info) {
    return RunSync(info, [&](const Napi::CallbackInfo& i) { return make(i, name.c_str()); });
  }, name));
  exports.Set(async, Napi::Function::New(env, [make, async](const Napi::CallbackInfo& info) {
    return RunAsync(info, [&](const Napi::CallbackInfo& i) { return make(i, async.c_str()); });
  }, async));
}

}  // namespace binding
}  // namespace evnn
