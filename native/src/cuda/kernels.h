// The CUDA backend's elementwise and row kernels (issue 8), each the device twin of a CPU engine
// function: the same formulas, float32 values, device pointers, work queued on `stream`.
//   masks:  Bernoulli, ApplyKeep, ApplyRowKeep, AddRowKept   (evnn/masks.h; the same Philox stream)
//   optim:  SgdStep, AdamStep, GlobalNorm, ClipGlobalNorm     (evnn/optim.h)
//   loss:   SoftmaxCrossEntropy                               (evnn/loss.h)
// Not yet dispatched to by the engine (device: cuda is refused until the CUDA backend is whole).
// native/tests/cuda_check.cu compares each with its CPU twin on a GPU.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "evnn/loss.h"
#include "evnn/masks.h"
#include "evnn/optim.h"

namespace evnn {
namespace cuda {

void Bernoulli(cudaStream_t stream, const masks::Key& key, float p, size_t n, uint8_t* keep);
void ApplyKeep(cudaStream_t stream, const float* x, const uint8_t* keep, float p, size_t n, float* y);
void ApplyRowKeep(cudaStream_t stream, const float* w, const uint8_t* keep, float p, size_t rows, size_t cols, float* out);
void AddRowKept(cudaStream_t stream, const float* g, const uint8_t* keep, float p, size_t rows, size_t cols, float* acc);

void SgdStep(cudaStream_t stream, size_t n, float* p, const float* g, float* buf, const optim::SgdOptions& o);
void AdamStep(cudaStream_t stream, size_t n, float* p, const float* g, float* m, float* v, const optim::AdamOptions& o);
// sqrt(Σ g²) over device arrays, in float64 (blocks of optim's fixed size, then in order); the
// one number comes back to the host (the call waits for the stream).
double GlobalNorm(cudaStream_t stream, const optim::Span* grads, size_t count);
double ClipGlobalNorm(cudaStream_t stream, const optim::Span* grads, size_t count, double max_norm);

// logits, labels and dlogits on the device; the loss and the count of correct rows come back.
// A label outside [0, K) throws std::invalid_argument naming the first such row, as the CPU does.
loss::CrossEntropyResult SoftmaxCrossEntropy(cudaStream_t stream, int N, int K, const float* logits,
                                             const int32_t* labels, float* dlogits);

}  // namespace cuda
}  // namespace evnn
