// Optimizer steps and the global gradient norm on the device (kernels.h; the CPU's are
// src/cpu/optim.cc): the same element formulas (src/cpu/optim_step.h, host and device code), the
// same fixed norm blocks, each summed in float64 by one thread block and then added in order on
// the host.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "cuda_check.h"
#include "kernels.h"
#include "launch.h"
#include "optim_step.h"

namespace evnn {
namespace cuda {
namespace {

__global__ void sgd_kernel(optim::SgdScalars s, size_t n, float* p, const float* g, float* buf) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    optim::sgd_element(s, p[i], g[i], buf ? &buf[i] : nullptr);
}

__global__ void adam_kernel(optim::AdamScalars s, size_t n, float* p, const float* g, float* m, float* v) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    optim::adam_element(s, p[i], g[i], m[i], v[i]);
}

// partial[b] = Σ x² over norm block b (one thread block each), in float64.
__global__ void norm_blocks_kernel(const float* x, size_t n, double* partial) {
  __shared__ double lane[kThreads];
  const size_t i0 = size_t(blockIdx.x) * optim::kNormBlock;
  const size_t i1 = min(n, i0 + size_t(optim::kNormBlock));
  double s = 0.0;
  for (size_t i = i0 + threadIdx.x; i < i1; i += blockDim.x) s += double(x[i]) * double(x[i]);
  lane[threadIdx.x] = s;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) lane[threadIdx.x] += lane[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = lane[0];
}

__global__ void scale_kernel(float* x, size_t n, float c) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) x[i] *= c;
}

}  // namespace

void SgdStep(cudaStream_t stream, size_t n, float* p, const float* g, float* buf, const optim::SgdOptions& o) {
  if (o.momentum != 0.0 && buf == nullptr) throw std::invalid_argument("evnn::cuda::SgdStep: momentum buffer is null");
  if (n == 0) return;
  const optim::SgdScalars s = optim::sgd_scalars(o);
  sgd_kernel<<<grid_for(n), kThreads, 0, stream>>>(s, n, p, g, s.mom != 0.0f ? buf : nullptr);
  EVNN_CUDA_LAUNCHED("optim SgdStep");
}

void AdamStep(cudaStream_t stream, size_t n, float* p, const float* g, float* m, float* v, const optim::AdamOptions& o) {
  if (o.step < 1) throw std::invalid_argument("evnn::cuda::AdamStep: step must be >= 1");
  if (n == 0) return;
  adam_kernel<<<grid_for(n), kThreads, 0, stream>>>(optim::adam_scalars(o), n, p, g, m, v);
  EVNN_CUDA_LAUNCHED("optim AdamStep");
}

double GlobalNorm(cudaStream_t stream, const optim::Span* grads, size_t count) {
  double total = 0.0;
  std::vector<double> host;
  for (size_t a = 0; a < count; ++a) {
    const size_t n = grads[a].size;
    if (n == 0) continue;
    const size_t blocks = (n + optim::kNormBlock - 1) / optim::kNormBlock;
    double* partial = nullptr;
    EVNN_CUDA_CHECK(cudaMallocAsync(&partial, blocks * sizeof(double), stream));
    norm_blocks_kernel<<<unsigned(blocks), kThreads, 0, stream>>>(grads[a].data, n, partial);
    EVNN_CUDA_LAUNCHED("optim GlobalNorm");
    host.resize(blocks);
    EVNN_CUDA_CHECK(cudaMemcpyAsync(host.data(), partial, blocks * sizeof(double), cudaMemcpyDeviceToHost, stream));
    EVNN_CUDA_CHECK(cudaFreeAsync(partial, stream));
    EVNN_CUDA_CHECK(cudaStreamSynchronize(stream));
    for (double s : host) total += s;  // in block order, as the CPU adds them
  }
  return std::sqrt(total);
}

double ClipGlobalNorm(cudaStream_t stream, const optim::Span* grads, size_t count, double max_norm) {
  const double norm = GlobalNorm(stream, grads, count);
  const float coef = optim::clip_coef(norm, max_norm);
  if (coef < 1.0f) {
    for (size_t a = 0; a < count; ++a) {
      if (grads[a].size == 0) continue;
      scale_kernel<<<grid_for(grads[a].size), kThreads, 0, stream>>>(grads[a].data, grads[a].size, coef);
      EVNN_CUDA_LAUNCHED("optim ClipGlobalNorm");
    }
  }
  return norm;
}

}  // namespace cuda
}  // namespace evnn
