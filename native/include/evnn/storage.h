// Engine-owned memory for tensors that live across calls (parameters and their gradients): a
// CPU backend keeps them in host memory the JavaScript side views without copying; a CUDA backend
// keeps them on the device, and the host sees only what it copies back.
#pragma once
#include <cstddef>
#include <memory>

#include "evnn/context.h"

namespace evnn {

class Storage {
 public:
  // Zero-filled, 64-byte aligned.
  static std::shared_ptr<Storage> Allocate(Backend backend, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Backend backend() const { return backend_; }

 private:
  Storage(Backend b, void* data, size_t bytes) : backend_(b), data_(data), bytes_(bytes) {}
  Backend backend_;
  void* data_;
  size_t bytes_;
};

}  // namespace evnn
