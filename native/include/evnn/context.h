// Where an engine call runs: the backend, its stream and a scratch workspace. Every layer's
// Forward/Backward takes a Context first, so a CUDA backend can run the same calls on a stream
// with device scratch, and the CPU backend reuses its scratch across calls instead of
// allocating per call.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

namespace evnn {

enum class Backend { kCpu, kCuda };

// Scratch memory for the duration of one engine call: a bump arena of blocks that never move,
// so every pointer taken stays valid until the Scope that took it ends. Not thread-safe: one
// workspace per thread of execution (the binding keeps one per worker thread).
class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // n floats of uninitialised scratch (64-byte aligned), or zero-filled with Zeros.
  float* Floats(size_t n);
  float* Zeros(size_t n);

  // Releases everything taken after it was made when it goes out of scope.
  class Scope {
   public:
    explicit Scope(Workspace& ws) : ws_(ws), block_(ws.block_), used_(ws.used_) {}
    ~Scope() { ws_.Release(block_, used_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Workspace& ws_;
    size_t block_, used_;
  };

  size_t capacity_floats() const;  // for tests and info

 private:
  void Release(size_t block, size_t used) { block_ = block, used_ = used; }
  struct Block {
    std::unique_ptr<float[]> raw;
    float* data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;  // block being filled
  size_t used_ = 0;   // floats used in it
};

struct Context {
  Backend backend = Backend::kCpu;
  void* stream = nullptr;          // cudaStream_t on the CUDA backend; unused on the CPU
  Workspace* workspace = nullptr;  // scratch; never null for a context made by ThreadContext()
};

// The CPU context of the calling thread, with that thread's own workspace.
Context ThreadContext();

}  // namespace evnn
