// The CUDA kernels (src/cuda/kernels.h) against their CPU twins (issue 8), on a GPU. Without a
// CUDA device it prints that it was skipped and exits 0. What it checks:
//  1. Philox keep-masks: the same bits as masks::Bernoulli for several keys, p and lengths (not a
//     multiple of 4); ApplyKeep / ApplyRowKeep / AddRowKept equal to the CPU's;
//  2. SGD (momentum, dampening, Nesterov, weight decay, first step) and Adam / AdamW over several
//     steps: within 2 ulp-ish (1e-6 relative) of the CPU (the same element code; the compilers
//     may fuse multiply-adds differently);
//  3. the global norm and clipping: the norm to 1e-12 relative (float64 partial sums per fixed
//     block), the clipped gradients to 1e-6;
//  4. softmax cross-entropy: loss to 1e-9 relative, the correct count equal, dlogits to 1e-7
//     absolute, a label outside [0, K) rejected with the CPU's message.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "cuda_check.h"
#include "evnn/context.h"
#include "evnn/loss.h"
#include "evnn/masks.h"
#include "evnn/optim.h"
#include "kernels.h"

using namespace evnn::check;
namespace cu = evnn::cuda;

namespace {

template <typename T>
struct Dev {  // a device copy of a host vector
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(const std::vector<T>& h) : n(h.size()) {
    EVNN_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
    if (n) EVNN_CUDA_CHECK(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~Dev() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    if (n) EVNN_CUDA_CHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::fabs(double(a[i]) - b[i]) / std::max(1e-30, std::fabs(double(b[i]))));
  return e;
}
double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::fabs(double(a[i]) - b[i]));
  return e;
}
FVec rand_f(Rng& rng, size_t n, double a) { return to_f(random_vec(rng, n, a)); }

void check_masks(const evnn::Context& ctx) {
  for (const size_t n : {size_t(1), size_t(7), size_t(1000003)})
    for (const float p : {0.1f, 0.5f, 0.9f}) {
      const evnn::masks::Key key{12345u + n, 3, 17, 2, evnn::masks::Purpose::kZoneout};
      std::vector<uint8_t> cpu(n);
      evnn::masks::Bernoulli(ctx, key, p, n, cpu.data());
      Dev<uint8_t> d{std::vector<uint8_t>(n, 2)};
      cu::Bernoulli(nullptr, key, p, n, d.p);
      expect(d.get() == cpu, "Bernoulli n=" + std::to_string(n) + " p=" + std::to_string(p) + ": the CPU's bits");
    }
  Rng rng(5);
  const size_t rows = 37, cols = 129, n = rows * cols;
  const FVec x = rand_f(rng, n, 1.0), acc0 = rand_f(rng, n, 1.0);
  std::vector<uint8_t> keep(n), row_keep(rows);
  for (auto& k : keep) k = rng.u01() < 0.7;
  for (auto& k : row_keep) k = rng.u01() < 0.6;
  FVec y(n), out(n), acc = acc0;
  evnn::masks::ApplyKeep(ctx, x.data(), keep.data(), 0.3f, n, y.data());
  evnn::masks::ApplyRowKeep(ctx, x.data(), row_keep.data(), 0.4f, rows, cols, out.data());
  evnn::masks::AddRowKept(ctx, x.data(), row_keep.data(), 0.4f, rows, cols, acc.data());
  Dev<float> dx(x), dy{FVec(n)}, dout{FVec(n)}, dacc(acc0);
  Dev<uint8_t> dk(keep), drk(row_keep);
  cu::ApplyKeep(nullptr, dx.p, dk.p, 0.3f, n, dy.p);
  cu::ApplyRowKeep(nullptr, dx.p, drk.p, 0.4f, rows, cols, dout.p);
  cu::AddRowKept(nullptr, dx.p, drk.p, 0.4f, rows, cols, dacc.p);
  expect(max_abs(dy.get(), y) == 0, "ApplyKeep: the CPU's values");
  expect(max_abs(dout.get(), out) == 0, "ApplyRowKeep: the CPU's values");
  expect(max_abs(dacc.get(), acc) <= 1e-7, "AddRowKept: the CPU's values");
}

void check_optim() {
  Rng rng(7);
  const size_t n = 100003;
  for (int variant = 0; variant < 4; ++variant) {
    evnn::optim::SgdOptions o{0.05, variant == 0 ? 0.0 : 0.9, variant == 2 ? 0.1 : 0.0, variant == 3 ? 1e-2 : 0.0, variant == 3, true};
    FVec p = rand_f(rng, n, 1.0), buf(n, 0.0f);
    Dev<float> dp(p), dbuf(buf);
    for (int step = 0; step < 3; ++step) {
      o.first_step = step == 0;
      const FVec g = rand_f(rng, n, 1.0);
      Dev<float> dg(g);
      evnn::optim::SgdStep(n, p.data(), g.data(), buf.data(), o);
      cu::SgdStep(nullptr, n, dp.p, dg.p, o.momentum != 0.0 ? dbuf.p : nullptr, o);
    }
    const double e = max_rel(dp.get(), p);
    expect(e <= 1e-6, "SGD variant " + std::to_string(variant) + ": parameters within 1e-6 of the CPU (" + std::to_string(e) + ")");
  }
  for (const bool decoupled : {false, true}) {
    FVec p = rand_f(rng, n, 1.0), m(n, 0.0f), v(n, 0.0f);
    Dev<float> dp(p), dm(m), dv(v);
    for (long long step = 1; step <= 4; ++step) {
      const evnn::optim::AdamOptions o{1e-3, 0.9, 0.999, 1e-8, 0.01, step, decoupled};
      const FVec g = rand_f(rng, n, 1.0);
      Dev<float> dg(g);
      evnn::optim::AdamStep(n, p.data(), g.data(), m.data(), v.data(), o);
      cu::AdamStep(nullptr, n, dp.p, dg.p, dm.p, dv.p, o);
    }
    const double e = std::max(max_rel(dp.get(), p), max_rel(dm.get(), m));
    expect(e <= 1e-6, std::string(decoupled ? "AdamW" : "Adam") + ": parameters and moments within 1e-6 of the CPU (" + std::to_string(e) + ")");
  }
  // the global norm over two arrays (one spanning several norm blocks), then clipping
  FVec a = rand_f(rng, 70001, 1.0), b = rand_f(rng, 13, 5.0);
  Dev<float> da(a), db(b);
  evnn::optim::Span hs[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  evnn::optim::Span ds[2] = {{da.p, a.size()}, {db.p, b.size()}};
  const double nc = evnn::optim::GlobalNorm(hs, 2), ng = cu::GlobalNorm(nullptr, ds, 2);
  expect(std::fabs(nc - ng) <= 1e-12 * nc, "GlobalNorm: " + std::to_string(ng) + " vs the CPU's " + std::to_string(nc));
  evnn::optim::ClipGlobalNorm(hs, 2, 1.0);
  cu::ClipGlobalNorm(nullptr, ds, 2, 1.0);
  expect(max_rel(da.get(), a) <= 1e-6 && max_rel(db.get(), b) <= 1e-6, "ClipGlobalNorm: clipped as the CPU clips");
}

void check_loss() {
  Rng rng(9);
  for (const int K : {3, 10, 10000}) {
    const int N = 67;
    FVec logits = rand_f(rng, size_t(N) * K, 4.0);
    logits[5] = logits[6] = 30.0f;  // a tie in row 0 (K ≥ 7) or across rows: the first index wins
    std::vector<int32_t> labels(N);
    for (auto& l : labels) l = int32_t(rng.next() % uint64_t(K));
    FVec dl(size_t(N) * K);
    const evnn::loss::CrossEntropyResult rc = evnn::loss::SoftmaxCrossEntropy(N, K, logits.data(), labels.data(), dl.data());
    Dev<float> dlg(logits), ddl{FVec(size_t(N) * K)};
    Dev<int32_t> dlab(labels);
    const evnn::loss::CrossEntropyResult rg = cu::SoftmaxCrossEntropy(nullptr, N, K, dlg.p, dlab.p, ddl.p);
    const std::string tag = "cross-entropy K=" + std::to_string(K);
    expect(std::fabs(rc.loss - rg.loss) <= 1e-9 * std::fabs(rc.loss), tag + ": loss " + std::to_string(rg.loss) + " vs " + std::to_string(rc.loss));
    expect(rc.correct == rg.correct, tag + ": correct " + std::to_string(rg.correct) + " vs " + std::to_string(rc.correct));
    expect(max_abs(ddl.get(), dl) <= 1e-7, tag + ": dlogits");
    labels[3] = int32_t(K);
    Dev<int32_t> bad(labels);
    expect_throws([&] { cu::SoftmaxCrossEntropy(nullptr, N, K, dlg.p, bad.p, ddl.p); }, "labels[3] = " + std::to_string(K) + " is outside",
                  tag + ": a bad label");
  }
}

}  // namespace

int main() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device (%s); the CUDA kernels were not run\n", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 0;
  }
  cudaDeviceProp prop;
  EVNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device 0: %s\n", prop.name);
  const evnn::Context ctx = evnn::ThreadContext();
  check_masks(ctx);
  check_optim();
  check_loss();
  return summary();
}
