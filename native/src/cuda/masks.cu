// Philox keep-masks on the device (kernels.h; the CPU's are src/cpu/masks.cc): one thread per block
// of 4 stream outputs, so element i gets word i mod 4 of block i / 4, as on the CPU.

#include "cuda_check.h"
#include "evnn/rng.h"
#include "kernels.h"
#include "launch.h"
#include "philox_math.h"

namespace evnn {
namespace cuda {
namespace {

__global__ void bernoulli_kernel(uint64_t seed, float p, size_t n, uint8_t* keep) {
  const size_t blocks = (n + 3) / 4;
  for (size_t b = blockIdx.x * size_t(blockDim.x) + threadIdx.x; b < blocks; b += size_t(gridDim.x) * blockDim.x) {
    const rng::Block r = rng::philox_block(b, seed);  // the CPU's block function (philox_math.h)
    const size_t i0 = b * 4;
    for (int w = 0; w < 4 && i0 + w < n; ++w) keep[i0 + w] = rng::ToUniform(r.v[w]) >= p ? 1 : 0;
  }
}

__global__ void apply_keep_kernel(const float* x, const uint8_t* keep, float scale, size_t n, float* y) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] = keep[i] ? x[i] * scale : 0.0f;
}

__global__ void apply_row_keep_kernel(const float* w, const uint8_t* keep, float scale, size_t rows, size_t cols, float* out) {
  const size_t n = rows * cols;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = w[i] * (keep[i / cols] ? scale : 0.0f);
}

__global__ void add_row_kept_kernel(const float* g, const uint8_t* keep, float scale, size_t rows, size_t cols, float* acc) {
  const size_t n = rows * cols;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    if (keep[i / cols]) acc[i] += g[i] * scale;
}

}  // namespace

void Bernoulli(cudaStream_t stream, const masks::Key& key, float p, size_t n, uint8_t* keep) {
  if (n == 0) return;
  // the stream's seed from the key, on the host exactly as the CPU derives it
  bernoulli_kernel<<<grid_for((n + 3) / 4), kThreads, 0, stream>>>(masks::StreamSeed(key), p, n, keep);
  EVNN_CUDA_LAUNCHED("masks Bernoulli");
}

void ApplyKeep(cudaStream_t stream, const float* x, const uint8_t* keep, float p, size_t n, float* y) {
  if (n == 0) return;
  apply_keep_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, keep, 1.0f / (1.0f - p), n, y);
  EVNN_CUDA_LAUNCHED("masks ApplyKeep");
}

void ApplyRowKeep(cudaStream_t stream, const float* w, const uint8_t* keep, float p, size_t rows, size_t cols, float* out) {
  if (rows == 0 || cols == 0) return;
  apply_row_keep_kernel<<<grid_for(rows * cols), kThreads, 0, stream>>>(w, keep, 1.0f / (1.0f - p), rows, cols, out);
  EVNN_CUDA_LAUNCHED("masks ApplyRowKeep");
}

void AddRowKept(cudaStream_t stream, const float* g, const uint8_t* keep, float p, size_t rows, size_t cols, float* acc) {
  if (rows == 0 || cols == 0) return;
  add_row_kept_kernel<<<grid_for(rows * cols), kThreads, 0, stream>>>(g, keep, 1.0f / (1.0f - p), rows, cols, acc);
  EVNN_CUDA_LAUNCHED("masks AddRowKept");
}

}  // namespace cuda
}  // namespace evnn
