// info(), setThreads(n), setGemmKernel(name): what this build contains and the engine's
// run-time settings.
#include <napi.h>

#include <string>

#include "args.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"
#include "register.h"

#ifdef EVNN_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#ifndef EVNN_VERSION
#define EVNN_VERSION "unknown"
#endif
#ifndef EVNN_CUDA_STATUS
#define EVNN_CUDA_STATUS "unknown"
#endif

namespace evnn {
namespace binding {
namespace {

// Most threads setThreads accepts: far above any real core count, low enough that a typo
// cannot ask the OS for a million threads.
constexpr int kMaxThreads = 1024;

Napi::Value CudaInfo(Napi::Env env) {
  Napi::Object cuda = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
#ifdef EVNN_HAVE_CUDA
  cuda.Set("compiled", true);
  int count = 0;
  // No driver or no device: report none (the CPU backend still works).
  if (cudaGetDeviceCount(&count) == cudaSuccess) {
    for (int i = 0; i < count; ++i) {
      cudaDeviceProp prop;
      if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
      Napi::Object d = Napi::Object::New(env);
      d.Set("name", std::string(prop.name));
      d.Set("memoryBytes", double(prop.totalGlobalMem));
      devices.Set(devices.Length(), d);
    }
  } else {
    cudaGetLastError();  // clear the sticky error for later calls
  }
#else
  cuda.Set("compiled", false);
#endif
  cuda.Set("devices", devices);
  cuda.Set("build", EVNN_CUDA_STATUS);  // what CMake found: on, a compile check only, or off and why
  return cuda;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", EVNN_VERSION);
  o.Set("gemm", gemm_kernel_name(gemm_kernel()));
  Napi::Array kernels = Napi::Array::New(env);
  if (gemm_has_openblas()) kernels.Set(kernels.Length(), gemm_kernel_name(GemmKernel::OpenBLAS));
  kernels.Set(kernels.Length(), gemm_kernel_name(GemmKernel::Builtin));
  o.Set("gemmKernels", kernels);
  o.Set("simd", EVNN_SIMD);
  o.Set("threads", num_threads());
  o.Set("cuda", CudaInfo(env));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "setThreads"};
  set_num_threads(PositiveInt(c, Arg(info, 0), "n", kMaxThreads));
  return info.Env().Undefined();
}

Napi::Value SetGemmKernel(const Napi::CallbackInfo& info) {
  const Ctx c{info.Env(), "setGemmKernel"};
  Napi::Value v = Arg(info, 0);
  if (!v.IsString()) ThrowType(c, "kernel must be a string ('openblas' or 'builtin')");
  const std::string name = v.As<Napi::String>().Utf8Value();
  if (name == gemm_kernel_name(GemmKernel::Builtin)) {
    set_gemm_kernel(GemmKernel::Builtin);
  } else if (name == gemm_kernel_name(GemmKernel::OpenBLAS)) {
    if (!gemm_has_openblas()) ThrowRange(c, "kernel 'openblas' is not compiled into this build (compiled: builtin)");
    set_gemm_kernel(GemmKernel::OpenBLAS);
  } else {
    ThrowRange(c, "kernel must be 'openblas' or 'builtin', got '" + name + "'");
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setGemmKernel", Napi::Function::New(env, SetGemmKernel, "setGemmKernel"));
}

}  // namespace binding
}  // namespace evnn
