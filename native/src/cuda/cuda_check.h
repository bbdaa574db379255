// CUDA error checks for the CUDA backend: a failed runtime call or kernel launch becomes a
// std::runtime_error naming the call, the file and line, and CUDA's message.
#pragma once
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace evnn {
namespace cuda {

inline void check(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("evnn CUDA: ") + what + " failed at " + file + ":" + std::to_string(line) +
                             ": " + cudaGetErrorString(e));
}

}  // namespace cuda
}  // namespace evnn

#define EVNN_CUDA_CHECK(call) ::evnn::cuda::check((call), #call, __FILE__, __LINE__)
// after a kernel launch: the launch's own error (bad configuration), not the kernel's completion
#define EVNN_CUDA_LAUNCHED(name) ::evnn::cuda::check(cudaGetLastError(), name, __FILE__, __LINE__)
