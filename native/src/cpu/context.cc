// The CPU workspace: blocks of at least 1 Mi floats, kept for the thread's life and reused.
#include "evnn/context.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace evnn {

namespace {
constexpr size_t kMinBlockFloats = size_t(1) << 20;
constexpr size_t kAlignFloats = 16;  // 64 bytes
size_t RoundUp(size_t n) { return (std::max<size_t>(n, 1) + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
}  // namespace

float* Workspace::Floats(size_t n) {
  n = RoundUp(n);
  // The current block, then any later (already allocated, now free) block that is large enough.
  while (block_ < blocks_.size()) {
    Block& b = blocks_[block_];
    if (b.size - used_ >= n) {
      float* p = b.data + used_;
      used_ += n;
      return p;
    }
    ++block_;
    used_ = 0;
  }
  const size_t size = std::max(kMinBlockFloats, n);
  std::unique_ptr<float[]> raw(new float[size + kAlignFloats]);
  float* data = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(raw.get()) + 63) & ~uintptr_t(63));
  blocks_.push_back(Block{std::move(raw), data, size});
  block_ = blocks_.size() - 1;
  used_ = n;
  return data;
}

float* Workspace::Zeros(size_t n) {
  float* p = Floats(n);
  std::memset(p, 0, std::max<size_t>(n, 1) * sizeof(float));
  return p;
}

size_t Workspace::capacity_floats() const {
  size_t s = 0;
  for (const Block& b : blocks_) s += b.size;
  return s;
}

Context ThreadContext() {
  thread_local Workspace ws;
  return Context{Backend::kCpu, nullptr, &ws};
}

}  // namespace evnn
