// Softmax cross-entropy on the device (kernels.h; the CPU's is src/cpu/loss.cc): one thread block
// per row finds the row's maximum (the first index among equal maxima, as the CPU), sums
// exp_clamped(x − max) (the CPU's polynomial, src/cpu/vec_math.h) in float64, writes the gradient
// (softmax − onehot)/N and the row's loss and hit; the N row results come back and are added in
// row order on the host, as the CPU adds them.
#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "kernels.h"
#include "vec_math.h"

namespace evnn {
namespace cuda {
namespace {

constexpr int kThreads = 128;

__global__ void cross_entropy_kernel(int K, const float* logits, const int32_t* labels, float* dlogits, double inv_n,
                                     double* row_loss, int* row_hit, int* first_bad) {
  __shared__ float best[kThreads];
  __shared__ int best_at[kThreads];
  __shared__ double sum[kThreads];
  const int r = blockIdx.x;
  const float* x = logits + size_t(r) * K;
  const int label = labels[r];
  if (label < 0 || label >= K) {
    if (threadIdx.x == 0) atomicMin(first_bad, r);
    return;
  }
  // the maximum, ties to the lowest index
  float m = x[0];
  int at = 0;
  for (int j = threadIdx.x; j < K; j += blockDim.x)
    if (x[j] > m || (x[j] == m && j < at)) m = x[j], at = j;
  best[threadIdx.x] = m, best_at[threadIdx.x] = at;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) {
      const float o = best[threadIdx.x + w];
      const int oa = best_at[threadIdx.x + w];
      if (o > best[threadIdx.x] || (o == best[threadIdx.x] && oa < best_at[threadIdx.x]))
        best[threadIdx.x] = o, best_at[threadIdx.x] = oa;
    }
    __syncthreads();
  }
  m = best[0], at = best_at[0];
  double s = 0.0;
  for (int j = threadIdx.x; j < K; j += blockDim.x) s += double(vmath::exp_clamped(x[j] - m));
  sum[threadIdx.x] = s;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) sum[threadIdx.x] += sum[threadIdx.x + w];
    __syncthreads();
  }
  s = sum[0];
  if (dlogits) {
    float* e = dlogits + size_t(r) * K;
    const float scale = float(inv_n / s);
    for (int j = threadIdx.x; j < K; j += blockDim.x) e[j] = vmath::exp_clamped(x[j] - m) * scale - (j == label ? float(inv_n) : 0.0f);
  }
  if (threadIdx.x == 0) {
    row_loss[r] = double(m) + log(s) - double(x[label]);
    row_hit[r] = at == label;
  }
}

}  // namespace

loss::CrossEntropyResult SoftmaxCrossEntropy(cudaStream_t stream, int N, int K, const float* logits,
                                             const int32_t* labels, float* dlogits) {
  if (N < 1 || K < 1)
    throw std::invalid_argument("evnn::cuda::SoftmaxCrossEntropy: N and K must be >= 1, got N=" + std::to_string(N) +
                                " K=" + std::to_string(K));
  double* row_loss = nullptr;
  int* row_hit = nullptr;
  int* first_bad = nullptr;
  EVNN_CUDA_CHECK(cudaMallocAsync(&row_loss, size_t(N) * sizeof(double), stream));
  EVNN_CUDA_CHECK(cudaMallocAsync(&row_hit, size_t(N) * sizeof(int), stream));
  EVNN_CUDA_CHECK(cudaMallocAsync(&first_bad, sizeof(int), stream));
  const int none = INT_MAX;
  EVNN_CUDA_CHECK(cudaMemcpyAsync(first_bad, &none, sizeof(int), cudaMemcpyHostToDevice, stream));
  cross_entropy_kernel<<<unsigned(N), kThreads, 0, stream>>>(K, logits, labels, dlogits, 1.0 / N, row_loss, row_hit, first_bad);
  EVNN_CUDA_LAUNCHED("loss SoftmaxCrossEntropy");
  std::vector<double> host_loss(static_cast<size_t>(N));
  std::vector<int> host_hit(static_cast<size_t>(N));
  int bad = INT_MAX, bad_label = 0;
  EVNN_CUDA_CHECK(cudaMemcpyAsync(host_loss.data(), row_loss, size_t(N) * sizeof(double), cudaMemcpyDeviceToHost, stream));
  EVNN_CUDA_CHECK(cudaMemcpyAsync(host_hit.data(), row_hit, size_t(N) * sizeof(int), cudaMemcpyDeviceToHost, stream));
  EVNN_CUDA_CHECK(cudaMemcpyAsync(&bad, first_bad, sizeof(int), cudaMemcpyDeviceToHost, stream));
  EVNN_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (bad != INT_MAX) EVNN_CUDA_CHECK(cudaMemcpy(&bad_label, labels + bad, sizeof(int32_t), cudaMemcpyDeviceToHost));
  EVNN_CUDA_CHECK(cudaFreeAsync(row_loss, stream));
  EVNN_CUDA_CHECK(cudaFreeAsync(row_hit, stream));
  EVNN_CUDA_CHECK(cudaFreeAsync(first_bad, stream));
  if (bad != INT_MAX)
    throw std::invalid_argument("evnn::cuda::SoftmaxCrossEntropy: labels[" + std::to_string(bad) + "] = " +
                                std::to_string(bad_label) + " is outside [0, " + std::to_string(K) + ")");
  loss::CrossEntropyResult res{0.0, 0};
  for (int i = 0; i < N; ++i) res.loss += host_loss[size_t(i)], res.correct += host_hit[size_t(i)];
  res.loss *= 1.0 / N;  // as the CPU: the row sum times 1/N
  return res;
}

}  // namespace cuda
}  // namespace evnn
